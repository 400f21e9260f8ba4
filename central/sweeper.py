"""Runs nobody finishes: central fails them as abandoned once they are past their timeout.

A runner killed with SIGKILL, a machine that lost power, a bhubctl whose central was gone at
the end and that never ran again: each leaves a run 'running' with no one left to close it.
Every ``interval`` seconds the sweeper fails the runs past their timeout plus a grace
(``failed``, reason ``abandoned``); a runner that comes back later still delivers its results
and final state (``bhubctl runs sync``), and the run's markers are written either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from central import repository
from central.markers import RunMarkers
from central.models import utcnow

log = logging.getLogger("central.sweeper")


class AbandonedRuns:
    def __init__(
        self,
        sessions: Callable[[], Session],
        markers: RunMarkers,
        grace_seconds: float,
        default_timeout_seconds: float,
        interval_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._markers = markers
        self._grace = grace_seconds
        self._default = default_timeout_seconds
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """Fail the overdue runs now; how many."""
        with self._sessions() as session:
            runs = repository.abandon_overdue(session, utcnow(), self._default, self._grace)
            for run in runs:
                log.warning("run %s failed as abandoned: no final state from its runner in time", run.id)
                self._markers.run_ended(repository.run_public(run))
            return len(runs)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sweep()
            except Exception:  # the database may be away for a while: the next sweep tries again
                log.exception("sweep for abandoned runs failed")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="abandoned-runs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
