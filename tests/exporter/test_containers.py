"""The container collector against real containers (Podman's Docker API), and cgroup edge cases."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from exporter.app import create_app
from exporter.cgroups import CgroupReader, cgroup_paths, net_dev
from exporter.collectors.container import ContainerCollector, ContainerInfo, DockerSource
from exporter.collectors.instrumented import InstrumentedCollectors
from exporter.exposition import render
from exporter.settings import AgentSettings
from tests.podman import IMAGE, podman_service
from tests.servers import serve_app

MiB = 1 << 20


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with podman_service() as url:
        yield url


@pytest.fixture(scope="module")
def client(api: str) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=api)
    yield client
    client.close()


def scrape(collector: object) -> dict[tuple[str, str], float]:
    """(sample name, container name or '') -> value, plus the raw samples for label checks."""
    registry = CollectorRegistry()
    registry.register(InstrumentedCollectors({"container": collector}))  # type: ignore[dict-item]
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(render(registry.collect()).decode()):
        for s in family.samples:
            key = s.labels.get("name", s.labels.get("collector", ""))
            out[(s.name + (f"/{s.labels['interface']}" if "interface" in s.labels else ""), key)] = s.value
    return out


def test_real_containers_cpu_memory_processes_limits_and_labels(
    api: str, client: docker.DockerClient
) -> None:
    burner = client.containers.run(IMAGE, ["sh", "-c", "while :; do :; done"], detach=True, name="bhub-burner",
                                   network_mode="none", mem_limit="64m",
                                   labels={"com.docker.compose.project": "demo", "com.docker.compose.service": "cpu"})  # fmt: skip
    sleepy = client.containers.run(IMAGE, ["sh", "-c", "sleep 300 & sleep 300; true"], detach=True, name="bhub-sleepy",
                                   network_mode="host")  # fmt: skip
    try:
        collector = ContainerCollector(DockerSource(api), CgroupReader())
        first = scrape(collector)
        time.sleep(1.0)
        second = scrape(collector)
        assert second[("benchhub_container_runtime_up", "")] == 1.0
        assert second[("benchhub_agent_collector_success", "container")] == 1.0
        burned = (
            second[("benchhub_container_cpu_usage_seconds_total", "bhub-burner")]
            - first[("benchhub_container_cpu_usage_seconds_total", "bhub-burner")]
        )
        assert 0.5 < burned < 1.5, burned  # a busy loop burns about one core-second a second
        user = second[("benchhub_container_cpu_user_seconds_total", "bhub-burner")]
        system = second[("benchhub_container_cpu_system_seconds_total", "bhub-burner")]
        assert user + system == pytest.approx(
            second[("benchhub_container_cpu_usage_seconds_total", "bhub-burner")], abs=0.1
        )
        assert second[("benchhub_container_spec_memory_limit_bytes", "bhub-burner")] == 64 * MiB
        assert second[("benchhub_container_spec_memory_limit_bytes", "bhub-sleepy")] == 0  # no limit
        usage = second[("benchhub_container_memory_usage_bytes", "bhub-sleepy")]
        assert 0 < second[("benchhub_container_memory_working_set_bytes", "bhub-sleepy")] <= usage
        assert second[("benchhub_container_processes", "bhub-sleepy")] == 3  # sh and two sleeps
        started = second[("benchhub_container_start_time_seconds", "bhub-burner")]
        assert abs(started - time.time()) < 60
        assert second[("benchhub_container_info", "bhub-burner")] == 1.0
        # network: none has only loopback (left out); host shares the host's interfaces
        assert not [k for k in second if k[1] == "bhub-burner" and "network" in k[0]]
        host_ifaces = {d.interface for d in net_dev(Path("/proc/net/dev").read_text())}
        seen = {
            k[0].split("/")[1] for k in second if k[1] == "bhub-sleepy" and "network_receive_bytes" in k[0]
        }
        assert seen == host_ifaces
    finally:
        burner.remove(force=True)
        sleepy.remove(force=True)


def test_labels_follow_cadvisor_and_compose(api: str, client: docker.DockerClient) -> None:
    box = client.containers.run(IMAGE, ["sleep", "300"], detach=True, name="bhub-labelled", network_mode="none",
                                labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "db"})  # fmt: skip
    try:
        registry = CollectorRegistry()
        registry.register(ContainerCollector(DockerSource(api), CgroupReader()))
        families = {f.name: f for f in text_string_to_metric_families(render(registry.collect()).decode())}
        (info,) = [
            s for s in families["benchhub_container_info"].samples if s.labels["name"] == "bhub-labelled"
        ]
        assert info.labels == {"id": box.id, "name": "bhub-labelled", "image": IMAGE,
                               "compose_project": "shop", "compose_service": "db"}  # fmt: skip
    finally:
        box.remove(force=True)


class WithGhost:
    """The real list plus a container that vanished after the list was taken."""

    def __init__(self, real: DockerSource) -> None:
        self._real = real

    def running(self) -> list[ContainerInfo]:
        ghost = ContainerInfo(id="0" * 64, name="ghost", image="x", labels={}, pid=2**22 + 7, started_at=None)
        return [ghost, *self._real.running()]


def test_a_container_vanishing_mid_scrape_costs_only_its_own_series(
    api: str, client: docker.DockerClient
) -> None:
    box = client.containers.run(IMAGE, ["sleep", "300"], detach=True, name="bhub-stays", network_mode="none")
    try:
        values = scrape(ContainerCollector(WithGhost(DockerSource(api)), CgroupReader()))
        assert values[("benchhub_agent_collector_success", "container")] == 1.0
        assert ("benchhub_container_processes", "bhub-stays") in values
        assert not [k for k in values if k[1] == "ghost"]
    finally:
        box.remove(force=True)


def test_no_container_api_is_reported_and_the_scrape_goes_on(tmp_path: Path) -> None:
    values = scrape(ContainerCollector(DockerSource(f"unix://{tmp_path}/no.sock"), CgroupReader()))
    assert values[("benchhub_container_runtime_up", "")] == 0.0
    assert values[("benchhub_agent_collector_success", "container")] == 1.0


# This host has no cgroup v2 container to read: the unified layout is written out here from the
# kernel's cgroup-v2 documentation, and a combined v1 mount (cpu,cpuacct) as systemd makes it.
def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_cgroup_v2_unified_files(tmp_path: Path) -> None:
    write(tmp_path, {
        "cgroup.controllers": "cpu memory io pids\n",
        "box/cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 4\nthrottled_usec 300000\n",
        "box/memory.current": "104857600\n", "box/memory.max": "max\n",
        "box/memory.stat": "anon 1000\nfile 50000000\ninactive_file 41943040\n",
        "box/memory.events": "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n",
        "box/io.stat": "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2\n8:16 rbytes=10 wbytes=20 rios=1 wios=1\n",
        "box/pids.current": "7\n",
    })  # fmt: skip
    stats = CgroupReader(tmp_path).stats(cgroup_paths("0::/box\n"))
    assert (stats.cpu_user_seconds, stats.cpu_system_seconds, stats.cpu_usage_seconds) == (2.0, 0.5, 2.5)
    assert (stats.cfs_periods, stats.cfs_throttled_periods, stats.cfs_throttled_seconds) == (10, 4, 0.3)
    assert (stats.memory_usage_bytes, stats.memory_working_set_bytes) == (104857600, 104857600 - 41943040)
    assert stats.memory_limit_bytes is None and stats.oom_events == 1
    assert (stats.io_read_bytes, stats.io_written_bytes, stats.processes) == (1010, 2020, 7)


def test_cgroup_v1_combined_mount_and_a_missing_cgroup(tmp_path: Path) -> None:
    write(tmp_path, {
        "cpu,cpuacct/docker/abc/cpuacct.stat": "user 150\nsystem 50\n",
        "cpu,cpuacct/docker/abc/cpuacct.usage": "2100000000\n",
        "cpu,cpuacct/docker/abc/cpu.stat": "nr_periods 5\nnr_throttled 1\nthrottled_time 2000000000\n",
        "memory/docker/abc/memory.usage_in_bytes": "3000\n", "memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n",
        "memory/docker/abc/memory.stat": "total_inactive_file 1000\n", "memory/docker/abc/memory.oom_control": "oom_kill 3\n",
    })  # fmt: skip
    paths = cgroup_paths("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n")
    stats = CgroupReader(tmp_path).stats(paths)
    assert (stats.cpu_user_seconds, stats.cpu_system_seconds, stats.cpu_usage_seconds) == (1.5, 0.5, 2.1)
    assert (stats.cfs_throttled_periods, stats.cfs_throttled_seconds) == (1, 2.0)
    assert (stats.memory_working_set_bytes, stats.memory_limit_bytes, stats.oom_events) == (2000, None, 3)
    assert stats.io_read_bytes is None and stats.processes is None  # no blkio, no pids: unknown, not 0
    with pytest.raises(FileNotFoundError):
        CgroupReader(tmp_path).stats(cgroup_paths("4:memory:/docker/gone\n"))


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool: apt-get install prometheus")
def test_promtool_passes_on_an_agent_scrape_with_containers(
    api: str, client: docker.DockerClient, tmp_path: Path
) -> None:
    box = client.containers.run(IMAGE, ["sleep", "300"], detach=True, name="bhub-linted", network_mode="host")
    try:
        settings = AgentSettings(hostname="h", state_dir=tmp_path, docker_socket=api)
        with serve_app(create_app(settings)) as agent:
            text = httpx.get(f"{agent}/metrics").text
        assert 'name="bhub-linted"' in text and "benchhub_container_network_receive_bytes_total{" in text
        proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        box.remove(force=True)


def test_the_list_is_cached_but_a_stopped_container_leaves_at_once(
    api: str, client: docker.DockerClient
) -> None:
    first = client.containers.run(
        IMAGE, ["sleep", "300"], detach=True, name="bhub-first", network_mode="none"
    )
    source = DockerSource(api, list_interval=60)
    try:
        assert [c.name for c in source.running() if c.name.startswith("bhub-")] == ["bhub-first"]
        second = client.containers.run(
            IMAGE, ["sleep", "300"], detach=True, name="bhub-second", network_mode="none"
        )
        assert "bhub-second" not in {c.name for c in source.running()}, "listed again before the interval"
        first.kill()
        assert "bhub-first" not in {c.name for c in source.running()}
        assert "bhub-second" in {c.name for c in DockerSource(api, list_interval=0).running()}
        second.remove(force=True)
    finally:
        first.remove(force=True)
