"""Run markers: a ``benchhub_run_info`` sample at a run's start and end, written to VictoriaMetrics.

Dashboards draw them as annotations and join benchmark series to runs with them. Writing
happens on a background thread: a run's state change never waits for, or fails because of,
VictoriaMetrics; a failed write is logged and tried again later (RETRY_DELAYS).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence

import httpx

from central.schemas import RunPublic
from exporter.exposition import escape_label_value
from exporter.metrics import RUN_INFO

log = logging.getLogger("central.markers")
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0)


def marker_text(run: RunPublic) -> str:
    """Prometheus text of the run's two markers, in the run's own times.

    Start and end are two series (label ``edge``): one series would lose a sample to
    VictoriaMetrics' deduplication whenever a run lasts less than its dedup interval.
    """
    values = {"org": run.org, "project": run.project, "target": run.target, "commit": run.commit,
              "branch": run.branch, "run_id": run.id, "state": run.state.value}  # fmt: skip
    start = run.started_at or run.created_at
    lines = []
    for edge, at in (("start", start), ("end", run.finished_at or start)):
        labels = ",".join(
            f'{name}="{escape_label_value(values.get(name, edge))}"' for name in RUN_INFO.labels
        )
        lines.append(f"{RUN_INFO.name}{{{labels}}} 1 {int(at.timestamp() * 1000)}\n")
    return "".join(lines)


class RunMarkers:
    """Queue of markers to write; ``vm_url`` None disables them."""

    def __init__(self, vm_url: str | None, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self._url = f"{vm_url.rstrip('/')}/api/v1/import/prometheus" if vm_url else None
        self._delays = tuple(retry_delays)
        self._queue: queue.Queue[tuple[float, int, str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.written = 0

    def run_ended(self, run: RunPublic) -> None:
        if self._url is not None:
            self._queue.put((time.monotonic(), 0, run.id, marker_text(run)))

    def _loop(self) -> None:
        pending: list[tuple[float, int, str, str]] = []
        with httpx.Client(timeout=10) as client:
            while True:
                wait = max(
                    0.0, min((p[0] for p in pending), default=time.monotonic() + 3600) - time.monotonic()
                )
                try:
                    item = self._queue.get(timeout=wait)
                    if item is None:
                        return
                    pending.append(item)
                except queue.Empty:
                    pass
                now = time.monotonic()
                due = [p for p in pending if p[0] <= now]
                pending = [p for p in pending if p[0] > now]
                for _, attempt, run_id, text in due:
                    pending.extend(self._write(client, attempt, run_id, text))

    def _write(
        self, client: httpx.Client, attempt: int, run_id: str, text: str
    ) -> list[tuple[float, int, str, str]]:
        assert self._url is not None
        try:
            client.post(self._url, content=text).raise_for_status()
            self.written += 1
            return []
        except httpx.HTTPError as exc:
            if attempt >= len(self._delays):
                log.error("run %s: marker not written to %s after %d tries (%s); given up", run_id, self._url,
                          attempt + 1, exc)  # fmt: skip
                return []
            delay = self._delays[attempt]
            log.warning(
                "run %s: marker not written to %s (%s); trying again in %g s", run_id, self._url, exc, delay
            )
            return [(time.monotonic() + delay, attempt + 1, run_id, text)]

    def start(self) -> None:
        if self._url is not None and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="run-markers", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None
