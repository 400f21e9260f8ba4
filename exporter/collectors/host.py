"""Host metrics from psutil, named and labelled like node_exporter's (benchhub_host_*)."""

from __future__ import annotations

import logging
import os
import platform
import socket
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, Protocol

import psutil
from prometheus_client.core import Metric

from exporter import metrics as m

log = logging.getLogger("exporter.collectors.host")

CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
# Not storage: kernel and container pseudo filesystems, as node_exporter excludes by default.
DEFAULT_FS_EXCLUDE = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
    "fusectl", "hugetlbfs", "iso9660", "mqueue", "nsfs", "overlay", "proc", "procfs", "pstore",
    "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tracefs", "tmpfs", "ramfs",
    "aufs", "shm", "fuse.lxcfs", "nfsd", "zram",
})  # fmt: skip


class Partition(NamedTuple):
    device: str
    mountpoint: str
    fstype: str


class HostSource(Protocol):
    """Where host numbers come from; psutil in production, fakes in tests."""

    def cpu_times(self) -> Sequence[Any]: ...
    def load(self) -> tuple[float, float, float]: ...
    def memory(self) -> Any: ...
    def swap(self) -> Any: ...
    def partitions(self) -> Sequence[Partition]: ...
    def statvfs(self, mountpoint: str) -> os.statvfs_result: ...
    def disk_io(self) -> dict[str, Any]: ...
    def net_io(self) -> dict[str, Any]: ...
    def context_switches(self) -> int: ...
    def boot_time(self) -> float: ...


class PsutilSource:
    """The real machine, through psutil (Linux and macOS)."""

    def cpu_times(self) -> Sequence[Any]:
        return list(psutil.cpu_times(percpu=True))

    def load(self) -> tuple[float, float, float]:
        return psutil.getloadavg()

    def memory(self) -> Any:
        return psutil.virtual_memory()

    def swap(self) -> Any:
        return psutil.swap_memory()

    def partitions(self) -> Sequence[Partition]:
        return [Partition(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=True)]

    def statvfs(self, mountpoint: str) -> os.statvfs_result:
        return os.statvfs(mountpoint)

    def disk_io(self) -> dict[str, Any]:
        return dict(psutil.disk_io_counters(perdisk=True) or {})

    def net_io(self) -> dict[str, Any]:
        return dict(psutil.net_io_counters(pernic=True))

    def context_switches(self) -> int:
        return int(psutil.cpu_stats().ctx_switches)

    def boot_time(self) -> float:
        return float(psutil.boot_time())


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class HostCollector:
    """CPU, load, memory, filesystems, disks, network, context switches, boot time, info."""

    def __init__(
        self,
        source: HostSource | None = None,
        fs_exclude: frozenset[str] = DEFAULT_FS_EXCLUDE,
        hostname: str | None = None,
    ) -> None:
        self._source = source or PsutilSource()
        self._fs_exclude = fs_exclude
        uname = platform.uname()
        self._info = [
            hostname or socket.gethostname(), uname.system, uname.release, _cpu_model(),
            str(psutil.cpu_count(logical=True) or 0), str(psutil.cpu_count(logical=False) or 0),
        ]  # fmt: skip

    def collect(self) -> Iterator[Metric]:
        src = self._source
        cpu = m.HOST_CPU_SECONDS.new_family()
        for index, times in enumerate(src.cpu_times()):
            for mode in CPU_MODES:
                if hasattr(times, mode):
                    cpu.add_metric([str(index), mode], float(getattr(times, mode)))
        yield cpu
        for spec, value in zip((m.HOST_LOAD1, m.HOST_LOAD5, m.HOST_LOAD15), src.load(), strict=True):
            gauge = spec.new_family()
            gauge.add_metric([], value)
            yield gauge
        memory, swap = src.memory(), src.swap()
        values = {
            "total": memory.total, "available": memory.available, "free": memory.free,
            "buffers": getattr(memory, "buffers", 0), "cached": getattr(memory, "cached", 0),
            "swap_total": swap.total, "swap_free": swap.free,
        }  # fmt: skip
        for field, spec in m.HOST_MEMORY.items():
            gauge = spec.new_family()
            gauge.add_metric([], float(values[field]))
            yield gauge
        info = m.HOST_INFO.new_family()
        info.add_metric([*self._info, str(memory.total)], 1.0)
        yield info
        yield from self._filesystems()
        yield from self._per_device(src.disk_io(), m.HOST_DISK, scale={"busy_time": 0.001})
        yield from self._per_device(src.net_io(), m.HOST_NETWORK, scale={})
        switches = m.HOST_CONTEXT_SWITCHES.new_family()
        switches.add_metric([], float(src.context_switches()))
        yield switches
        boot = m.HOST_BOOT_TIME.new_family()
        boot.add_metric([], src.boot_time())
        yield boot

    def _filesystems(self) -> Iterator[Metric]:
        families = {key: spec.new_family() for key, spec in m.HOST_FILESYSTEM.items()}
        seen: set[str] = set()
        for part in self._source.partitions():
            if part.fstype in self._fs_exclude or part.mountpoint in seen:
                continue
            seen.add(part.mountpoint)
            try:
                st = self._source.statvfs(part.mountpoint)
            except OSError as exc:  # unmounted or unreadable since listed: skip that one only
                log.debug("statvfs %s: %s", part.mountpoint, exc)
                continue
            labels = [part.device, part.mountpoint, part.fstype]
            families["size"].add_metric(labels, float(st.f_blocks * st.f_frsize))
            families["avail"].add_metric(labels, float(st.f_bavail * st.f_frsize))
            families["free"].add_metric(labels, float(st.f_bfree * st.f_frsize))
            families["files"].add_metric(labels, float(st.f_files))
            families["files_free"].add_metric(labels, float(st.f_ffree))
        yield from families.values()

    @staticmethod
    def _per_device(
        counters: dict[str, Any], specs: dict[str, m.MetricSpec], scale: dict[str, float]
    ) -> Iterator[Metric]:
        for field, spec in specs.items():
            family = spec.new_family()
            for device, values in sorted(counters.items()):
                family.add_metric([device], float(getattr(values, field)) * scale.get(field, 1.0))
            yield family
