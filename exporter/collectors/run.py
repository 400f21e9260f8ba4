"""The process trees of running benchmarks: CPU, RSS (current and peak), I/O, threads.

``bhubctl run`` asks the agent to watch the command's root process; from then on a sampler
thread and every scrape read the whole tree (children spawned later too). A tree's CPU and
I/O are the sum over its live processes of their own figures plus their reaped children's
(the kernel adds a child's figures to its parent when the parent reaps it), so nothing is
counted twice; counters keep their highest value, so a process ending never makes one go
back. Context switches are those of the processes alive when sampled. When the run ends the
watch is dropped, its series vanish (staleness) and its totals go to central with the run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import psutil
from prometheus_client.core import Metric

from central.schemas import RunResources
from exporter import metrics as m
from exporter.schemas import WatchRequest

log = logging.getLogger("exporter.collectors.run")


@dataclass(frozen=True)
class ProcessReading:
    """One process at one moment; cpu figures include its reaped children's."""

    pid: int
    counted: bool  # False for a root that is only BenchHub's measuring helper
    cpu_user: float
    cpu_system: float
    rss: int
    read_bytes: int
    written_bytes: int
    threads: int
    voluntary: int
    involuntary: int


Root = tuple[int, bool]  # pid, and whether the root process itself counts


class TreeSource(Protocol):
    """Reads processes with their descendants; psutil in production, fakes in tests."""

    def read_trees(self, roots: list[Root]) -> list[list[ProcessReading]]: ...


def _parents() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process: /proc/<pid>/stat on Linux (3x faster than psutil)."""
    if not os.path.isdir("/proc/self"):
        for proc in psutil.process_iter(["ppid"]):
            if isinstance(proc.info.get("ppid"), int):
                yield proc.pid, proc.info["ppid"]
        return
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses
            yield int(entry.name), int(stat[stat.rindex(b")") + 2 :].split(None, 2)[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked


class PsutilTreeSource:
    def _read(self, proc: psutil.Process, own: bool) -> ProcessReading | None:
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                try:
                    io = proc.io_counters()
                    read_bytes, written_bytes = io.read_bytes, io.write_bytes
                except (psutil.AccessDenied, AttributeError):  # no /proc/<pid>/io access, or macOS
                    read_bytes = written_bytes = 0
                ctx = proc.num_ctx_switches()
                return ProcessReading(
                    pid=proc.pid, counted=own,
                    cpu_user=(times.user if own else 0.0) + times.children_user,
                    cpu_system=(times.system if own else 0.0) + times.children_system,
                    rss=proc.memory_info().rss if own else 0, read_bytes=read_bytes,
                    written_bytes=written_bytes, threads=proc.num_threads() if own else 0,
                    voluntary=ctx.voluntary if own else 0, involuntary=ctx.involuntary if own else 0,
                )  # fmt: skip
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return None

    def read_trees(self, roots: list[Root]) -> list[list[ProcessReading]]:
        """Every root's tree, from one pass over the process table (not one per root)."""
        if not roots:
            return []
        children: dict[int, list[int]] = {}
        for pid, ppid in _parents():
            children.setdefault(ppid, []).append(pid)
        trees = []
        for pid, include_root in roots:
            pids, stack = [], [pid]
            while stack:
                current = stack.pop()
                pids.append(current)
                stack.extend(children.get(current, ()))
            readings = []
            for index, member in enumerate(pids):
                try:
                    reading = self._read(psutil.Process(member), include_root or index > 0)
                except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                    reading = None
                if reading is not None:
                    readings.append(reading)
            trees.append(readings)
        return trees


_COUNTERS = ("cpu_user", "cpu_system", "read_bytes", "written_bytes", "voluntary", "involuntary")


@dataclass
class RunWatch:
    """One run: its roots (one per execution of a repeated command), current figures, peaks."""

    request: WatchRequest
    roots: list[tuple[int, bool]] = field(default_factory=list)
    # per root, the highest total seen of each counter: a finished root keeps its last totals
    highest: list[dict[str, float]] = field(default_factory=list)
    rss: int = 0
    threads: int = 0
    processes: int = 0
    peak_rss: int = 0
    peak_threads: int = 0
    peak_processes: int = 0
    samples: int = 0

    def add_root(self, pid: int, include_root: bool) -> None:
        self.roots.append((pid, include_root))
        self.highest.append(dict.fromkeys(_COUNTERS, 0.0))

    def update(self, trees: list[list[ProcessReading]]) -> None:
        """Take one reading of every root's tree (in the order of ``roots``)."""
        rss = threads = processes = 0
        for live, highest in zip(trees, self.highest, strict=True):
            for counter in _COUNTERS:
                highest[counter] = max(highest[counter], sum(getattr(r, counter) for r in live))
            rss += sum(r.rss for r in live)
            threads += sum(r.threads for r in live)
            processes += sum(1 for r in live if r.counted)
        self.rss, self.threads, self.processes = rss, threads, processes
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_threads = max(self.peak_threads, threads)
        self.peak_processes = max(self.peak_processes, processes)
        self.samples += 1

    def totals(self) -> RunResources:
        total = {c: sum(h[c] for h in self.highest) for c in _COUNTERS}
        return RunResources(
            cpu_user_seconds=total["cpu_user"], cpu_system_seconds=total["cpu_system"],
            max_rss_bytes=self.peak_rss, read_bytes=int(total["read_bytes"]),
            written_bytes=int(total["written_bytes"]), voluntary_context_switches=int(total["voluntary"]),
            involuntary_context_switches=int(total["involuntary"]), max_threads=self.peak_threads,
            max_processes=self.peak_processes, samples=self.samples,
        )  # fmt: skip


class RunWatches:
    """The runs being watched; a sampler thread keeps the peaks between scrapes."""

    def __init__(self, source: TreeSource, interval_seconds: float) -> None:
        self._source = source
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._watches: dict[str, RunWatch] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample_locked(self) -> None:
        watches = list(self._watches.values())
        trees = self._source.read_trees([root for w in watches for root in w.roots])
        start = 0
        for watch in watches:
            watch.update(trees[start : start + len(watch.roots)])
            start += len(watch.roots)

    def watch(self, request: WatchRequest) -> None:
        """Start (or extend, for a repeated command) the watch of a run."""
        with self._lock:
            watch = self._watches.setdefault(request.run_id, RunWatch(request))
            watch.add_root(request.pid, request.include_root)
            self._sample_locked()

    def unwatch(self, run_id: str) -> RunResources | None:
        """Stop watching; the run's totals, or None if it was not watched."""
        with self._lock:
            if run_id not in self._watches:
                return None
            self._sample_locked()
            return self._watches.pop(run_id).totals()

    def sample_all(self) -> list[tuple[WatchRequest, RunWatch, RunResources]]:
        with self._lock:
            self._sample_locked()
            return [(w.request, w, w.totals()) for w in self._watches.values()]

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                try:
                    self._sample_locked()
                except Exception:  # a sampler that dies would lose every later peak
                    log.exception("sampling the runs' process trees failed")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="run-sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


class RunCollector:
    """benchhub_run_*: one set of series per watched run, labelled run_id/project/target/commit."""

    def __init__(self, watches: RunWatches) -> None:
        self._watches = watches

    def collect(self) -> Iterator[Metric]:
        families = {spec.name: spec.new_family() for spec in m.RUN_METRICS}
        for request, watch, totals in self._watches.sample_all():
            labels = [request.run_id, request.project, request.target, request.commit]
            families[m.RUN_CPU_SECONDS.name].add_metric([*labels, "user"], totals.cpu_user_seconds)
            families[m.RUN_CPU_SECONDS.name].add_metric([*labels, "system"], totals.cpu_system_seconds)
            families[m.RUN_RSS.name].add_metric(labels, watch.rss)
            families[m.RUN_RSS_PEAK.name].add_metric(labels, totals.max_rss_bytes)
            families[m.RUN_READ_BYTES.name].add_metric(labels, totals.read_bytes)
            families[m.RUN_WRITTEN_BYTES.name].add_metric(labels, totals.written_bytes)
            families[m.RUN_THREADS.name].add_metric(labels, watch.threads)
            families[m.RUN_PROCESSES.name].add_metric(labels, watch.processes)
            switches = families[m.RUN_CONTEXT_SWITCHES.name]
            switches.add_metric([*labels, "voluntary"], totals.voluntary_context_switches)
            switches.add_metric([*labels, "involuntary"], totals.involuntary_context_switches)
        yield from families.values()
