"""A container's numbers from its cgroup files, v1 (per controller) and v2 (unified), and netns.

The cgroup comes from ``/proc/<pid>/cgroup``; on a hybrid host each figure is read from the
v1 controller when the process has one, else from the unified hierarchy. Working set is
usage minus inactive_file, as cAdvisor and ``docker stats`` compute it. A file that is not
there gives None for its figures, never a made-up zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_UNLIMITED = 1 << 62  # v1 reports "no limit" as a huge page-aligned number
_USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CgroupStats:
    cpu_user_seconds: float | None = None
    cpu_system_seconds: float | None = None
    cpu_usage_seconds: float | None = None
    cfs_periods: int | None = None
    cfs_throttled_periods: int | None = None
    cfs_throttled_seconds: float | None = None
    memory_usage_bytes: int | None = None
    memory_working_set_bytes: int | None = None
    memory_limit_bytes: int | None = None  # None: no limit
    oom_events: int | None = None
    io_read_bytes: int | None = None
    io_written_bytes: int | None = None
    processes: int | None = None


@dataclass(frozen=True)
class NetDev:
    interface: str
    receive_bytes: int
    receive_packets: int
    transmit_bytes: int
    transmit_packets: int


def cgroup_paths(proc_cgroup: str) -> dict[str, str]:
    """controller -> path from /proc/<pid>/cgroup; the unified (v2) hierarchy is key ''."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            paths[""] = path
        for controller in controllers.split(","):
            if controller:
                paths[controller.removeprefix("name=")] = path
    return paths


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
        return None


def _keyed(text: str | None) -> dict[str, int]:
    """'key value' lines (cpu.stat, memory.stat, memory.events, cpuacct.stat)."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _int(text: str | None) -> int | None:
    value = (text or "").strip()
    return int(value) if value.isdigit() else None


class CgroupReader:
    """Reads cgroup files below ``root`` (default /sys/fs/cgroup); tests point it at a copy."""

    def __init__(self, root: Path = Path("/sys/fs/cgroup")) -> None:
        self.root = root

    def _v1_dir(self, controller: str, paths: dict[str, str]) -> Path | None:
        if controller not in paths:
            return None
        for mount in (controller, "cpu,cpuacct", "cpuacct,cpu"):
            if (self.root / mount).is_dir() and controller in mount.split(","):
                return self.root / mount / paths[controller].lstrip("/")
        return None

    def _v2_dir(self, paths: dict[str, str]) -> Path | None:
        if "" not in paths:
            return None
        base = self.root if (self.root / "cgroup.controllers").exists() else self.root / "unified"
        return base / paths[""].lstrip("/")

    def stats(self, paths: dict[str, str]) -> CgroupStats:
        """Every figure the files give; FileNotFoundError when the cgroup is gone."""
        v2 = self._v2_dir(paths)
        cpuacct, cpu = self._v1_dir("cpuacct", paths), self._v1_dir("cpu", paths)
        memory, blkio, pids = (self._v1_dir(c, paths) for c in ("memory", "blkio", "pids"))
        if not any(d is not None and d.is_dir() for d in (v2, cpuacct, cpu, memory, blkio, pids)):
            raise FileNotFoundError(f"no cgroup directory for {paths}")
        figures: dict[str, float | int | None] = {}
        v2_cpu = _keyed(_read(v2 / "cpu.stat")) if v2 else {}
        if cpuacct is not None and (acct := _keyed(_read(cpuacct / "cpuacct.stat"))):
            figures["cpu_user_seconds"] = acct.get("user", 0) / _USER_HZ
            figures["cpu_system_seconds"] = acct.get("system", 0) / _USER_HZ
            usage = _int(_read(cpuacct / "cpuacct.usage"))
            figures["cpu_usage_seconds"] = usage / 1e9 if usage is not None else None
        elif "usage_usec" in v2_cpu:
            figures["cpu_user_seconds"] = v2_cpu.get("user_usec", 0) / 1e6
            figures["cpu_system_seconds"] = v2_cpu.get("system_usec", 0) / 1e6
            figures["cpu_usage_seconds"] = v2_cpu["usage_usec"] / 1e6
        throttle = _keyed(_read(cpu / "cpu.stat")) if cpu is not None else {}
        if "nr_periods" in throttle:
            figures["cfs_periods"] = throttle["nr_periods"]
            figures["cfs_throttled_periods"] = throttle.get("nr_throttled", 0)
            figures["cfs_throttled_seconds"] = throttle.get("throttled_time", 0) / 1e9
        elif "nr_periods" in v2_cpu:
            figures["cfs_periods"] = v2_cpu["nr_periods"]
            figures["cfs_throttled_periods"] = v2_cpu.get("nr_throttled", 0)
            figures["cfs_throttled_seconds"] = v2_cpu.get("throttled_usec", 0) / 1e6
        figures |= self._memory(memory, v2)
        figures |= self._io(blkio, v2)
        pids_dir = pids if pids is not None else v2
        figures["processes"] = _int(_read(pids_dir / "pids.current")) if pids_dir is not None else None
        return CgroupStats(**figures)  # type: ignore[arg-type]

    def _memory(self, v1: Path | None, v2: Path | None) -> dict[str, int | None]:
        if v1 is not None and (usage := _int(_read(v1 / "memory.usage_in_bytes"))) is not None:
            stat = _keyed(_read(v1 / "memory.stat"))
            inactive = stat.get("total_inactive_file", stat.get("inactive_file", 0))
            limit = _int(_read(v1 / "memory.limit_in_bytes"))
            oom = _keyed(_read(v1 / "memory.oom_control")).get("oom_kill")
            return {"memory_usage_bytes": usage, "memory_working_set_bytes": max(usage - inactive, 0),
                    "memory_limit_bytes": limit if limit is not None and limit < _UNLIMITED else None,
                    "oom_events": oom}  # fmt: skip
        if v2 is not None and (usage := _int(_read(v2 / "memory.current"))) is not None:
            inactive = _keyed(_read(v2 / "memory.stat")).get("inactive_file", 0)
            return {"memory_usage_bytes": usage, "memory_working_set_bytes": max(usage - inactive, 0),
                    "memory_limit_bytes": _int(_read(v2 / "memory.max")),
                    "oom_events": _keyed(_read(v2 / "memory.events")).get("oom_kill")}  # fmt: skip
        return {}

    def _io(self, v1: Path | None, v2: Path | None) -> dict[str, int | None]:
        text = _read(v1 / "blkio.throttle.io_service_bytes") if v1 is not None else None
        if text is not None:
            read = written = 0
            for line in text.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[2].isdigit():
                    read += int(parts[2]) if parts[1] == "Read" else 0
                    written += int(parts[2]) if parts[1] == "Write" else 0
            return {"io_read_bytes": read, "io_written_bytes": written}
        text = _read(v2 / "io.stat") if v2 is not None else None
        if text is not None:
            fields = [kv.split("=", 1) for line in text.splitlines() for kv in line.split()[1:]]
            return {
                "io_read_bytes": sum(int(v) for k, v in fields if k == "rbytes" and v.isdigit()),
                "io_written_bytes": sum(int(v) for k, v in fields if k == "wbytes" and v.isdigit()),
            }
        return {}


def net_dev(text: str) -> list[NetDev]:
    """Interfaces of /proc/<pid>/net/dev (the process's network namespace), loopback left out."""
    out = []
    for line in text.splitlines()[2:]:
        name, _, numbers = line.partition(":")
        fields = numbers.split()
        if name.strip() == "lo" or len(fields) < 10 or not all(f.isdigit() for f in fields[:10]):
            continue
        out.append(NetDev(name.strip(), int(fields[0]), int(fields[1]), int(fields[8]), int(fields[9])))
    return out
