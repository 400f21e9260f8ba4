"""central's own Prometheus metrics; names, help and labels come from the catalog."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from exporter.metrics import CENTRAL_REQUEST_DURATION, CENTRAL_REQUESTS


class CentralMetrics:
    """Request count and latency by method, route template and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            CENTRAL_REQUESTS.family, CENTRAL_REQUESTS.help, CENTRAL_REQUESTS.labels, registry=registry
        )
        self.latency = Histogram(
            CENTRAL_REQUEST_DURATION.family,
            CENTRAL_REQUEST_DURATION.help,
            CENTRAL_REQUEST_DURATION.labels,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
