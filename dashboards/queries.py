"""The PromQL/MetricsQL that dashboards share; metric names come from the catalog.

Dashboards read the trend series (``benchhub_benchmark_trend``): one series per benchmark on
a branch holding a sample per run, so every question costs the number of benchmarks, not
benchmarks x runs (make bench-scale; README "Data model"):

- latest: the series' last sample in the range (``last_over_time``);
- previous: the last minus MetricsQL's ``idelta`` (the difference of the last two samples),
  where the range holds two samples at least (``idelta`` of a lone sample is the sample);
- baseline: ``benchhub_benchmark_baseline{runs="N"}``, the median of the N runs before each
  run, which central writes with the run (PromQL has no "last N samples").

A run's or commit's own results stay on the per-run series (``benchhub_benchmark_value``
with ``run_id``/``commit``), found through the label index at the cost of that run alone.
"""

from __future__ import annotations

from exporter.metrics import BENCHMARK_BASELINE, BENCHMARK_TREND, BENCHMARK_VALUE, RUN_INFO, TREND_LABELS

VALUE = BENCHMARK_VALUE.name
TREND = BENCHMARK_TREND.name
BASELINE = BENCHMARK_BASELINE.name
INFO = RUN_INFO.name
# what makes one benchmark's series across runs (host is left out: CI runners come and go)
KEY = ", ".join(TREND_LABELS)


def latest(selector: str, window: str) -> str:
    """Each benchmark's value in its newest run within ``window``."""
    return f"last_over_time({TREND}{{{selector}}}[{window}])"


def _two_or_more(selector: str, window: str) -> str:
    return f"count_over_time({TREND}{{{selector}}}[{window}]) > 1"


def previous(selector: str, window: str) -> str:
    """Each benchmark's value in the run before its newest (both within ``window``)."""
    series = f"{TREND}{{{selector}}}[{window}]"
    return f"(last_over_time({series}) - idelta({series})) and {_two_or_more(selector, window)}"


def change_vs_previous(selector: str, window: str) -> str:
    """Relative change of the newest run against the one before (0.1 = 10% larger)."""
    series = f"{TREND}{{{selector}}}[{window}]"
    return (f"idelta({series}) / (last_over_time({series}) - idelta({series})) "
            f"and {_two_or_more(selector, window)}")  # fmt: skip


def baseline(selector: str, window: str, runs: str) -> str:
    """The median of each benchmark's ``runs`` runs before its newest (central's baseline series)."""
    return f'last_over_time({BASELINE}{{{selector},runs="{runs}"}}[{window}])'


def change_vs_baseline(selector: str, window: str, runs: str) -> str:
    """Relative change of each benchmark's newest run against the median of the runs before."""
    return f"{latest(selector, window)} / ignoring(runs) {baseline(selector, window, runs)} - 1"
