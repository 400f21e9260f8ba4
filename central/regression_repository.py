"""The SQL of regressions: a branch's recent history of values, and the regressions themselves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from central.errors import Conflict, NotFound
from central.models import Event, Organization, Project, Regression, Result, Run, utcnow
from central.regression_schemas import RegressionPublic, RegressionState
from central.schemas import Direction, RunState


def series_key(benchmark: str, measure: str, labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps([benchmark, measure, sorted(labels.items())]).encode()).hexdigest()


@dataclass
class Series:
    """One result identity's values on a branch, one per run, oldest first."""

    benchmark: str
    measure: str
    labels: dict[str, str]
    unit: str
    direction: str | None
    runs: list[Run]
    values: list[float]


def history(session: Session, runs: list[Run], only: Run) -> list[Series]:
    """The series of the results ``only`` holds, over ``runs`` (failed results left out)."""
    order = {r.id: i for i, r in enumerate(runs)}
    columns = (Result.run_id, Result.benchmark, Result.measure, Result.unit, cast(Result.labels, Text),
               Result.value, Result.direction)  # fmt: skip
    touched = {
        (b, m, labels)
        for b, m, labels in session.execute(
            select(Result.benchmark, Result.measure, cast(Result.labels, Text))
            .where(Result.run_id == only.id, Result.value.is_not(None))
        )
    }  # fmt: skip
    series: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    meta: dict[tuple[str, str, str], tuple[str, str | None]] = {}
    for start in range(0, len(runs), 500):
        chunk = [r.id for r in runs[start : start + 500]]
        query = select(*columns).where(Result.run_id.in_(chunk), Result.value.is_not(None))
        for run_id, benchmark, measure, unit, labels, value, direction in session.execute(query):
            key = (benchmark, measure, labels)
            if key in touched:
                series.setdefault(key, []).append((order[run_id], float(value or 0)))
                meta[key] = (unit, direction)
    out = []
    for key, points in series.items():
        points.sort()
        unit, direction = meta[key]
        labels = orjson.loads(key[2]) if key[2] not in (None, "null") else {}
        out.append(Series(key[0], key[1], labels, unit, direction,
                          [runs[i] for i, _ in points], [v for _, v in points]))  # fmt: skip
    return out


def series_history(
    session: Session, org_id: int, project: str, target: str, branch: str, benchmark: str, measure: str,
    labels: dict[str, str] | None, limit: int,
) -> tuple[dict[str, str], list[tuple[Run, float]]]:  # fmt: skip
    """The newest ``limit`` values of one series, oldest first; several label sets need ``labels``."""
    query = (
        select(Run, cast(Result.labels, Text).label("labels_text"), Result.value)
        .join(Result, Result.run_id == Run.id).join(Run.project)
        .where(Project.org_id == org_id, Project.name == project, Run.target == target, Run.branch == branch)
        .where(Run.state == RunState.finished.value, Result.benchmark == benchmark, Result.measure == measure)
        .where(Result.value.is_not(None)).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit * 10)
    )  # fmt: skip
    by_labels: dict[str, list[tuple[Run, float]]] = {}
    for run, text, value in session.execute(query):
        found = orjson.loads(text) if text not in (None, "null") else {}
        if labels is None or found == labels:
            by_labels.setdefault(json.dumps(found, sort_keys=True), []).append((run, float(value or 0)))
    if not by_labels:
        where = f"{project}/{target} on {branch}"
        which = f"{benchmark} ({measure})" + (f" with labels {labels}" if labels else "")
        raise NotFound(f"no finished run of {where} has {which}; see 'bhubctl runs list'")
    if len(by_labels) > 1:
        sets = "; ".join(by_labels)
        raise Conflict(f"{benchmark} ({measure}) has several label sets ({sets}): name one with labels")
    chosen, points = next(iter(by_labels.items()))
    return json.loads(chosen), list(reversed(points[:limit]))


def of_series(session: Session, run: Run, key: str) -> list[Regression]:
    query = select(Regression).where(
        Regression.project_id == run.project_id, Regression.target == run.target,
        Regression.branch == run.branch, Regression.series_key == key,
    )  # fmt: skip
    return list(session.scalars(query.order_by(Regression.id)))


def record(
    session: Session, regression: Regression, old: str | None, actor: str, reason: str | None = None
) -> None:
    session.add(Event(org_id=regression.org_id, subject="regression", subject_id=str(regression.id),
                      from_state=old, to_state=regression.state, actor=actor, reason=reason))  # fmt: skip


def public(row: Regression) -> RegressionPublic:
    return RegressionPublic.model_validate(
        {**{c.key: getattr(row, c.key) for c in Regression.__table__.columns}, "org": row.project.org.name,
         "project": row.project.name, "direction": Direction(row.direction)}
    )  # fmt: skip


def list_regressions(
    session: Session, org_id: int, *, project: str | None, branch: str | None, state: RegressionState | None,
    target: str | None = None, limit: int = 1000,
) -> Sequence[Regression]:  # fmt: skip
    query = select(Regression).join(Regression.project).where(Regression.org_id == org_id)
    if project:
        query = query.where(Project.name == project)
    if branch:
        query = query.where(Regression.branch == branch)
    if target:
        query = query.where(Regression.target == target)
    if state:
        query = query.where(Regression.state == state.value)
    return session.scalars(
        query.order_by(Regression.opened_at.desc(), Regression.id.desc()).limit(limit)
    ).all()


def get(session: Session, org_id: int, regression_id: int) -> Regression:
    row = session.get(Regression, regression_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"no regression {regression_id}; list them with 'bhubctl regressions'")
    return row


def acknowledge(session: Session, org_id: int, regression_id: int, reason: str, actor: str) -> Regression:
    row = get(session, org_id, regression_id)
    if row.state != RegressionState.open.value:
        raise Conflict(f"regression {regression_id} is {row.state}; only an open one is acknowledged")
    row.state, row.reason, row.updated_at = RegressionState.acknowledged.value, reason, utcnow()
    record(session, row, RegressionState.open.value, actor, reason)
    session.commit()
    return row


def open_counts(session: Session) -> list[tuple[str, str, str, str, str, str, int]]:
    """Open regressions by org, project, target, branch, benchmark, measure (for /metrics)."""
    keys = (Organization.name, Project.name, Regression.target, Regression.branch, Regression.benchmark,
            Regression.measure)  # fmt: skip
    query = (
        select(*keys, func.count()).select_from(Regression).join(Regression.project).join(Project.org)
        .where(Regression.state == RegressionState.open.value).group_by(*keys)
    )  # fmt: skip
    return [(o, p, t, b, bm, m, int(n)) for o, p, t, b, bm, m, n in session.execute(query)]
