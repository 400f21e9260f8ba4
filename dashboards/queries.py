"""The PromQL/MetricsQL that dashboards and alert rules share; metric names come from the catalog.

A benchmark result is one series per run (label ``run_id``) holding one sample at the run's
end. "The latest run" of a benchmark is therefore the series whose last sample is newest:
``topk by (KEY) (1, tlast_over_time(...))`` (``tlast_over_time`` is
VictoriaMetrics' timestamp of the last sample), and "the last N runs" the N newest.
"""

from __future__ import annotations

from exporter.metrics import BENCHMARK_VALUE, RUN_INFO

VALUE = BENCHMARK_VALUE.name
INFO = RUN_INFO.name
# what makes one benchmark's series across runs (host is left out: CI runners come and go)
KEY = "org, project, target, branch, benchmark, measure, unit, procs"
# measures where a larger number is better; every other measure (time, bytes, allocations) is lower-is-better
HIGHER_IS_BETTER = ("throughput", "ops", "rate")


def latest(selector: str, window: str) -> str:
    """Each benchmark's value in its newest run within ``window`` (labels of that run)."""
    series = f"{VALUE}{{{selector}}}"
    return (f"last_over_time({series}[{window}]) and on(run_id, {KEY}) "
            f"topk by ({KEY}) (1, tlast_over_time({series}[{window}]))")  # fmt: skip


def newest_runs(selector: str, window: str, count: str, skip: str = "0") -> str:
    """Each benchmark's values in its ``count`` newest runs after skipping the ``skip`` newest."""
    series = f"{VALUE}{{{selector}}}"
    newest = f"topk by ({KEY}) ({count} + {skip}, tlast_over_time({series}[{window}]))"
    skipped = f"topk by ({KEY}) ({skip}, tlast_over_time({series}[{window}]))"
    return f"last_over_time({series}[{window}]) and on(run_id, {KEY}) ({newest} unless on(run_id, {KEY}) {skipped})"


def previous(selector: str, window: str) -> str:
    """Each benchmark's value in the run before its newest."""
    return newest_runs(selector, window, "1", "1")


def change_vs_previous(selector: str, window: str) -> str:
    """Relative change of the newest run against the one before (0.1 = 10% larger)."""
    return (f"sum by ({KEY}) ({latest(selector, window)}) / "
            f"sum by ({KEY}) ({previous(selector, window)}) - 1")  # fmt: skip


def baseline(selector: str, window: str, runs: str) -> str:
    """The median of each benchmark's ``runs`` runs before its newest."""
    return f"median by ({KEY}) ({newest_runs(selector, window, runs, '1')})"


def change_vs_baseline(selector: str, window: str, runs: str) -> str:
    return f"sum by ({KEY}) ({latest(selector, window)}) / {baseline(selector, window, runs)} - 1"
