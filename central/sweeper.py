"""Runs nobody finishes: central fails them as abandoned once they are past their timeout.

A runner killed with SIGKILL, a machine that lost power, a bhubctl whose central was gone at
the end and that never ran again: each leaves a run 'running' with no one left to close it.
Every ``interval`` seconds the sweeper fails the runs past their timeout plus a grace
(``failed``, reason ``abandoned``); a runner that comes back later still delivers its results
and final state (``bhubctl runs sync``), and the run's markers are written either way.

It also reaps jobs whose agent stopped renewing their lease (``job_repository.reap``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from central import job_repository, repository
from central.markers import RunMarkers
from central.models import utcnow
from central.periodic import Periodic

log = logging.getLogger("central.sweeper")


class AbandonedRuns:
    def __init__(
        self,
        sessions: Callable[[], Session],
        markers: RunMarkers,
        grace_seconds: float,
        default_timeout_seconds: float,
        interval_seconds: float,
        lease_seconds: float = 30,
    ) -> None:
        self._sessions = sessions
        self._lease = lease_seconds
        self._markers = markers
        self._grace = grace_seconds
        self._default = default_timeout_seconds
        self._periodic = Periodic("sweep for abandoned runs", interval_seconds, self.sweep, log)

    def sweep(self) -> int:
        """Fail the overdue runs now; how many."""
        with self._sessions() as session:
            now = utcnow()
            requeued, lost = job_repository.reap(session, now)
            for run in requeued:
                log.warning("job %s back in the queue: its agent did not start it in time", run.id)
            runs = repository.abandon_overdue(session, now, self._default, self._grace)
            for run in runs:
                log.warning("run %s failed as abandoned: no final state from its runner in time", run.id)
            for run in lost:
                log.warning("job %s failed: its node stopped renewing the lease (node_lost)", run.id)
            for run in [*runs, *lost]:
                self._markers.run_ended(repository.run_public(run))
            return len(runs) + len(lost)

    def start(self) -> None:
        # while central was down no agent could renew a lease: each gets a whole one to reconnect
        # before the reaper judges it (a restart must not fail the jobs that ran through it)
        with self._sessions() as session:
            renewed = job_repository.renew_all_leases(session, utcnow(), self._lease)
        if renewed:
            log.info("%d claimed jobs' leases renewed for %g s: their agents reconnect", renewed, self._lease)
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
