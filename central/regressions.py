"""Regressions found in history: when a run of a watched branch finishes, the detector reads the
series it touched (the branch's last runs) and opens a regression where a change point made
one worse beyond its threshold; a later change point back to the old level fixes it.

Also the ``benchhub_regressions_open`` gauge central's /metrics shows (read from the table at
each scrape), which vmalert and Grafana alert on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import numpy as np
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from scipy import stats
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central import regression_repository as repo
from central.changepoints import MIN_SEGMENT, ChangePoint, detect
from central.models import Project, Regression, Run, utcnow
from central.regression_schemas import RegressionState
from central.repository import last_finished_runs
from central.schemas import Direction
from central.series import import_url
from central.stats import direction_of, threshold_of
from exporter.exposition import escape_label_value
from exporter.metrics import CHANGE_POINT, REGRESSIONS_OPEN

log = logging.getLogger("central.regressions")
NEAR = 3  # runs: a change point this close to a known regression's is the same one, seen again
_LOCAL = 30  # runs each side behind a change's confidence interval
# Runs a change point needs after it before it opens or fixes anything: the detector keeps
# MIN_SEGMENT runs each side of a split, so a step 3 runs from the end is first seen 3 runs early
MIN_AFTER = MIN_SEGMENT + NEAR
# A regression is a claim a team acts on: a change point opens or fixes one only with p below
# this (the detector also reports weaker ones, e.g. in a history's first runs, where the noise
# estimate rests on few values)
EVIDENCE = 1e-3


def _interval(values: list[float], points: list[ChangePoint], i: int) -> tuple[float, float, int, int]:
    """95% CI of the relative change at points[i] (Welch, on the log values next to it)."""
    k = points[i].index
    lo = points[i - 1].index if i > 0 else 0
    hi = points[i + 1].index if i + 1 < len(points) else len(values)
    before = np.log(np.asarray(values[max(lo, k - _LOCAL) : k]))
    after = np.log(np.asarray(values[k : min(hi, k + _LOCAL)]))
    diff = float(after.mean() - before.mean())
    se = math.sqrt(float(before.var(ddof=1)) / len(before) + float(after.var(ddof=1)) / len(after))
    half = float(stats.t.ppf(0.975, max(min(len(before), len(after)) - 1, 1))) * se
    return math.expm1(diff - half), math.expm1(diff + half), len(before), len(after)


def _index(series: repo.Series, regression: Regression) -> int | None:
    for i, run in enumerate(series.runs):
        if run.id == regression.run_id:
            return i
    return None


def scan(session: Session, run: Run, window: int) -> list[Marker]:
    """Open and fix the regressions the run's series show; markers of what changed.

    Scans of one project wait for each other: two runs finishing together would each read
    "no regression yet" and open the same one twice. A no-op UPDATE of the project's row (of
    a column no key holds, so inserts of runs referencing it do not wait) is the lock, the same
    on both databases: PostgreSQL locks the row, SQLite the database, each until the scan
    commits (a second worker process waits the same way).
    """
    session.execute(update(Project).where(Project.id == run.project_id).values(created_at=Project.created_at))
    changed: list[Marker] = []
    runs = list(reversed(last_finished_runs(session, run, window)))
    for series in repo.history(session, runs, run):
        if len(series.values) < 12 or any(v <= 0 for v in series.values):
            continue
        points = detect(series.values)
        if not points:
            continue
        key = repo.series_key(series.benchmark, series.measure, series.labels)
        known = repo.of_series(session, run, key)
        direction = direction_of(series.measure, series.unit, series.direction)
        min_effect = threshold_of(run.thresholds, series.measure).min_effect
        for i, point in enumerate(points):
            if abs(point.change) < min_effect or len(series.values) - point.index < MIN_AFTER:
                continue
            if point.p_value > EVIDENCE:
                continue
            worse = point.change > 0 if direction == Direction.lower_better else point.change < 0
            if worse:
                seen = [r for r in known if _near(series, r, point.index)]
                if seen:  # seen before, with fewer runs after it: placed again with what is known now
                    row, was = seen[-1], seen[-1].commit
                    if _refine(row, series, points, i):  # its marker moves to the new first commit
                        stale = None if _marks(session, row, was) else was
                        changed.append(Marker(row, "regression", series.runs[point.index], replaces=stale))
                    continue
                opened = _open(session, run, series, key, direction, points, i)
                known.append(opened)
                changed.append(Marker(opened, "regression", series.runs[point.index]))
            else:
                fixed = _fix(session, series, known, point, min_effect)
                changed.extend(Marker(row, "fix", series.runs[point.index]) for row in fixed)
    session.commit()
    return changed


def _marks(session: Session, row: Regression, commit: str) -> bool:
    """Whether another regression still marks ``commit`` in the same marker series (markers
    carry no benchmark labels: two label sets of a benchmark share them)."""
    found = session.scalar(
        select(Regression.id).where(
            Regression.project_id == row.project_id, Regression.target == row.target,
            Regression.branch == row.branch, Regression.benchmark == row.benchmark,
            Regression.measure == row.measure, Regression.commit == commit, Regression.id != row.id,
        ).limit(1)
    )  # fmt: skip
    return found is not None


def _near(series: repo.Series, regression: Regression, index: int) -> bool:
    at = _index(series, regression)
    return (at is not None and abs(at - index) <= NEAR) or regression.commit == series.runs[index].commit


def _open(
    session: Session, run: Run, series: repo.Series, key: str, direction: Direction,
    points: list[ChangePoint], i: int,
) -> Regression:  # fmt: skip
    point = points[i]
    low, high, runs_before, runs_after = _interval(series.values, points, i)
    first = series.runs[point.index]
    row = Regression(
        org_id=run.project.org_id, project_id=run.project_id, target=run.target, branch=run.branch,
        benchmark=series.benchmark, measure=series.measure, labels=series.labels, series_key=key,
        unit=series.unit, direction=direction.value, state=RegressionState.open.value, commit=first.commit,
        previous_commit=series.runs[point.index - 1].commit, run_id=first.id, before=point.before,
        after=point.after, change=point.change, change_low=low, change_high=high, p_value=point.p_value,
        runs_before=runs_before, runs_after=runs_after,
    )  # fmt: skip
    session.add(row)
    session.flush()
    repo.record(session, row, None, "central", f"change point at {first.commit[:12]}: {point.change:+.1%}")
    log.info("regression %d opened: %s %s %+.1f%% at %s", row.id, series.benchmark, series.measure,
             point.change * 100, first.commit[:12])  # fmt: skip
    return row


def _refine(row: Regression, series: repo.Series, points: list[ChangePoint], i: int) -> bool:
    """Place an open regression again; whether its first commit moved."""
    if row.state == RegressionState.fixed.value:
        return False
    point, first = points[i], series.runs[points[i].index]
    moved = first.commit != row.commit
    low, high, row.runs_before, row.runs_after = _interval(series.values, points, i)
    row.commit, row.previous_commit, row.run_id = first.commit, series.runs[point.index - 1].commit, first.id
    row.before, row.after, row.change, row.p_value = point.before, point.after, point.change, point.p_value
    row.change_low, row.change_high = low, high
    return moved


def _fix(
    session: Session, series: repo.Series, known: list[Regression], point: ChangePoint, min_effect: float
) -> list[Regression]:
    """Regressions this better-direction change point brings back to their old level."""
    fixed = []
    for row in known:
        if row.state == RegressionState.fixed.value:
            continue
        at = _index(series, row)
        if at is not None and at >= point.index:
            continue
        if abs(point.after / row.before - 1) > max(min_effect, abs(row.change) / 2):
            continue
        old, row.state = row.state, RegressionState.fixed.value
        row.fixed_commit, row.updated_at = series.runs[point.index].commit, utcnow()
        repo.record(session, row, old, "central", f"back to the old level at {row.fixed_commit[:12]}")
        fixed.append(row)
    return fixed


@dataclass(frozen=True)
class Marker:
    """A change point that opened (``regression``) or fixed (``fix``) a regression, at ``run``."""

    regression: Regression
    kind: str
    run: Run
    replaces: str | None = None  # a regression placed again: the commit its old marker is at

    def _labels(self, commit: str) -> str:
        row = self.regression
        values = {"org": row.project.org.name, "project": row.project.name, "target": row.target,
                  "branch": row.branch, "benchmark": row.benchmark, "measure": row.measure,
                  "commit": commit, "kind": self.kind}  # fmt: skip
        return ",".join(f'{n}="{escape_label_value(values[n])}"' for n in CHANGE_POINT.labels)

    def text(self) -> str:
        row, at = self.regression, self.run.finished_at or self.run.created_at
        change = (
            row.change if self.kind == "regression" else (row.before / row.after - 1 if row.after else 0.0)
        )
        labels = self._labels(self.run.commit)
        return f"{CHANGE_POINT.name}{{{labels}}} {change!r} {int(at.timestamp() * 1000)}\n"

    def stale(self) -> str | None:
        """The series selector of the marker this one replaces (deleted from VictoriaMetrics)."""
        return None if self.replaces is None else f"{CHANGE_POINT.name}{{{self._labels(self.replaces)}}}"


def scan_finished(
    sessions: Callable[[], Session],
    run_id: str,
    window: int,
    write_url: str | None,
    vm_url: str | None = None,
) -> None:
    """A finished run's scan in a session of its own (a background task: the run's own
    request has been answered), and its markers to VictoriaMetrics (the trends dashboard's
    change-point annotations; the marker of a regression placed again moves: the old one is
    deleted through ``vm_url``); a failure is logged, never raised into the server."""
    try:
        with sessions() as session:
            run = session.get(Run, run_id)
            markers = scan(session, run, window) if run is not None else []
            text = "".join(m.text() for m in markers)
            stale = [s for m in markers if (s := m.stale()) is not None]
        if stale and vm_url:
            delete = f"{vm_url.rstrip('/')}/api/v1/admin/tsdb/delete_series"
            httpx.post(delete, data={"match[]": stale}, timeout=10).raise_for_status()
        if text and write_url:
            httpx.post(import_url(write_url), content=text, timeout=10).raise_for_status()
    except Exception:
        log.exception("change-point scan after run %s failed", run_id)


class RegressionMetrics(Collector):
    """``benchhub_regressions_open`` by org, project, target, branch, benchmark and measure."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            REGRESSIONS_OPEN.family, REGRESSIONS_OPEN.help, labels=REGRESSIONS_OPEN.labels
        )
        with self._sessions() as session:
            for *labels, count in repo.open_counts(session):
                family.add_metric(labels, count)
        yield family
