"""Runs: create, read, list, change state, upload and list results, list events."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from central import job_repository, repository
from central.api.deps import ClockDep, MarkersDep, ReaderDep, SessionDep, WriterDep
from central.errors import BadRequest
from central.regressions import scan_finished
from central.schemas import (
    EventPublic,
    EventsPublic,
    ReexportPublic,
    ResultPublic,
    ResultsIn,
    ResultsPublic,
    RunCreate,
    RunPublic,
    RunsPublic,
    RunState,
    RunTransition,
    StageEvent,
)
from central.series import reexport
from central.wire import ALLOWED_TRANSITIONS

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])
MAX_COMMITS = 100  # a baseline search sends a chunk of first-parent history


@router.post("", status_code=201)
def create_run(body: RunCreate, session: SessionDep, who: WriterDep) -> RunPublic:
    return repository.run_public(repository.create_run(session, body, who))


def _cursor(run: RunPublic) -> str:
    raw = json.dumps([run.created_at.isoformat(), run.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        at, run_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(run_id)
    except (ValueError, TypeError):
        raise BadRequest("cursor: not one this API gave; list again without it") from None


@router.get("")
def list_runs(
    session: SessionDep,
    who: ReaderDep,
    now: ClockDep,
    project: str | None = None,
    target: str | None = None,
    branch: str | None = None,
    commit: str | None = None,
    state: RunState | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    id: Annotated[
        str | None,
        Query(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$", description="run ids starting so"),
    ] = None,
    commits: Annotated[
        list[str] | None,
        Query(description=f"runs of any of these full commit SHAs (at most {MAX_COMMITS})"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RunsPublic:
    """Runs, newest first, ``limit`` a page; follow ``next_cursor`` for the rest."""
    if commits is not None and (len(commits) > MAX_COMMITS or any(len(c) > 100 for c in commits)):
        raise BadRequest(f"commits: at most {MAX_COMMITS} commit SHAs a request, each up to 100 characters")
    org_id = repository.check_org(who, None)
    rows = repository.list_runs(
        session, org_id,
        project=project, target=target, branch=branch, commit=commit, state=state,
        since=since, until=until, after=_after(cursor), id_prefix=id, commits=commits, limit=limit + 1,
    )  # fmt: skip
    waiting = job_repository.waiting_reasons(session, org_id, rows[:limit], now())
    page = [repository.run_public(r, waiting.get(r.id)) for r in rows[:limit]]
    more = len(rows) > limit
    return RunsPublic(data=page, count=len(page), next_cursor=_cursor(page[-1]) if more else None)


@router.get("/{run_id}")
def get_run(run_id: str, session: SessionDep, who: ReaderDep, now: ClockDep) -> RunPublic:
    org_id = repository.check_org(who, None)
    run = repository.get_run(session, org_id, run_id)
    return repository.run_public(
        run, job_repository.waiting_reasons(session, org_id, [run], now()).get(run.id)
    )


@router.get("/{run_id}/output", response_class=PlainTextResponse)
def run_output(
    run_id: str, session: SessionDep, who: ReaderDep,
    offset: Annotated[int | None, Query(ge=0, le=2**62, description="from this character on")] = None,
) -> PlainTextResponse:  # fmt: skip
    """The raw output central keeps of the run (its last MiB; the runner keeps all of it); with
    ``offset``, from there on. Headers: X-Output-Length (characters so far), X-Run-State."""
    run = repository.get_run(session, repository.check_org(who, None), run_id)
    text = repository.output_from(run, offset) if offset is not None else run.raw_output or ""
    headers = {"X-Output-Length": str(repository.output_length(run)), "X-Run-State": run.state}
    return PlainTextResponse(text, headers=headers)


@router.post("/{run_id}/events", status_code=201)
def add_stage_event(run_id: str, body: StageEvent, session: SessionDep, who: WriterDep) -> EventPublic:
    """A background stage's change (starting, ready, failed, exited, stopped) in the run's history."""
    event = repository.stage_event(session, repository.check_org(who, None), run_id, body, who.actor)
    return EventPublic.model_validate(event)


@router.post("/{run_id}/output")
async def append_output(
    run_id: str, request: Request, who: WriterDep,
    offset: Annotated[int, Query(ge=0, le=2**62, description="where the text starts in the whole output")],
) -> dict[str, int]:  # fmt: skip
    """A running run's output as it comes (a job's agent sends it each half second): text/plain
    UTF-8 starting at character ``offset``; answers the characters received so far."""
    text = (await request.body()).decode("utf-8", errors="replace")
    org_id = repository.check_org(who, None)

    def store() -> int:
        with request.app.state.sessions() as session:
            return repository.append_output(session, org_id, run_id, offset, text)

    return {"length": await run_in_threadpool(store)}


@router.post("/{run_id}/state")
def change_state(
    run_id: str, body: RunTransition, session: SessionDep, who: WriterDep, markers: MarkersDep,
    request: Request, tasks: BackgroundTasks,
) -> RunPublic:  # fmt: skip
    org_id = repository.check_org(who, None)
    run = repository.run_public(repository.transition(session, org_id, run_id, body, who.actor))
    if not ALLOWED_TRANSITIONS[run.state]:  # the run is over: mark its start and end
        markers.run_ended(run)
    settings = request.app.state.settings
    if run.state == RunState.finished and run.branch in settings.watched_branches:
        # after the answer is sent: the runner never waits for the detector
        tasks.add_task(
            scan_finished,
            request.app.state.sessions,
            run.id,
            settings.detect_window,
            settings.write_url,
            settings.vm_url,
        )
    return run


@router.post("/{run_id}/reexport")
def reexport_run(run_id: str, session: SessionDep, who: WriterDep, request: Request) -> ReexportPublic:
    """Write a finished run's results and markers to VictoriaMetrics again, now (idempotent)."""
    org_id = repository.check_org(who, None)
    run = repository.run_public(repository.get_run(session, org_id, run_id))
    results = repository.list_results(session, org_id, run_id)
    settings = request.app.state.settings
    windows = settings.baseline_runs
    prior = repository.prior_values(request.app.state.sessions, run.id, max(windows, default=0))
    return ReexportPublic(run_id=run.id, samples=reexport(settings.write_url, run, results, prior, windows))


@router.post("/{run_id}/results")
def upload_results(run_id: str, body: ResultsIn, session: SessionDep, who: WriterDep) -> dict[str, int]:
    added = repository.add_results(session, repository.check_org(who, None), run_id, body.results)
    return {"received": len(body.results), "stored": added}


@router.get("/{run_id}/results")
def list_results(run_id: str, session: SessionDep, who: ReaderDep) -> ResultsPublic:
    rows = repository.list_results(session, repository.check_org(who, None), run_id)
    return ResultsPublic(data=[ResultPublic.model_validate(r) for r in rows], count=len(rows))


@router.get("/{run_id}/events")
def list_events(run_id: str, session: SessionDep, who: ReaderDep) -> EventsPublic:
    rows = repository.list_events(session, repository.check_org(who, None), run_id)
    return EventsPublic(data=[EventPublic.model_validate(e) for e in rows], count=len(rows))
