"""The run collector follows real process trees; edge cases through an injected source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.instrumented import InstrumentedCollectors
from exporter.collectors.run import ProcessReading, PsutilTreeSource, RunCollector, RunWatches
from exporter.schemas import WatchRequest

MiB = 1 << 20
# A parent that forks workers; each allocates and touches its memory, burns some CPU, holds
# the memory while the others do the same, and writes its own peak RSS (VmHWM) and CPU time.
TREE = """
import os, resource, sys, time
out, workers, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def report(name):
    hwm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.path.join(out, name), "w") as fh:
        fh.write(f"{hwm} {ru.ru_utime + ru.ru_stime}")

pids = []
for i in range(workers):
    pid = os.fork()
    if pid == 0:
        block = bytearray(size)
        for j in range(0, size, 4096):
            block[j] = 1
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        time.sleep(1.5)
        report(f"worker{i}")
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
report("parent")
time.sleep(0.6)
"""


def request(pid: int, run_id: str = "r1", include_root: bool = True) -> WatchRequest:
    return WatchRequest(
        run_id=run_id, project="p", target="t", commit="c", pid=pid, include_root=include_root
    )


def test_follows_a_real_tree_and_its_peak_rss_matches_what_the_workers_allocated(tmp_path: Path) -> None:
    watches = RunWatches(PsutilTreeSource(), interval_seconds=0.05)
    watches.start()
    try:
        proc = subprocess.Popen([sys.executable, "-c", TREE, str(tmp_path), "3", str(60 * MiB)])
        watches.watch(request(proc.pid))
        assert proc.wait(30) == 0
        totals = watches.unwatch("r1")
    finally:
        watches.stop()
    assert totals is not None
    reports = [
        tuple(map(float, (tmp_path / f).read_text().split())) for f in ("worker0", "worker1", "worker2")
    ]
    allocated = sum(hwm for hwm, _ in reports)  # every worker's own peak: they held it together
    assert allocated > 3 * 60 * MiB
    assert abs(totals.max_rss_bytes - allocated) <= 0.10 * allocated, (totals.max_rss_bytes, allocated)
    cpu = sum(seconds for _, seconds in reports)
    assert totals.cpu_user_seconds + totals.cpu_system_seconds >= 0.9 * cpu
    assert totals.max_processes == 4 and totals.samples > 10


class FakeTrees:
    """Scripted readings per root pid, one list per call; the last one repeats."""

    def __init__(self, script: dict[int, list[list[ProcessReading]]]) -> None:
        self._script = {pid: iter(steps) for pid, steps in script.items()}
        self._last: dict[int, list[ProcessReading]] = {}

    def read_trees(self, roots: list[tuple[int, bool]]) -> list[list[ProcessReading]]:
        for pid, _ in roots:
            self._last[pid] = next(self._script[pid], self._last.get(pid, []))
        return [self._last[pid] for pid, _ in roots]


def reading(pid: int, user: float, rss: int, counted: bool = True) -> ProcessReading:
    return ProcessReading(pid, counted, user, 0.0, rss, 0, 0, 1, 5, 1)


def test_counters_never_go_back_and_repeated_roots_add_up() -> None:
    trees = FakeTrees({
        10: [[reading(10, 1.0, 100), reading(11, 2.0, 300)], [reading(10, 3.5, 100)], []],  # 11 reaped by 10
        20: [[reading(20, 0.5, 50)], []],
    })  # fmt: skip
    watches = RunWatches(trees, interval_seconds=60)
    watches.watch(request(10))
    watches.sample_all()  # 11 was reaped: its 2.0 s now sit in 10's children figures (3.5)
    watches.sample_all()  # the first execution is over: its totals stay
    watches.watch(request(20))  # a repeated command's next execution
    totals = watches.unwatch("r1")
    assert totals is not None
    assert totals.cpu_user_seconds == 3.5 + 0.5 and totals.max_rss_bytes == 400
    assert watches.unwatch("r1") is None


def test_series_carry_the_run_labels_and_vanish_with_the_watch() -> None:
    watches = RunWatches(FakeTrees({10: [[reading(10, 1.0, 100)]]}), interval_seconds=60)
    watches.watch(request(10, run_id="run-a"))
    registry = CollectorRegistry()
    registry.register(RunCollector(watches))
    text = generate_latest(registry).decode()
    rss = next(
        s
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "benchhub_run_memory_rss_bytes"
    )
    assert (
        rss.labels == {"run_id": "run-a", "project": "p", "target": "t", "commit": "c"} and rss.value == 100
    )
    watches.unwatch("run-a")
    assert "run-a" not in generate_latest(registry).decode()


def test_a_failing_source_costs_only_the_run_collector() -> None:
    class Broken:
        def read_trees(self, roots: list[tuple[int, bool]]) -> list[list[ProcessReading]]:
            raise PermissionError("/proc/1/io")

    watches = RunWatches(Broken(), interval_seconds=60)
    with pytest.raises(PermissionError):
        watches.watch(request(1, "x"))  # the API answers 500 (JSON); the scrape goes on:
    registry = CollectorRegistry()
    registry.register(InstrumentedCollectors({"run": RunCollector(watches)}))
    text = generate_latest(registry).decode()
    assert 'benchhub_agent_collector_success{collector="run"} 0.0' in text
