"""Scheduled org backups (BENCHHUB_CENTRAL_BACKUP_INTERVAL_HOURS) and the backup metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central import backup
from central.errors import DomainError
from central.models import BackupTarget
from central.periodic import Periodic
from central.settings import CentralSettings
from exporter.metrics import BACKUP_FAILURES, BACKUP_LAST_BYTES, BACKUP_LAST_DURATION, BACKUP_LAST_SUCCESS

log = logging.getLogger("central.backups")


class BackupScheduler:
    """Every ``interval`` seconds, back up every org that has a backup bucket, one after another."""

    def __init__(self, sessions: Callable[[], Session], vm_url: str, interval: float) -> None:
        self._sessions, self._vm = sessions, vm_url
        self._periodic = Periodic("scheduled backups", interval, self.run_once, log, join_seconds=30)

    @classmethod
    def of(cls, settings: CentralSettings, sessions: Callable[[], Session]) -> BackupScheduler | None:
        """The schedule the settings ask for (an interval and a VictoriaMetrics), or None."""
        if settings.backup_interval_hours and settings.vm_url:
            return cls(sessions, settings.vm_url, settings.backup_interval_hours * 3600)
        return None

    def run_once(self) -> None:
        with self._sessions() as session:
            targets = session.scalars(select(BackupTarget)).all()
            for row in targets:
                name, target = row.org.name, backup.Target.of(row)
                try:
                    run = backup.run_backup(session, row.org, target, row.keep_last, row.keep_days, self._vm)
                except DomainError as exc:
                    log.error("scheduled backup of %s failed: %s", name, exc.detail)
                    session.rollback()
                    session.execute(
                        update(BackupTarget)
                        .where(BackupTarget.org_id == row.org_id)
                        .values(failures=BackupTarget.failures + 1)
                    )
                    session.commit()
                    continue
                log.info("backup of %s: %s in %.1f s; pruned %s", name, run.manifest.timestamp, run.seconds,
                         run.pruned or "nothing")  # fmt: skip
                if run.prune_error is not None:
                    log.warning("retention for %s failed: %s", name, run.prune_error)

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()


class BackupMetrics(Collector):
    """The last complete backup of every org with a bucket, read from central's database at scrape."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        last = GaugeMetricFamily(BACKUP_LAST_SUCCESS.family, BACKUP_LAST_SUCCESS.help, labels=["org"])
        took = GaugeMetricFamily(BACKUP_LAST_DURATION.family, BACKUP_LAST_DURATION.help, labels=["org"])
        size = GaugeMetricFamily(BACKUP_LAST_BYTES.family, BACKUP_LAST_BYTES.help, labels=["org"])
        failed = CounterMetricFamily(BACKUP_FAILURES.family, BACKUP_FAILURES.help, labels=["org"])
        with self._sessions() as session:
            for row in session.scalars(select(BackupTarget)):
                org = row.org.name
                if row.last_success_at is not None:
                    last.add_metric([org], row.last_success_at.timestamp())
                    took.add_metric([org], row.last_duration_seconds or 0.0)
                    size.add_metric([org], float(row.last_bytes or 0))
                failed.add_metric([org], row.failures)
        yield from (last, took, size, failed)
