"""Remote jobs: submit a run for benchmark machines, agents claim it (long-poll), cancel."""

from __future__ import annotations

import time

import anyio
from fastapi import APIRouter, Request, Response

from central import job_repository as jobs
from central import repository
from central.api.deps import AgentDep, ClockDep, ReaderDep, SessionDep, WriterDep
from central.errors import NotFound
from central.job_schemas import JobClaim, JobClaimed, JobStatus, JobSubmit
from central.schemas import RunPublic

router = APIRouter(prefix="/api/v1", tags=["jobs"])
_POLL_SECONDS = 0.5


@router.post("/jobs", status_code=201)
def submit_job(body: JobSubmit, session: SessionDep, who: WriterDep, request: Request) -> RunPublic:
    """Queue the run; an agent of the org whose labels meet the requirements will take it."""
    limit = request.app.state.settings.max_queued_jobs
    return repository.run_public(jobs.submit(session, body, who, limit))


@router.post("/jobs/claim", response_model=None)
async def claim_job(body: JobClaim, who: AgentDep, request: Request, now: ClockDep) -> JobClaimed | Response:
    """The oldest job this agent can take, with a token for this attempt; 204 when none came
    within ``wait_seconds``. Each try uses a session (and a worker thread) of its own: none is
    held while waiting. An agent that hung up is given nothing: a job claimed for a gone agent
    would wait for its lease to end before another could take it."""

    def once() -> JobClaimed | None:
        with request.app.state.sessions() as session:
            got = jobs.claim(session, body, who, now(), request.app.state.settings.job_lease_seconds)
            if got is None:
                return None
            job, token = got
            return JobClaimed(
                run=repository.run_public(job.run), repository_url=job.repository_url,
                definition=job.definition, exclusive=job.exclusive, attempt=job.attempt, token=token,
                bundle_commit=job.bundle_commit,
            )  # fmt: skip

    deadline = time.monotonic() + body.wait_seconds
    while not await request.is_disconnected():
        if (claimed := await anyio.to_thread.run_sync(once)) is not None:
            return claimed
        if time.monotonic() + _POLL_SECONDS > deadline:
            break
        await anyio.sleep(_POLL_SECONDS)
    return Response(status_code=204)


@router.get("/jobs/{run_id}")
def job_status(run_id: str, session: SessionDep, who: ReaderDep) -> JobStatus:
    """What the job's agent polls while it runs (its job token may ask): whether to stop."""
    run, job = jobs.status(session, run_id, who)
    return JobStatus(state=run.state, cancel_requested=job.cancel_requested)


@router.post("/jobs/{run_id}/heartbeat")
def job_heartbeat(
    run_id: str, session: SessionDep, who: WriterDep, request: Request, now: ClockDep
) -> JobStatus:
    """The job's agent, every second or so with the job token: renews the lease; whether to stop."""
    lease = request.app.state.settings.job_lease_seconds
    run, job = jobs.heartbeat(session, run_id, who, now(), lease)
    return JobStatus(state=run.state, cancel_requested=job.cancel_requested)


@router.get("/jobs/{run_id}/bundle", response_class=Response)
def job_bundle(run_id: str, session: SessionDep, who: ReaderDep) -> Response:
    """The git bundle of a job submitted from a dirty tree (its agent fetches it with the job token)."""
    _, job = jobs.status(session, run_id, who)
    if job.bundle is None:
        raise NotFound(f"run {run_id} was submitted from a clean tree: it has no bundle")
    return Response(job.bundle, media_type="application/octet-stream")


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: str, session: SessionDep, who: WriterDep) -> RunPublic:
    """A queued job is cancelled at once; a running one is stopped by its agent within seconds."""
    return repository.run_public(jobs.cancel(session, run_id, who))
