"""Runs the other collectors, timing each; one that raises is reported, never breaks /metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client.core import Metric

from exporter.metrics import COLLECTOR_DURATION, COLLECTOR_SUCCESS

log = logging.getLogger("exporter.collectors")


class Collector(Protocol):
    def collect(self) -> Iterator[Metric]: ...


class InstrumentedCollectors:
    """Like node_exporter's node_scrape_collector_*: duration and success per collector."""

    def __init__(self, collectors: Mapping[str, Collector]) -> None:
        self._collectors = dict(collectors)

    def collect(self) -> Iterator[Metric]:
        duration = COLLECTOR_DURATION.new_family()
        success = COLLECTOR_SUCCESS.new_family()
        for name, collector in self._collectors.items():
            start = time.perf_counter()
            try:
                metrics = list(collector.collect())
                ok = 1.0
            except Exception:
                log.exception("collector %s failed", name)
                metrics, ok = [], 0.0
            duration.add_metric([name], time.perf_counter() - start)
            success.add_metric([name], ok)
            yield from metrics
        yield duration
        yield success
