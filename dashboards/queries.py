"""The PromQL/MetricsQL that dashboards share; metric names come from the catalog.

Dashboards read the trend series (``benchhub_benchmark_trend``): one series per benchmark on
a branch holding a sample per run, so every question costs the number of benchmarks, not
benchmarks x runs (make bench-scale; README "Data model"):

- latest: the series' last sample in the range (``last_over_time``);
- change: ``benchhub_benchmark_change{runs="N"}``, each run against the median of the N runs
  before it, which central writes with the run (PromQL has no "last N samples"): one rollup,
  where value / baseline took two (58 ms at 960 runs, make bench-scale);
- previous: the change against one run (``runs="1"``), where the last two samples of the
  trend (``idelta``) took four rollups and grew with the runs in the range;
- baseline: the value over (1 + change).

A run's or commit's own results stay on the per-run series (``benchhub_benchmark_value``
with ``run_id``/``commit``), found through the label index at the cost of that run alone.
"""

from __future__ import annotations

from exporter.metrics import BENCHMARK_CHANGE, BENCHMARK_TREND, BENCHMARK_VALUE, RUN_INFO, TREND_LABELS

VALUE = BENCHMARK_VALUE.name
TREND = BENCHMARK_TREND.name
CHANGE = BENCHMARK_CHANGE.name
INFO = RUN_INFO.name
# what makes one benchmark's series across runs (host is left out: CI runners come and go)
KEY = ", ".join(TREND_LABELS)


def latest(selector: str, window: str) -> str:
    """Each benchmark's value in its newest run within ``window``."""
    return f"last_over_time({TREND}{{{selector}}}[{window}])"


def previous(selector: str, window: str) -> str:
    """Each benchmark's value in the run before its newest."""
    return baseline(selector, window, "1")


def change_vs_previous(selector: str, window: str) -> str:
    """Relative change of the newest run against the one before (0.1 = 10% larger)."""
    return change_vs_baseline(selector, window, "1")


def baseline(selector: str, window: str, runs: str) -> str:
    """The median of each benchmark's ``runs`` runs before its newest."""
    return f"{latest(selector, window)} / ignoring(runs) (1 + {change_vs_baseline(selector, window, runs)})"


def change_vs_baseline(selector: str, window: str, runs: str) -> str:
    """Relative change of each benchmark's newest run against the median of the runs before."""
    return f'last_over_time({CHANGE}{{{selector},runs="{runs}"}}[{window}])'


def runs_over_time(selector: str, top: str) -> str:
    """A point per run (the run at or before each step) of the ``top`` largest benchmarks:
    a graph of 1,000 lines is unreadable and 26 MB of JSON on every refresh (make bench-scale)."""
    return f"topk_max({top}, last_over_time({TREND}{{{selector}}}[$__interval]))"


def moves_over_time(selector: str, runs: str, top: str) -> str:
    """Each run's change against the median of the ``runs`` before it, for the ``top``
    benchmarks that moved most (absolute change: the table beside it has the sign)."""
    return f'topk_max({top}, abs(last_over_time({CHANGE}{{{selector},runs="{runs}"}}[$__interval])))'
