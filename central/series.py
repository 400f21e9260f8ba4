"""A run's benchmark series, written by central into VictoriaMetrics when the run is over.

Central is the one writer of benchmark series: it holds the run (org, project, commit, its
end time) and its results, so no caller can put a value into another org, under a made-up
timestamp, or for a run that does not exist, and no run is too big to arrive: its samples go
in batches through an import API (VictoriaMetrics', or vmagent's, which buffers on disk while
storage is down), never through a scrape bounded by ``-promscrape.maxScrapeSize``.

Each result becomes (README "Data model"):

- ``benchhub_benchmark_value`` and ``_iterations`` with the run's labels (commit, run_id, host):
  one series per result of a run, so ``{commit="<sha>"}`` or ``{run_id=...}`` finds a run;
- ``benchhub_benchmark_trend``: the same value with only the benchmark's identity on its
  branch, so one series holds a sample per run and "latest / previous / over time" read one
  series per benchmark instead of one per benchmark and run;
- ``benchhub_benchmark_change{runs="N"}``: the value relative to the median of the N runs of
  the branch that ended before this one (``runs="1"``: the previous run), read from central's
  own rows: PromQL has no "last N samples of a series", central holds the history anyway, and
  a ready change is one rollup for a dashboard where value and baseline were two (make
  bench-scale). The baseline itself is ``trend / (1 + change)``;
- ``benchhub_benchmark_trend_daily`` and ``_change_daily``: the trend and change samples again,
  with the UTC day of the run's end as label ``at_day``, so the dashboards' questions at the newest
  run decode that day's samples of a benchmark, not its month's.

And the run itself becomes one sample of ``benchhub_branch_run_results`` (one series per
target and branch, valued the results written): the dashboards read when the newest run ended
from it, and so read the trend and change series over that window only, whatever the range.

The samples of a run are always the same (names, labels, base units, the run's end as
timestamp, changes against the runs that ended before it), so VictoriaMetrics' deduplication
keeps one sample per series however often a run is written again (a retry, ``bhubctl runs
reexport``).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol

import httpx

from central.errors import Conflict, NotConfigured, UpstreamFailed
from central.markers import marker_text
from central.schemas import RunPublic
from central.wire import ALLOWED_TRANSITIONS
from exporter.exposition import escape_label_value
from exporter.metrics import (
    BENCHMARK_CHANGE,
    BENCHMARK_CHANGE_DAILY,
    BENCHMARK_ITERATIONS,
    BENCHMARK_LABELS,
    BENCHMARK_TREND,
    BENCHMARK_TREND_DAILY,
    BENCHMARK_VALUE,
    BRANCH_RUN,
    DAY_LABEL,
    TREND_LABELS,
)
from exporter.units import to_base_unit

BATCH_RESULTS = 5_000  # ~3 MB of text a request: far under any import limit, few requests
# (benchmark, measure, procs, pkg, base unit) -> its values in the runs before, newest first
Prior = Mapping[tuple[str, str, str, str, str], Sequence[float]]


class Measured(Protocol):
    """What a series needs of a result (a stored row or a ResultIn)."""

    benchmark: str
    measure: str
    unit: str
    value: float | None
    iterations: int | None
    labels: dict[str, str]


def _end_ms(run: RunPublic) -> int:
    """The run's end, in the milliseconds every sample of it carries."""
    assert run.finished_at is not None
    return int(run.finished_at.timestamp() * 1000)


def _run_labels(run: RunPublic) -> dict[str, str]:
    """The run's own labels, as its series carry them (each series a subset)."""
    return {"org": run.org, "project": run.project, "target": run.target, "commit": run.commit,
            "branch": run.branch, "run_id": run.id, "host": run.host}  # fmt: skip


def day_of(end_ms: int) -> str:
    """The day label (``at_day``) of a sample at ``end_ms``: its UTC date, YYYY-MM-DD."""
    return datetime.fromtimestamp(end_ms / 1000, UTC).strftime("%Y-%m-%d")


def _text(
    run: RunPublic, results: Iterable[Measured], prior: Prior, windows: Sequence[int]
) -> tuple[str, int]:
    end = _end_ms(run)
    stamp, day = f" {end}\n", f',{DAY_LABEL}="{day_of(end)}"'
    fixed = _run_labels(run)
    lines: list[str] = []
    for result in results:
        if result.value is None:  # a failed result has no sample: central keeps its error
            continue
        value, unit = to_base_unit(result.value, result.unit)
        procs, pkg = result.labels.get("procs", ""), result.labels.get("pkg", "")
        own = {
            "benchmark": result.benchmark,
            "measure": result.measure,
            "unit": unit,
            "procs": procs,
            "pkg": pkg,
        }
        values = {n: escape_label_value(fixed.get(n) or own.get(n, "")) for n in BENCHMARK_LABELS}
        labels = ",".join(f'{n}="{values[n]}"' for n in BENCHMARK_LABELS)
        lines.append(f"{BENCHMARK_VALUE.name}{{{labels}}} {value!r}{stamp}")
        if result.iterations is not None:
            lines.append(f"{BENCHMARK_ITERATIONS.name}{{{labels}}} {result.iterations}{stamp}")
        identity = ",".join(f'{n}="{values[n]}"' for n in TREND_LABELS)
        lines.append(f"{BENCHMARK_TREND.name}{{{identity}}} {value!r}{stamp}")
        lines.append(f"{BENCHMARK_TREND_DAILY.name}{{{identity}{day}}} {value!r}{stamp}")
        before = prior.get((result.benchmark, result.measure, procs, pkg, unit), ())
        for runs in windows:
            median = float(statistics.median(before[:runs])) if before else 0.0
            if median:  # nothing before, or a baseline of 0 (no allocations): no relative change
                # 9 significant digits: VictoriaMetrics keeps 12 and drops one more on each
                # export and import, so a restored backup would differ from the original
                change = float(f"{value / median - 1:.9g}")
                window = f'{identity},runs="{runs}"'
                lines.append(f"{BENCHMARK_CHANGE.name}{{{window}}} {change!r}{stamp}")
                lines.append(f"{BENCHMARK_CHANGE_DAILY.name}{{{window}{day}}} {change!r}{stamp}")
    return "".join(lines), len(lines)


def batches(
    run: RunPublic, results: Iterable[Measured], size: int = BATCH_RESULTS,
    prior: Prior | None = None, windows: Sequence[int] = (),
) -> Iterator[tuple[str, int]]:  # fmt: skip
    """Prometheus text of the run's series, ``size`` results a piece: (text, samples).

    ``prior``: the values of the runs before (repository.prior_values), for a baseline per
    change against each window of ``windows`` runs; none: no changes.
    """
    chunk: list[Measured] = []
    valued = 0
    for result in results:
        chunk.append(result)
        valued += result.value is not None
        if len(chunk) >= size:
            yield _text(run, chunk, prior or {}, windows)
            chunk = []
    if chunk:
        yield _text(run, chunk, prior or {}, windows)
    if valued:  # a run without a value (all failed, none parsed) is not the branch's newest
        values = _run_labels(run)
        labels = ",".join(f'{n}="{escape_label_value(values[n])}"' for n in BRANCH_RUN.labels)
        yield f"{BRANCH_RUN.name}{{{labels}}} {valued} {_end_ms(run)}\n", 1


def import_url(base: str) -> str:
    return f"{base.rstrip('/')}/api/v1/import/prometheus"


def write_run(
    client: httpx.Client, base_url: str, run: RunPublic, results: Iterable[Measured],
    prior: Prior | None = None, windows: Sequence[int] = (),
) -> int:  # fmt: skip
    """Write the run's samples (in batches) and its markers; the number of samples written.

    Raises httpx.HTTPError when the import API refuses or cannot be reached.
    """
    url, written = import_url(base_url), 0
    for text, samples in batches(run, results, prior=prior, windows=windows):
        client.post(url, content=text.encode()).raise_for_status()
        written += samples
    markers = marker_text(run)
    client.post(url, content=markers.encode()).raise_for_status()
    return written + markers.count("\n")


def reexport(
    base_url: str | None, run: RunPublic, results: Iterable[Measured], prior: Prior | None = None,
    windows: Sequence[int] = (),
) -> int:  # fmt: skip
    """Write a finished run again, now (``bhubctl runs reexport``); the samples written."""
    if not base_url:
        raise NotConfigured("central has no VictoriaMetrics to write to: set BENCHHUB_CENTRAL_VM_URL")
    if ALLOWED_TRANSITIONS[run.state] or run.finished_at is None:
        raise Conflict(f"run {run.id} is {run.state.value}; only a run that is over can be re-exported")
    try:
        with httpx.Client(timeout=30) as client:
            return write_run(client, base_url, run, results, prior, windows)
    except httpx.HTTPError as exc:
        raise UpstreamFailed(
            f"VictoriaMetrics at {base_url} did not take the samples ({exc}); try again"
        ) from None


class VictoriaMetricsSink:
    """Delivers an ended run to VictoriaMetrics: its results' series, then its markers.

    ``results_of(run_id)`` opens the run's stored results (streamed: a run may hold many);
    without it only the markers are written. ``prior_of(run_id, runs)`` gives the values of the
    runs before it, for changes against ``windows`` runs. Run on RunMarkers' thread, tried again
    on failure.
    """

    name = "victoriametrics"

    def __init__(
        self,
        url: str,
        results_of: Callable[[str], AbstractContextManager[Iterable[Measured]]] | None = None,
        prior_of: Callable[[str, int], Prior] | None = None,
        windows: Sequence[int] = (),
    ) -> None:
        self.url = url
        self._results_of = results_of
        self._prior_of = prior_of
        self.windows = tuple(windows)
        self._http = httpx.Client(timeout=30)

    def send(self, run: RunPublic, retry: bool) -> None:
        if self._results_of is None:
            write_run(self._http, self.url, run, ())
            return
        prior = self._prior_of(run.id, max(self.windows, default=0)) if self._prior_of else {}
        with self._results_of(run.id) as results:
            write_run(self._http, self.url, run, results, prior, self.windows)

    def close(self) -> None:
        self._http.close()
