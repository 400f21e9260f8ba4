"""The machine's state a run records, read from this machine's /proc and /sys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli import machine
from cli.machine import cpu_list, load_now, machine_state


def test_the_state_is_this_machines() -> None:
    state = machine_state()
    assert state.cpus == os.cpu_count()
    assert state.cpu_set == cpu_list(os.sched_getaffinity(0))
    assert state.kernel == os.uname().release
    assert state.aslr == int(Path("/proc/sys/kernel/randomize_va_space").read_text())
    assert state.cpu_model  # /proc/cpuinfo's model name, else at least the architecture
    assert state.load_start is not None and state.load_start >= 0 and state.load_end is None
    assert machine_state("2-3").cpu_set == "2-3"  # a container's CPU set, not bhubctl's affinity
    assert load_now().load_end is not None


def test_cpu_lists_are_the_kernels_format() -> None:
    assert cpu_list({0}) == "0"
    assert cpu_list({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert cpu_list({3, 1}) == "1,3"


def test_governor_boost_and_smt_from_sysfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # this VM has no cpufreq: a copy of the sysfs layout of a machine that has
    cpus = sorted(os.sched_getaffinity(0))
    for cpu in cpus:
        (tmp_path / f"cpu{cpu}/cpufreq").mkdir(parents=True)
        (tmp_path / f"cpu{cpu}/cpufreq/scaling_governor").write_text("performance\n")
    (tmp_path / "intel_pstate").mkdir()
    (tmp_path / "intel_pstate/no_turbo").write_text("1\n")
    (tmp_path / "smt").mkdir()
    (tmp_path / "smt/active").write_text("1\n")
    monkeypatch.setattr(machine, "_CPU", tmp_path)
    state = machine_state()
    assert (state.governor, state.boost, state.smt) == ("performance", False, True)
    (tmp_path / f"cpu{cpus[-1]}/cpufreq/scaling_governor").write_text("powersave\n")
    (tmp_path / "intel_pstate/no_turbo").unlink()
    (tmp_path / "cpufreq").mkdir()
    (tmp_path / "cpufreq/boost").write_text("1\n")
    state = machine_state()
    assert state.boost is True
    assert state.governor == ("performance/powersave" if len(cpus) > 1 else "powersave")
