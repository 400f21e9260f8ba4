"""central's own Prometheus metrics (names: benchhub_central_*)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class CentralMetrics:
    """Request count and latency by method, route template and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "benchhub_central_requests",
            "HTTP requests served by central.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "benchhub_central_request_duration_seconds",
            "Time to serve an HTTP request.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
