"""The PromQL/MetricsQL that dashboards share; metric names come from the catalog.

Dashboards read the trend series (``benchhub_benchmark_trend``): one series per benchmark on
a branch holding a sample per run, so every question costs the number of benchmarks, not
benchmarks x runs (make bench-scale; README "Data model"):

- newest: when the branch's newest run ended, from ``benchhub_branch_run_results`` (one series
  per target and branch); the table questions below are asked ``@`` that time, of the daily
  copies of the trend and change series (``_daily``, a series per benchmark and day), so they
  decode a day of runs per benchmark however many runs the range and the month hold (over
  the whole range they decoded every run's sample: 2x slower from 60 to 960 runs, and a
  year's range 12x more; at the newest run of the trend series, the block it is in, which
  holds a month once the month is merged into one part: 1.2-1.6x from 60 to 960 runs a
  month, against 0.89-1.09x of the daily copies);
- latest: each benchmark's value in that run;
- change: ``benchhub_benchmark_change{runs="N"}``, each run against the median of the N runs
  before it, which central writes with the run (PromQL has no "last N samples");
- previous: the change against one run (``runs="1"``);
- baseline: the value over (1 + change).

A run's or commit's own results stay on the per-run series (``benchhub_benchmark_value``
with ``run_id``/``commit``), found through the label index at the cost of that run alone.
"""

from __future__ import annotations

from exporter.metrics import (
    BENCHMARK_CHANGE,
    BENCHMARK_CHANGE_DAILY,
    BENCHMARK_TREND,
    BENCHMARK_TREND_DAILY,
    BENCHMARK_VALUE,
    BRANCH_RUN,
    RUN_INFO,
    TREND_LABELS,
)

VALUE = BENCHMARK_VALUE.name
TREND = BENCHMARK_TREND.name
CHANGE = BENCHMARK_CHANGE.name
TREND_DAILY = BENCHMARK_TREND_DAILY.name
CHANGE_DAILY = BENCHMARK_CHANGE_DAILY.name
INFO = RUN_INFO.name
RUN = BRANCH_RUN.name
# what makes one benchmark's series across runs (host is left out: CI runners come and go)
KEY = ", ".join(TREND_LABELS)


def newest_run(selector: str, window: str) -> str:
    """When the newest run within ``window`` of the target on the branch ended (unix seconds,
    rounded up: an ``@`` at a rounded-down float would miss the run's own samples); 0 when
    there is none, so the questions below find nothing rather than fail."""
    return f"ceil(max(tlast_over_time({RUN}{{{selector}}}[{window}]))) or vector(0)"


def _at(name: str, selector: str, at: str) -> str:
    # The newest run's samples all carry its end, which ``at`` rounds up to the second: a
    # second back finds them and no earlier run's, so a run that ended just before midnight
    # cannot add its day's series beside the newest run's.
    return f"last_over_time({name}{{{selector}}}[1s] @ {at})"


def latest(selector: str, at: str) -> str:
    """Each benchmark's value in the run that ended at ``at`` (``newest_run``)."""
    return _at(TREND_DAILY, selector, at)


def previous(selector: str, at: str) -> str:
    """Each benchmark's value in the run before that one."""
    return baseline(selector, at, "1")


def change_vs_previous(selector: str, at: str) -> str:
    """Relative change of the run at ``at`` against the one before (0.1 = 10% larger)."""
    return change_vs_baseline(selector, at, "1")


def baseline(selector: str, at: str, runs: str) -> str:
    """The median of each benchmark's ``runs`` runs before the one at ``at``."""
    return f"{latest(selector, at)} / ignoring(runs) (1 + {change_vs_baseline(selector, at, runs)})"


def change_vs_baseline(selector: str, at: str, runs: str) -> str:
    """Relative change of each benchmark in the run at ``at`` against the median of the runs before."""
    return _at(CHANGE_DAILY, selector + f',runs="{runs}"', at)


def largest(selector: str, at: str, top: str) -> str:
    """The ``top`` largest benchmarks in the run at ``at``: which lines a graph draws."""
    return f"topk({top}, {latest(selector, at)})"


def moved_most(selector: str, at: str, runs: str, top: str) -> str:
    """The ``top`` benchmarks whose run at ``at`` moved most against the median of the
    ``runs`` before (absolute change: the table has the sign)."""
    return f"topk({top}, abs({change_vs_baseline(selector, at, runs)}))"


def runs_over_time(selector: str, top: str) -> str:
    """A point per run (the run at or before each step) of the benchmarks ``selector`` picks
    (at most ``top`` lines): a graph of 1,000 lines is unreadable and 26 MB of JSON."""
    return f"topk_max({top}, last_over_time({TREND}{{{selector}}}[$__interval]))"


def moves_over_time(selector: str, runs: str, top: str) -> str:
    """Each run's change against the median of the ``runs`` before it, of the benchmarks
    ``selector`` picks (at most ``top`` lines; absolute change).

    A step that holds several runs (Grafana's step is the range over the panel's Max data
    points: a long range or a busy branch) draws the largest move among them, not the
    last run's, so a run that moved far stays on the graph when a quiet one ends after it in
    the same step. PromQL cannot take ``abs`` of each sample within a rollup (a subquery
    samples only at its own steps), so: the step's largest, or its smallest negated, whichever
    is larger; the same samples and points as one rollup.
    """
    change = f'{CHANGE}{{{selector},runs="{runs}"}}[$__interval]'
    down = f"-min_over_time({change})"
    return f"topk_max({top}, (max_over_time({change}) >= {down}) or {down})"


def run_markers(selector: str) -> str:
    """When each run of the target on the branch ended, in ms, at the step after it: for a
    Grafana annotation that takes the series value as the marker's time (useValueForTime).

    One series per branch, so the markers of 960 runs cost a series' samples, where a marker
    series per run (``benchhub_run_info``) cost an index lookup and a series each (make
    bench-scale, 60 to 960 runs: 2.6 to 19.7 ms, against 1.1 to 1.4). Runs within one step of
    each other make one region. The window is the step: Grafana's backend sets $__interval to
    the step it queries at (raised to range / 11,000 on long ranges), where $__rate_interval
    follows the requested interval and can be shorter than the step, missing runs. (A longer
    window would do no harm: a run would show at each step until the next one ends, always
    at the same time, which Grafana draws once.)
    """
    return f"tlast_over_time({RUN}{{{selector}}}[$__interval]) * 1000"


def runs_up_to(at: str, window: str = "1d") -> str:
    """The runs that ended within ``window`` up to ``at`` (a run list's newest run), newest first
    (the value: each run's end). Bounded by the runs of that window, not of the whole range."""
    return f'sort_desc(max by (run_id) (tlast_over_time({INFO}{{edge="end"}}[{window}] @ {at})))'
