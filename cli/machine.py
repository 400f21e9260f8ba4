"""The machine's state as a run finds it: what makes two runs' timings comparable or not.

Read from /proc and /sys by hand, because this runs in every ``bhubctl run`` and psutil would
add its import to the start-up. pyperf's ``system show`` checks the same facts (governor,
turbo, ASLR, load); a fact the machine does not expose (no cpufreq in most VMs) is None.
"""

from __future__ import annotations

import os
from pathlib import Path

from cli.wire import Machine

_CPU = Path("/sys/devices/system/cpu")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cpu_list(cpus: set[int]) -> str:
    """{0, 1, 2, 5} -> '0-2,5' (the kernel's own cpulist format)."""
    spans: list[str] = []
    for cpu in sorted(cpus):
        if spans and int(spans[-1].rpartition("-")[2]) == cpu - 1:
            spans[-1] = f"{spans[-1].partition('-')[0]}-{cpu}"
        else:
            spans.append(str(cpu))
    return ",".join(spans)


def _cpu_model(cpuinfo: str | None) -> str | None:
    for line in (cpuinfo or "").splitlines():
        key, _, value = line.partition(":")
        # x86: 'model name'; arm64: no model name, 'CPU part' is a number, so the machine field
        if key.strip() in ("model name", "Model", "cpu model") and value.strip():
            return value.strip()[:200]
    return os.uname().machine[:200] or None  # at least the architecture


def _governor(cpus: set[int]) -> str | None:
    found = {g for cpu in sorted(cpus) if (g := _read(_CPU / f"cpu{cpu}/cpufreq/scaling_governor"))}
    return "/".join(sorted(found))[:100] or None


def _boost() -> bool | None:
    no_turbo = _read(_CPU / "intel_pstate/no_turbo")  # intel_pstate: 1 = turbo off
    if no_turbo in ("0", "1"):
        return no_turbo == "0"
    boost = _read(_CPU / "cpufreq/boost")  # acpi-cpufreq, amd-pstate
    return boost == "1" if boost in ("0", "1") else None


def _flag(path: Path) -> bool | None:
    value = _read(path)
    return value == "1" if value in ("0", "1") else None


def _aslr() -> int | None:
    value = _read(Path("/proc/sys/kernel/randomize_va_space"))
    return int(value) if value in ("0", "1", "2") else None


def machine_state(cpu_set: str | None = None) -> Machine:
    """The state now. ``cpu_set``: the CPUs a container is limited to; else this process's affinity."""
    affinity = os.sched_getaffinity(0)
    return Machine(
        cpu_model=_cpu_model(_read(Path("/proc/cpuinfo"))),
        cpus=os.cpu_count(),
        cpu_set=cpu_set or cpu_list(affinity),
        governor=_governor(affinity),
        boost=_boost(),
        smt=_flag(_CPU / "smt/active"),
        aslr=_aslr(),
        kernel=os.uname().release[:200] or None,
        load_start=round(os.getloadavg()[0], 2),
    )


def load_now() -> Machine:
    """What changes by the end of a run: the load."""
    return Machine(load_end=round(os.getloadavg()[0], 2))
