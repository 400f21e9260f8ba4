"""Run markers: what central says about a run once it is over, to the observability stack.

- VictoriaMetrics: a ``benchhub_run_info`` sample at the run's start and end (dashboards draw
  them as annotations and join benchmark series to runs with them).
- Grafana (when BENCHHUB_CENTRAL_GRAFANA_URL is set): a region annotation over the run, tagged
  ``benchhub``, ``org:<o>``, ``project:<p>``, ``target:<t>``, ``branch:<b>``, ``commit:<c>``
  and ``run:<id>`` (the trends dashboard shows them, with the commit, when its "Runs: commits"
  annotation is on).

Delivery happens on a background thread: a run's state change never waits for, or fails
because of, either; a failed delivery is logged and tried again later (RETRY_DELAYS).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from grafana_client.api import GrafanaApi

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


def annotation_tags(run: RunPublic) -> list[str]:
    """What the trends dashboard's "Runs: commits" annotation filters on (org, project, target,
    branch: the org keeps one org's runs off another's board); the run id last (a retry's lookup)."""
    return ["benchhub", f"org:{run.org}", f"project:{run.project}", f"target:{run.target}",
            f"branch:{run.branch}", f"commit:{run.commit}", f"run:{run.id}"]  # fmt: skip


class Sink(Protocol):
    name: str

    def send(self, run: RunPublic, retry: bool) -> None:
        """Deliver the run's marker; raise on failure (it is tried again)."""

    def close(self) -> None: ...


class GrafanaSink:
    """A Grafana annotation per run, through grafana-client; ``credential``: a token or 'user:pass'."""

    name = "grafana"

    def __init__(self, url: str, credential: str | None, timeout: float = 10.0) -> None:
        auth: str | tuple[str, str] | None = credential
        if credential and ":" in credential:
            user, _, password = credential.partition(":")
            auth = (user, password)
        self.url = url
        self._api = GrafanaApi.from_url(url, credential=auth, timeout=timeout)

    def send(self, run: RunPublic, retry: bool) -> None:
        tags = annotation_tags(run)
        if retry and self._api.annotations.find_annotations(tags=[tags[-1]], limit=1):
            return  # the earlier try reached Grafana after all: do not annotate twice
        start = run.started_at or run.created_at
        self._api.annotations.add_annotation(
            time_from=int(start.timestamp() * 1000),
            time_to=int((run.finished_at or start).timestamp() * 1000),
            tags=tags,
            text=f"{run.project} {run.target} @ {run.commit[:12]} on {run.branch}: {run.state.value}",
        )

    def close(self) -> None:
        pass


@dataclass(order=True)
class _Pending:
    due: float
    attempt: int
    sink: Sink = field(compare=False)
    run: RunPublic = field(compare=False)


class RunMarkers:
    """Queue of markers to deliver to every sink; no sinks: nothing to do."""

    def __init__(self, sinks: Sequence[Sink], retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.sinks = list(sinks)
        self._delays = tuple(retry_delays)
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.written: dict[str, int] = {sink.name: 0 for sink in self.sinks}

    def run_ended(self, run: RunPublic) -> None:
        for sink in self.sinks:
            self._queue.put(_Pending(time.monotonic(), 0, sink, run))

    def _loop(self) -> None:
        pending: list[_Pending] = []
        while True:
            wait = max(0.0, min((p.due for p in pending), default=time.monotonic() + 3600) - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
                if item is None:
                    return
                pending.append(item)
            except queue.Empty:
                pass
            now = time.monotonic()
            due = [p for p in pending if p.due <= now]
            pending = [p for p in pending if p.due > now]
            for item in due:
                pending.extend(self._deliver(item))

    def _deliver(self, item: _Pending) -> list[_Pending]:
        sink, run = item.sink, item.run
        try:
            sink.send(run, retry=item.attempt > 0)
            self.written[sink.name] += 1
            return []
        except Exception as exc:
            if item.attempt >= len(self._delays):
                log.error("run %s: not delivered to %s after %d tries (%s); given up: once it is back, "
                          "'bhubctl runs reexport %s' writes it", run.id, sink.name, item.attempt + 1, exc,
                          run.id)  # fmt: skip
                return []
            delay = self._delays[item.attempt]
            log.warning("run %s: not delivered to %s (%s); trying again in %g s", run.id, sink.name,
                        exc, delay)  # fmt: skip
            return [_Pending(time.monotonic() + delay, item.attempt + 1, sink, run)]

    def start(self) -> None:
        if self.sinks and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="run-markers", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None
        for sink in self.sinks:
            sink.close()
