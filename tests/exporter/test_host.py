import os
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.host import HostCollector, Partition, PsutilSource
from exporter.collectors.instrumented import InstrumentedCollectors
from exporter.settings import AgentSettings
from tests.conftest import meminfo_total_bytes


def samples(collector: Any) -> dict[str, list[Any]]:
    registry = CollectorRegistry()
    registry.register(collector)
    out: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def test_real_machine_values_are_sane() -> None:
    collector = HostCollector()
    first = samples(collector)
    busy = sum(i for i in range(3_000_000))  # spend some CPU
    assert busy > 0
    time.sleep(0.05)
    second = samples(collector)

    def total_cpu(s: dict[str, list[Any]]) -> float:
        return sum(x.value for x in s["benchhub_host_cpu_seconds_total"])

    assert total_cpu(second) > total_cpu(first)
    assert second["benchhub_host_memory_total_bytes"][0].value == meminfo_total_bytes()
    modes = {x.labels["mode"] for x in second["benchhub_host_cpu_seconds_total"]}
    assert {"user", "system", "idle"} <= modes
    assert {x.labels["cpu"] for x in second["benchhub_host_cpu_seconds_total"]} == {
        str(i) for i in range(os.cpu_count() or 1)
    }
    assert "/" in {x.labels["mountpoint"] for x in second["benchhub_host_filesystem_size_bytes"]}
    assert "lo" in {x.labels["device"] for x in second["benchhub_host_network_receive_bytes_total"]}
    assert second["benchhub_host_boot_time_seconds"][0].value < time.time()


class FakeSource(PsutilSource):
    """The real machine, except for the partitions and their statvfs."""

    def partitions(self) -> Sequence[Partition]:
        return [
            Partition("/dev/sda1", "/", "ext4"),
            Partition("/dev/sdb1", "/gone", "xfs"),
            Partition("overlay", "/var/lib/containers/x", "overlay"),
            Partition("proc", "/proc", "proc"),
        ]

    def statvfs(self, mountpoint: str) -> Any:
        if mountpoint == "/gone":
            raise OSError(5, "unmounted since listed")
        return SimpleNamespace(f_blocks=100, f_frsize=4096, f_bavail=40, f_bfree=50, f_files=10, f_ffree=7)


def test_filesystems_skip_pseudo_overlay_and_vanished_mounts() -> None:
    got = samples(HostCollector(FakeSource()))
    sizes = {x.labels["mountpoint"]: x.value for x in got["benchhub_host_filesystem_size_bytes"]}
    assert sizes == {"/": 409600.0}
    assert got["benchhub_host_filesystem_avail_bytes"][0].value == 40 * 4096
    assert got["benchhub_host_filesystem_files_free"][0].value == 7


class BrokenSource(PsutilSource):
    def cpu_times(self) -> Sequence[Any]:
        raise PermissionError("no /proc/stat")


def test_a_failing_collector_is_reported_and_the_rest_answers() -> None:
    got = samples(InstrumentedCollectors({"host": HostCollector(BrokenSource()), "ok": HostCollector()}))
    success = {x.labels["collector"]: x.value for x in got["benchhub_agent_collector_success"]}
    assert success == {"host": 0.0, "ok": 1.0}
    assert len(got["benchhub_host_memory_total_bytes"]) == 1  # from the working one only


def test_fs_exclude_types_come_from_the_environment(monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("BENCHHUB_AGENT_FS_EXCLUDE_TYPES", '["ext4"]')
    settings = AgentSettings(state_dir=tmp_path)
    got = samples(HostCollector(FakeSource(), fs_exclude=settings.fs_exclude_types))
    mounts = {x.labels["mountpoint"] for x in got["benchhub_host_filesystem_size_bytes"]}
    assert mounts == {"/var/lib/containers/x", "/proc"}  # only ext4 excluded now; /gone vanished
