"""All SQL central runs: orgs, projects, runs, results and the event log."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.auth import Principal
from central.errors import BadRequest, Conflict, NotFound
from central.models import Event, Project, Result, Run, utcnow
from central.schemas import (
    MAX_RAW_OUTPUT,
    MachineState,
    ResultIn,
    RunCreate,
    RunPublic,
    RunResources,
    RunState,
    RunTransition,
    StageEvent,
)
from central.wire import ABANDONED, ALLOWED_TRANSITIONS, MAX_RESULTS_PER_RUN
from exporter.units import to_base_unit


def run_public(run: Run, waiting: str | None = None) -> RunPublic:
    return RunPublic(
        id=run.id,
        org=run.org,
        project=run.project_name,
        target=run.target,
        commit=run.commit,
        branch=run.branch,
        dirty=run.dirty,
        host=run.host,
        parser=run.parser,
        labels=run.labels,
        state=RunState(run.state),
        exit_code=run.exit_code,
        message=run.message,
        raw_output_ref=run.raw_output_ref,
        output_chars=run.output_chars,
        output_sha256=run.output_sha256,
        resources=RunResources.model_validate(run.resources) if run.resources else None,
        machine=MachineState.model_validate(run.machine) if run.machine else None,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        timeout_seconds=run.timeout_seconds,
        thresholds=run.thresholds or {},
        reason=run.reason,
        waiting=waiting,
    )


def _get_or_create_project(session: Session, org_id: int, name: str, url: str | None) -> Project:
    project = session.scalar(select(Project).where(Project.org_id == org_id, Project.name == name))
    if project is None:
        project = Project(org_id=org_id, name=name, repository_url=url)
        session.add(project)
        session.flush()
    elif url and not project.repository_url:
        project.repository_url = url
    return project


def _record(
    session: Session, org_id: int, run: Run, old: str | None, new: str, actor: str,
    at: datetime | None = None, reason: str | None = None,
) -> None:  # fmt: skip
    """A run's change into its history (``at``: now unless given, e.g. by a sweep's clock)."""
    event = Event(org_id=org_id, subject="run", subject_id=run.id, from_state=old, to_state=new, actor=actor,
                  reason=reason)  # fmt: skip
    if at is not None:
        event.at = at
    session.add(event)


def _ensure_project(session: Session, org_id: int, name: str, url: str | None) -> Project:
    """The org's project, created (and committed) if new; safe when requests race to create it."""
    known = session.scalar(select(Project).where(Project.org_id == org_id, Project.name == name))
    if known is not None:  # the usual case: one query, nothing to write
        return known
    for _ in range(5):
        try:
            project = _get_or_create_project(session, org_id, name, url)
            session.commit()
            return project
        except IntegrityError:
            session.rollback()  # another request created the same name first: the next try reads it
    raise Conflict(f"project {name} could not be registered; send the request again")


def check_org(principal: Principal, named: str | None) -> int:
    """The principal's org id; a body naming another org is refused (the token decides)."""
    assert principal.org_id is not None  # routes take org members only
    if named is not None and named != principal.org:
        raise BadRequest(
            f"org: this token belongs to organization {principal.org!r}, not {named!r}; "
            "leave org out or use a token of that organization"
        )
    return principal.org_id


def create_run(session: Session, data: RunCreate, principal: Principal) -> Run:
    """Register a run (auto-registering its project in the token's org) and log its first state."""
    org_id = check_org(principal, data.org)
    if data.state not in (RunState.queued, RunState.running):
        raise Conflict(f"a new run starts as 'queued' or 'running', not {data.state.value!r}")
    project = _ensure_project(session, org_id, data.project, data.repository_url)
    now = utcnow()
    run = Run(
        id=str(uuid.uuid4()),
        project=project,
        target=data.target,
        commit=data.commit,
        branch=data.branch,
        dirty=data.dirty,
        host=data.host,
        parser=data.parser,
        labels=data.labels,
        state=data.state.value,
        timeout_seconds=data.timeout_seconds,
        machine=data.machine.model_dump(exclude_none=True) if data.machine else None,
        thresholds={m: t.model_dump(mode="json") for m, t in data.thresholds.items()},
        created_at=now,
        started_at=now if data.state == RunState.running else None,
    )
    session.add(run)  # the id is ours: run and event go in with one flush, at the commit
    _record(session, org_id, run, None, run.state, principal.actor)
    session.commit()
    return run


def get_run(session: Session, org_id: int, run_id: str) -> Run:
    """The org's run; another org's run is as unknown as a missing one."""
    run = session.get(Run, run_id)
    if run is None or run.project.org_id != org_id:
        raise NotFound(f"no run {run_id!r}")
    return run


def list_runs(
    session: Session,
    org_id: int,
    *,
    project: str | None = None,
    target: str | None = None,
    branch: str | None = None,
    commit: str | None = None,
    state: RunState | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    id_prefix: str | None = None,
    commits: Sequence[str] | None = None,
    limit: int = 100,
) -> Sequence[Run]:
    """Newest first; ``after`` (created_at, id) of the last run already seen resumes the list."""
    query = select(Run).join(Run.project).where(Project.org_id == org_id)
    if after is not None:
        at, run_id = after
        query = query.where(or_(Run.created_at < at, and_(Run.created_at == at, Run.id < run_id)))
    if id_prefix:
        query = query.where(Run.id.startswith(id_prefix, autoescape=True))
    if project:
        query = query.where(Project.name == project)
    if target:
        query = query.where(Run.target == target)
    if branch:
        query = query.where(Run.branch == branch)
    if commit:
        query = query.where(Run.commit.startswith(commit))
    if commits is not None:
        query = query.where(Run.commit.in_(commits))
    if state:
        query = query.where(Run.state == state.value)
    if since:
        query = query.where(Run.created_at >= since)
    if until:
        query = query.where(Run.created_at < until)
    return session.scalars(query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit)).all()


def last_finished_runs(session: Session, run: Run, size: int) -> list[Run]:
    """The last ``size`` finished runs of the run's project, target and branch up to it, newest first."""
    query = (
        select(Run).where(Run.project_id == run.project_id, Run.target == run.target)
        .where(Run.branch == run.branch, Run.state == RunState.finished.value)
        .where(Run.created_at <= run.created_at)
        .order_by(Run.created_at.desc(), Run.id.desc()).limit(size)
    )  # fmt: skip
    return list(session.scalars(query))


# A baseline reads at most this many result rows (runs before x results of the run): a run of
# 200,000 results gets the windows that fit, not a 10-million-row read on every finish.
BASELINE_MAX_ROWS = 2_000_000


def prior_values(
    sessions: Callable[[], Session], run_id: str, runs: int
) -> dict[tuple[str, str, str, str, str], list[float]]:
    """Each result identity's values in the ``runs`` finished runs of the run's project, target
    and branch that ended before it (by end time, the order of the trend series), newest first.

    Key: (benchmark, measure, procs, pkg, base unit); values in base units, as the series hold
    them. Runs that end later never count, so writing a run again gives the same baselines.
    No runs asked (no baseline windows): nothing, without a query.
    """
    if runs <= 0:
        return {}
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is None or run.finished_at is None:
            return {}
        size = session.scalar(select(func.count()).select_from(Result).where(Result.run_id == run_id)) or 1
        runs = min(runs, BASELINE_MAX_ROWS // size)
        before = (
            select(Run.id).where(Run.project_id == run.project_id, Run.target == run.target)
            .where(Run.branch == run.branch, Run.state == RunState.finished.value, Run.id != run.id)
            .where(or_(Run.finished_at < run.finished_at,
                       and_(Run.finished_at == run.finished_at, Run.id < run.id)))
            .order_by(Run.finished_at.desc(), Run.id.desc()).limit(runs)
        )  # fmt: skip
        order = {rid: i for i, rid in enumerate(session.scalars(before))}
        if not order:
            return {}
        rows = session.execute(
            select(Result.run_id, Result.benchmark, Result.measure, Result.unit, Result.labels, Result.value)
            .where(Result.run_id.in_(list(order)), Result.value.is_not(None))
            .execution_options(yield_per=5_000)
        )  # fmt: skip
        found: dict[tuple[str, str, str, str, str], list[tuple[int, float]]] = {}
        for rid, benchmark, measure, unit, labels, value in rows:
            labels = labels or {}
            base, base_unit = to_base_unit(value or 0.0, unit)  # never None: filtered above
            key = (benchmark, measure, labels.get("procs", ""), labels.get("pkg", ""), base_unit)
            found.setdefault(key, []).append((order[rid], base))
    return {key: [v for _, v in sorted(vals)] for key, vals in found.items()}


def transition(session: Session, org_id: int, run_id: str, change: RunTransition, actor: str) -> Run:
    """Move a run to a new state; anything ALLOWED_TRANSITIONS does not list is a Conflict."""
    run = get_run(session, org_id, run_id)
    old = RunState(run.state)
    allowed = ALLOWED_TRANSITIONS[old]
    if run.reason == ABANDONED:  # its runner, late but alive, still says how the run ended
        allowed = ALLOWED_TRANSITIONS[RunState.running]
        run.reason = None
    if change.state not in allowed:
        names = ", ".join(sorted(s.value for s in allowed)) or "none (the run is over)"
        raise Conflict(f"run {run_id} is {old.value}; it can move to: {names}")
    _check_output(run_id, change)
    now = utcnow()
    run.state = change.state.value
    if change.state == RunState.running:
        run.started_at = now
    else:
        run.finished_at = now
    if change.exit_code is not None:
        run.exit_code = change.exit_code
    if change.message is not None:
        run.message = change.message
    if change.raw_output is not None:
        run.raw_output = change.raw_output[-MAX_RAW_OUTPUT:]
        if run.output_chars is None or run.output_chars <= MAX_RAW_OUTPUT:  # the whole output is kept
            run.output_chars = len(run.raw_output)
    if change.output_chars is not None:  # the runner's count of the whole output wins the streamed one
        run.output_chars, run.output_sha256 = change.output_chars, change.output_sha256
    if change.raw_output_ref is not None:
        run.raw_output_ref = change.raw_output_ref
    if change.resources is not None:
        run.resources = change.resources.model_dump()
    if change.machine is not None:
        run.machine = {**(run.machine or {}), **change.machine.model_dump(exclude_none=True)}
    _record(session, run.project.org_id, run, old.value, run.state, actor)
    session.commit()
    return run


def _check_output(run_id: str, change: RunTransition) -> None:
    """The output that came is the one the runner counted: whole, it must match its checksum."""
    if change.output_chars is None or change.raw_output is None:
        return
    kept = len(change.raw_output)
    if kept > change.output_chars:
        raise BadRequest(
            f"run {run_id}: raw_output has {kept} characters but output_chars says the whole output has "
            f"{change.output_chars}: send the state again"
        )
    if kept == change.output_chars and change.output_sha256 is not None:
        got = hashlib.sha256(change.raw_output.encode()).hexdigest()
        if got != change.output_sha256:
            raise BadRequest(
                f"run {run_id}: raw_output's SHA-256 is {got[:12]}..., not output_sha256 "
                f"{change.output_sha256[:12]}...: the output was damaged on its way; send the state again"
            )


def abandon_overdue(
    session: Session, now: datetime, default_seconds: float, grace_seconds: float
) -> list[Run]:
    """Fail every unfinished run past its timeout plus ``grace_seconds`` (runs without a timeout:
    ``default_seconds``), reason 'abandoned'; its runner may still deliver late. The runs failed.

    Each run moves with a compare-and-set update (state unchanged since read), so several
    workers sweeping at once fail a run once and log one event.
    """
    horizon = now - timedelta(seconds=grace_seconds)
    candidates = session.scalars(
        select(Run).where(Run.state.in_([RunState.queued.value, RunState.running.value]))
        .where(Run.created_at < horizon)
    ).all()  # fmt: skip
    failed = []
    for run in candidates:
        allowed = run.timeout_seconds if run.timeout_seconds is not None else default_seconds
        if run.state == RunState.queued.value:  # a queued job's timeout starts when it does
            allowed = max(allowed, default_seconds)
        if (run.started_at or run.created_at) + timedelta(seconds=allowed + grace_seconds) >= now:
            continue
        message = (f"abandoned: no runner said how the run ended within its {allowed:g} s timeout "
                   f"and {grace_seconds:g} s of grace; late results are still accepted")  # fmt: skip
        old, org_id = run.state, run.project.org_id
        moved = session.execute(
            update(Run).where(Run.id == run.id, Run.state == old)
            .values(state=RunState.failed.value, reason=ABANDONED, message=message, finished_at=now)
        )  # fmt: skip
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            _record(session, org_id, run, old, RunState.failed.value, "central", now)
            failed.append(run.id)
    session.commit()
    if not failed:
        return []
    return list(
        session.scalars(select(Run).where(Run.id.in_(failed)).execution_options(populate_existing=True))
    )


def add_results(session: Session, org_id: int, run_id: str, results: Sequence[ResultIn]) -> int:
    """Store a batch; results already stored for the run (same key) are kept, not duplicated."""
    run = get_run(session, org_id, run_id)
    if RunState(run.state) not in (RunState.queued, RunState.running) and run.reason != ABANDONED:
        raise Conflict(f"run {run_id} is {run.state}; results are accepted while it is queued or running")
    stored = session.scalar(select(func.count()).select_from(Result).where(Result.run_id == run_id)) or 0
    if stored + len(results) > MAX_RESULTS_PER_RUN:
        raise Conflict(f"run {run_id} holds {stored} results; a run holds at most {MAX_RESULTS_PER_RUN}")
    batch: dict[str, ResultIn] = {}
    for result in results:  # one identity twice in a run: the first is kept, here and across batches
        batch.setdefault(result.key(), result)
    existing = set(session.scalars(select(Result.key).where(Result.run_id == run_id, Result.key.in_(batch))))
    new = [(key, r) for key, r in batch.items() if key not in existing]
    rows = [{"run_id": run_id, "key": key, **r.model_dump()} for key, r in new]
    try:
        if rows:  # one executemany, not one ORM object per result
            session.execute(insert(Result), rows)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"results for run {run_id} were uploaded concurrently; send the batch again") from None
    return len(rows)


def list_results(session: Session, org_id: int, run_id: str) -> Sequence[Result]:
    get_run(session, org_id, run_id)
    return session.scalars(select(Result).where(Result.run_id == run_id).order_by(Result.id)).all()


@contextmanager
def streamed_results(sessions: Callable[[], Session], run_id: str) -> Iterator[Iterator[Result]]:
    """A run's stored results, read a few thousand rows at a time, in a session of their own."""
    with sessions() as session:
        query = select(Result).where(Result.run_id == run_id).order_by(Result.id)
        yield iter(session.scalars(query.execution_options(yield_per=2_000)))


def list_events(session: Session, org_id: int, run_id: str) -> Sequence[Event]:
    """A run's history: its states and its stages' (subject 'stage'), oldest first."""
    get_run(session, org_id, run_id)
    return list_subject_events(session, org_id, ("run", "stage"), run_id)


def stage_event(session: Session, org_id: int, run_id: str, body: StageEvent, actor: str) -> Event:
    """Append a stage's change to its running run's history."""
    run = get_run(session, org_id, run_id)
    if run.state != RunState.running.value:
        raise Conflict(f"run {run_id} is {run.state}: stages change only while it runs")
    said = f"stage {body.stage}" + (f": {body.reason}" if body.reason else "")
    event = Event(org_id=org_id, subject="stage", subject_id=run_id, from_state=None, to_state=body.state,
                  actor=actor, reason=said)  # fmt: skip
    session.add(event)
    session.commit()
    return event


def list_subject_events(
    session: Session, org_id: int, subject: str | tuple[str, ...], subject_id: str
) -> Sequence[Event]:
    """The history of one run, node or regression of the org (its events of ``subject``, one
    kind or several), oldest first."""
    kinds = (subject,) if isinstance(subject, str) else subject
    query = select(Event).where(
        Event.org_id == org_id, Event.subject.in_(kinds), Event.subject_id == subject_id
    )
    return session.scalars(query.order_by(Event.id)).all()


def append_output(session: Session, org_id: int, run_id: str, offset: int, text: str) -> int:
    """Output a running run's runner streams: ``text`` starts at character ``offset`` of the
    whole output (a chunk sent again overlaps and is skipped; a gap is refused). Central keeps
    the last MAX_RAW_OUTPUT characters. The total received."""
    run = get_run(session, org_id, run_id)
    if run.state != RunState.running.value:
        raise Conflict(f"run {run_id} is {run.state}: output is streamed only while it runs")
    have = run.output_chars or 0
    if offset > have:
        raise Conflict(f"output of run {run_id} has {have} characters: send from offset {have}, not {offset}")
    new = text[have - offset :]
    run.raw_output = ((run.raw_output or "") + new)[-MAX_RAW_OUTPUT:]
    run.output_chars = have + len(new)
    session.commit()
    return run.output_chars


def output_length(run: Run) -> int:
    """Characters of the run's whole output so far (central keeps the last MAX_RAW_OUTPUT)."""
    return run.output_chars if run.output_chars is not None else len(run.raw_output or "")


def output_from(run: Run, offset: int) -> str:
    """The run's output from character ``offset`` on, as far as central still keeps it."""
    kept = run.raw_output or ""
    start = max(offset - (output_length(run) - len(kept)), 0)
    return kept[start:]
