"""The catalog: every metric BenchHub exposes, with its labels and their cardinality.

Dashboards, alert rules and scrape configs use only names from here (a test checks it).
Benchmark samples are in base units (seconds, bytes) with the unit in the ``unit`` label;
central keeps each result in the tool's own unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter", "histogram"]


@dataclass(frozen=True)
class MetricSpec:
    """One exposed metric family; ``name`` is the sample name (counters end in _total)."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...]
    cardinality: str

    @property
    def family(self) -> str:
        """The family name prometheus-client takes (it appends _total to counters)."""
        return self.name.removesuffix("_total") if self.type == "counter" else self.name


# org/project/target/benchmark/measure/unit/commit/branch/run_id/host/procs: bounded by the
# results of the runs still inside the agent's exposure window (default 15 minutes).
BENCHMARK_LABELS = (
    "org", "project", "target", "benchmark", "measure", "unit",
    "commit", "branch", "run_id", "host", "procs",
)  # fmt: skip

BENCHMARK_VALUE = MetricSpec(
    "benchhub_benchmark_value",
    "gauge",
    "Headline value of a benchmark result in base units (seconds, bytes), at the run's end time.",
    BENCHMARK_LABELS,
    "results of runs in the exposure window",
)
BENCHMARK_ITERATIONS = MetricSpec(
    "benchhub_benchmark_iterations",
    "gauge",
    "Iterations the benchmark tool ran to measure the result, at the run's end time.",
    BENCHMARK_LABELS,
    "results of runs in the exposure window",
)
AGENT_INFO = MetricSpec(
    "benchhub_agent_info", "gauge", "Agent version and host; always 1.", ("version", "host"), "1"
)
COLLECTOR_DURATION = MetricSpec(
    "benchhub_agent_collector_duration_seconds",
    "gauge",
    "Time a collector took during this scrape.",
    ("collector",),
    "one per collector",
)
COLLECTOR_SUCCESS = MetricSpec(
    "benchhub_agent_collector_success",
    "gauge",
    "1 if the collector succeeded during this scrape, 0 if it failed.",
    ("collector",),
    "one per collector",
)
CENTRAL_REQUESTS = MetricSpec(
    "benchhub_central_requests_total",
    "counter",
    "HTTP requests served by central.",
    ("method", "route", "status"),
    "routes x methods x status codes",
)
CENTRAL_REQUEST_DURATION = MetricSpec(
    "benchhub_central_request_duration_seconds",
    "histogram",
    "Time central took to serve an HTTP request.",
    ("method", "route"),
    "routes x methods",
)

CATALOG: tuple[MetricSpec, ...] = (
    BENCHMARK_VALUE,
    BENCHMARK_ITERATIONS,
    AGENT_INFO,
    COLLECTOR_DURATION,
    COLLECTOR_SUCCESS,
    CENTRAL_REQUESTS,
    CENTRAL_REQUEST_DURATION,
)
