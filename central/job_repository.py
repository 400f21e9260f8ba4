"""The job queue in central's database (SQLite and PostgreSQL alike): submit, claim, cancel.

A claim is a compare-and-set: ``UPDATE jobs SET node_id = ... WHERE run_id = ? AND node_id IS
NULL``; of agents racing for one job exactly one updates a row, the others try the next job.
(Written so rather than with ``SELECT ... FOR UPDATE SKIP LOCKED``: SQLite has no row locks,
and the same code must run on both.)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from central import auth
from central.auth import Principal
from central.errors import Conflict, NotFound, TooManyRequests
from central.job_schemas import JobClaim, JobSubmit
from central.models import Job, Node, Result, Run
from central.repository import _record, check_org, create_run, get_run
from central.schemas import RunState

_CANDIDATES = 50  # queued jobs looked at per claim attempt, oldest first
_POLL_NOTED = timedelta(seconds=10)  # a node's last claim is written at most this often
TAKING_JOBS = timedelta(seconds=90)  # a node that asked for jobs this recently takes jobs
_UNCLAIMED: dict[str, None] = {"node_id": None, "token_hash": None, "claimed_at": None, "lease_until": None}


def submit(session: Session, body: JobSubmit, who: Principal, max_queued: int) -> Run:
    """Queue a run for benchmark machines; refused (429) past ``max_queued`` queued runs."""
    org_id = check_org(who, body.run.org)
    queued = session.scalar(
        select(func.count()).select_from(Job).join(Run, Run.id == Job.run_id)
        .where(Job.org_id == org_id, Run.state == RunState.queued.value)
    )  # fmt: skip
    if (queued or 0) >= max_queued:
        raise TooManyRequests(
            f"your org has {queued} queued jobs, the most it may have: wait for some to start or cancel them"
        )
    run = create_run(session, body.run.model_copy(update={"state": RunState.queued, "host": "-"}), who)
    session.add(
        Job(run_id=run.id, org_id=org_id, repository_url=body.repository_url, definition=body.definition,
            requirements=body.requirements, exclusive=body.exclusive, retries=body.retries, attempt=0,
            cancel_requested=False, bundle_commit=body.bundle_commit,
            bundle=base64.b64decode(body.bundle) if body.bundle is not None else None)
    )  # fmt: skip
    session.commit()
    return run


def _meets(labels: dict[str, str] | None, requirements: dict[str, str] | None) -> bool:
    """Whether a node's labels have every label a job requires."""
    have = labels or {}
    return all(have.get(k) == v for k, v in (requirements or {}).items())


def _unclaimed(org_id: int) -> Select[Job]:
    """The org's queued jobs no agent holds, oldest first (what claims take, in that order)."""
    return (
        select(Job).join(Run, Run.id == Job.run_id)
        .where(Job.org_id == org_id, Job.node_id.is_(None), Run.state == RunState.queued.value)
        .order_by(Run.created_at, Run.id)
    )  # fmt: skip


def claim(
    session: Session, body: JobClaim, who: Principal, now: datetime, lease_seconds: float = 30
) -> tuple[Job, str] | None:
    """The oldest queued job of the agent's org it can take, now its own; None when there is none."""
    org_id = check_org(who, None)
    node = session.get(Node, body.node_id)
    if node is None or node.org_id != org_id:
        raise NotFound(f"no node {body.node_id!r} in your org: the agent registers before it takes jobs")
    if node.job_labels != body.labels or node.polled_at is None or node.polled_at < now - _POLL_NOTED:
        node.job_labels, node.polled_at = dict(body.labels), now  # for 'why does my job wait'
        session.commit()
    if node.drained:
        return None  # drained: no new jobs until resumed
    for job in session.scalars(_unclaimed(org_id).limit(_CANDIDATES)).all():
        if not _meets(body.labels, job.requirements):
            continue
        if job.exclusive and not body.exclusive_ok:
            continue
        token = auth.mint()
        taken = session.execute(
            update(Job).where(Job.run_id == job.run_id, Job.node_id.is_(None))
            .values(node_id=body.node_id, attempt=Job.attempt + 1, token_hash=auth.hash_token(token),
                    claimed_at=now, lease_until=now + timedelta(seconds=lease_seconds))
        )  # fmt: skip
        if taken.rowcount != 1:  # type: ignore[attr-defined]  # another agent was first
            session.rollback()
            continue
        run = job.run
        run.host = node.hostname
        _record(session, org_id, run, RunState.queued.value, "claimed", f"node:{body.node_id}")
        session.commit()
        session.refresh(job)
        return job, token
    session.rollback()
    return None


def waiting_reasons(session: Session, org_id: int, runs: Sequence[Run], now: datetime) -> dict[str, str]:
    """Why each queued job of ``runs`` has not started, in one line that says what to do."""
    queued = [r.id for r in runs if r.state == RunState.queued.value]
    if not queued:
        return {}
    jobs = session.scalars(select(Job).where(Job.run_id.in_(queued))).all()
    nodes = session.scalars(select(Node).where(Node.org_id == org_id)).all()
    takers = [
        n for n in nodes if n.state == "up" and n.polled_at is not None and n.polled_at >= now - TAKING_JOBS
    ]
    # each waiting job's place in the queue, from one read of it (not a count per job)
    in_order = session.scalars(_unclaimed(org_id).with_only_columns(Job.run_id))
    queue = {run_id: place for place, run_id in enumerate(in_order)}
    return {job.run_id: _why(job, takers, queue.get(job.run_id, 0)) for job in jobs}


def _why(job: Job, takers: list[Node], ahead: int) -> str:
    if job.node_id is not None:
        return f"claimed by node {job.node_id}: starting"
    if not takers:
        return "no agent of the org is taking jobs: start one with BENCHHUB_AGENT_JOBS=1 or more"
    matching = [n for n in takers if _meets(n.job_labels, job.requirements)]
    if not matching:
        needs = ", ".join(f"{k}={v}" for k, v in sorted((job.requirements or {}).items()))
        return (f"none of the {len(takers)} node(s) taking jobs has the labels {needs}: "
                "give an agent BENCHHUB_AGENT_LABELS, or submit with other --requires")  # fmt: skip
    ready = [n for n in matching if not n.drained]
    names = ", ".join(sorted(n.hostname for n in (ready or matching))[:5])
    if not ready:
        return f"every node that matches is drained ({names}): 'bhubctl nodes resume NODE'"
    alone = " alone" if job.exclusive else ""
    return f"waiting for a node that matches to be free{alone} ({names}); {ahead} queued jobs ahead"


def cancel(session: Session, run_id: str, who: Principal) -> Run:
    """A queued job is cancelled now; a running one is asked to stop (its agent polls)."""
    org_id = check_org(who, None)
    run = get_run(session, org_id, run_id)
    job = session.get(Job, run_id)
    if job is None:
        raise Conflict(f"run {run_id} is not a queued job: stop 'bhubctl run' where it runs (Ctrl-C)")
    if run.state == RunState.queued.value:
        run.state = RunState.cancelled.value
        run.message = f"cancelled by {who.actor} before it started"
        run.finished_at = datetime.now(run.created_at.tzinfo)
        _record(session, org_id, run, RunState.queued.value, RunState.cancelled.value, who.actor)
    elif run.state == RunState.running.value:
        job.cancel_requested = True
    else:
        raise Conflict(f"run {run_id} is already {run.state}")
    session.commit()
    return run


def status(session: Session, run_id: str, who: Principal) -> tuple[Run, Job]:
    org_id = check_org(who, None)
    run = get_run(session, org_id, run_id)
    job = session.get(Job, run_id)
    if job is None:
        raise NotFound(f"run {run_id} is not a job")
    return run, job


def heartbeat(
    session: Session, run_id: str, who: Principal, now: datetime, lease_seconds: float
) -> tuple[Run, Job]:
    """The job's agent is alive: its lease runs ``lease_seconds`` more (written when half used)."""
    run, job = status(session, run_id, who)
    if job.lease_until is None or job.lease_until < now + timedelta(seconds=lease_seconds / 2):
        job.lease_until = now + timedelta(seconds=lease_seconds)
        session.commit()
    return run, job


def renew_all_leases(session: Session, now: datetime, lease_seconds: float) -> int:
    """Every claimed job's lease ends no sooner than ``lease_seconds`` from now (central starts:
    agents could not renew while it was down). How many were extended."""
    until = now + timedelta(seconds=lease_seconds)
    extended = session.execute(
        update(Job).where(Job.node_id.is_not(None), Job.lease_until < until).values(lease_until=until)
    )  # fmt: skip
    session.commit()
    return int(extended.rowcount)  # type: ignore[attr-defined]


def reap(session: Session, now: datetime) -> tuple[list[Run], list[Run]]:
    """Jobs whose agent went silent (lease expired): a claimed job that never started goes back
    to the queue for another agent (its token dies with the attempt); a running one fails,
    reason ``node_lost`` (its agent, if it comes back, is refused and stops its copy).

    Each change is a compare-and-set on the lease read, so two sweepers act once. Returns
    (requeued, failed).
    """
    expired = session.scalars(
        select(Job).where(Job.node_id.is_not(None), Job.lease_until < now)
    ).all()  # fmt: skip
    requeued: list[Run] = []
    failed: list[Run] = []
    for job in expired:
        run, node = job.run, job.node_id
        if run.state == RunState.queued.value:
            moved = session.execute(
                update(Job).where(Job.run_id == job.run_id, Job.lease_until == job.lease_until)
                .values(**_UNCLAIMED)
            )  # fmt: skip
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                reason = f"node {node} did not start it before its lease ended"
                _record(session, job.org_id, run, "claimed", RunState.queued.value, "central", now, reason)
                requeued.append(run)
        elif run.state == RunState.running.value and job.attempt <= job.retries:
            # a retry: the lost attempt's results go (a run keeps one attempt's), the run is queued
            moved = session.execute(
                update(Run).where(Run.id == run.id, Run.state == RunState.running.value)
                .values(state=RunState.queued.value, started_at=None, raw_output=None, output_chars=None,
                        resources=None, machine=None, host="-")
            )  # fmt: skip
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                session.execute(delete(Result).where(Result.run_id == run.id))
                session.execute(update(Job).where(Job.run_id == job.run_id).values(**_UNCLAIMED))
                reason = (
                    f"node {node} was lost during attempt {job.attempt}; tried again ({job.retries} retries)"
                )
                old, new = RunState.running.value, RunState.queued.value
                _record(session, job.org_id, run, old, new, "central", now, reason)
                requeued.append(run)
        elif run.state == RunState.running.value:
            message = (f"node_lost: node {node} stopped renewing the job's lease; the run is failed and "
                       "that attempt's results are refused")  # fmt: skip
            moved = session.execute(
                update(Run).where(Run.id == run.id, Run.state == RunState.running.value)
                .values(state=RunState.failed.value, reason="node_lost", message=message, finished_at=now)
            )  # fmt: skip
            session.execute(update(Job).where(Job.run_id == job.run_id).values(lease_until=None))
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                old, new = RunState.running.value, RunState.failed.value
                _record(session, job.org_id, run, old, new, "central", now, message)
                failed.append(run)
        else:  # over: nothing holds it any more
            session.execute(update(Job).where(Job.run_id == job.run_id).values(lease_until=None))
    session.commit()
    for run in requeued + failed:
        session.refresh(run)
    return requeued, failed
