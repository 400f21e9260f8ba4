"""Regressions of the caller's org: list, get, acknowledge, and the history of each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from central import regression_repository as regressions
from central import repository
from central.api.deps import ReaderDep, SessionDep, WriterDep
from central.errors import BadRequest
from central.regression_schemas import (
    HistoryPoint,
    HistoryPublic,
    RegressionAck,
    RegressionPublic,
    RegressionsPublic,
    RegressionState,
)
from central.schemas import EventPublic, EventsPublic

router = APIRouter(prefix="/api/v1/regressions", tags=["regressions"])
history_router = APIRouter(prefix="/api/v1/history", tags=["regressions"])
RegressionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("")
def list_regressions(
    session: SessionDep,
    who: ReaderDep,
    project: Annotated[str | None, Query(max_length=200)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    branch: Annotated[str | None, Query(max_length=500)] = None,
    state: RegressionState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> RegressionsPublic:
    """Newest first."""
    rows = regressions.list_regressions(
        session, repository.check_org(who, None), project=project, branch=branch, state=state, target=target,
        limit=limit,
    )  # fmt: skip
    return RegressionsPublic(data=[regressions.public(r) for r in rows], count=len(rows))


@router.get("/{regression_id}")
def get_regression(regression_id: RegressionId, session: SessionDep, who: ReaderDep) -> RegressionPublic:
    return regressions.public(regressions.get(session, repository.check_org(who, None), regression_id))


@router.post("/{regression_id}/ack")
def acknowledge(
    regression_id: RegressionId, body: RegressionAck, session: SessionDep, who: WriterDep
) -> RegressionPublic:
    """A person accepts it, saying why: it stays on record, off the open list and the alerts."""
    org_id = repository.check_org(who, None)
    return regressions.public(regressions.acknowledge(session, org_id, regression_id, body.reason, who.actor))


@router.get("/{regression_id}/events")
def regression_events(regression_id: RegressionId, session: SessionDep, who: ReaderDep) -> EventsPublic:
    org_id = repository.check_org(who, None)
    regressions.get(session, org_id, regression_id)
    rows = repository.list_subject_events(session, org_id, "regression", str(regression_id))
    return EventsPublic(data=[EventPublic.model_validate(e) for e in rows], count=len(rows))


Name = Annotated[str, Query(min_length=1, max_length=1000)]


@history_router.get("")
def series_history(
    session: SessionDep,
    who: ReaderDep,
    project: Name,
    target: Name,
    benchmark: Name,
    measure: Name,
    branch: Name = "main",
    labels: Annotated[
        list[str] | None, Query(max_length=20, description="NAME=VALUE; needed when the series has several")
    ] = None,
    limit: Annotated[int, Query(ge=2, le=10_000)] = 1000,
) -> HistoryPublic:
    """One value per finished run of a series on a branch, oldest first (what the detector reads)."""
    named = None
    if labels is not None:
        pairs = [item.partition("=") for item in labels]
        if any(not sep or not name for name, sep, _ in pairs):
            raise BadRequest("labels: each is NAME=VALUE")
        named = {name: value for name, _, value in pairs}
    org_id = repository.check_org(who, None)
    found, points = regressions.series_history(
        session, org_id, project, target, branch, benchmark, measure, named, limit
    )
    data = [
        HistoryPoint(run_id=r.id, commit=r.commit, at=r.finished_at or r.created_at, value=v)
        for r, v in points
    ]
    return HistoryPublic(labels=found, data=data, count=len(data))
