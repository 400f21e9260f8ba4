"""Benchmark results of recent runs as samples carrying the run's own timestamp."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import Metric

from exporter.metrics import BENCHMARK_ITERATIONS, BENCHMARK_VALUE
from exporter.schemas import RunResults
from exporter.store import ResultStore
from exporter.units import to_base_unit


def result_families(runs: Iterable[RunResults], host: str) -> list[Metric]:
    """The value and iteration samples of the runs' results, at each run's timestamp.

    The one definition of a benchmark series: the agent exposes these, and central's
    re-export writes the same ones, so both land as the same series.
    """
    values = BENCHMARK_VALUE.new_family()
    iterations = BENCHMARK_ITERATIONS.new_family()
    for run in runs:
        ts = run.timestamp.timestamp()
        for result in run.results:
            if result.value is None:  # a failed result has no sample: central keeps its error
                continue
            value, unit = to_base_unit(result.value, result.unit)
            labels = [
                run.org, run.project, run.target, result.benchmark, result.measure, unit,
                run.commit, run.branch, run.run_id, host, result.labels.get("procs", ""),
            ]  # fmt: skip
            values.add_metric(labels, value, timestamp=ts)
            if result.iterations is not None:
                iterations.add_metric(labels, result.iterations, timestamp=ts)
    return [values, iterations]


class BenchmarkCollector:
    """Exposes every result in ``store``; vmagent scrapes them with honor_timestamps.

    The families are rebuilt only when the store changed; the same objects are handed out
    otherwise, so the exposition renders them once.
    """

    def __init__(self, store: ResultStore, host: str) -> None:
        self._store = store
        self._host = host
        self._built: tuple[int, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        runs = self._store.current()  # prunes expired runs first, which changes the version
        if self._built is None or self._built[0] != self._store.version:
            self._built = (self._store.version, result_families(runs, self._host))
        yield from self._built[1]
