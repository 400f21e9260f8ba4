"""The SQL of compare: which runs a base or head names, and their results' observations."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import Session

from central.errors import BadRequest, NotFound
from central.models import Project, Result, Run
from central.schemas import RunState

_HEX = re.compile(r"^[0-9a-f-]{4,36}$")
MAX_RUN_IDS = 100
_HINT = "list what exists with 'bhubctl runs list' (GET /api/v1/runs)"


@dataclass(frozen=True)
class Scope:
    org_id: int
    project: str | None
    target: str | None


def _runs(scope: Scope) -> Select[Run]:
    query = select(Run).join(Run.project).where(Project.org_id == scope.org_id)
    if scope.project:
        query = query.where(Project.name == scope.project)
    if scope.target:
        query = query.where(Run.target == scope.target)
    return query


def _id_prefixed(session: Session, scope: Scope, prefix: str) -> list[Run]:
    """At most two runs whose id starts with ``prefix``: enough to tell one from several."""
    return list(session.scalars(_runs(scope).where(Run.id.startswith(prefix, autoescape=True)).limit(2)))


def _by_run_ids(session: Session, scope: Scope, spec: str) -> list[Run]:
    ids = [part.strip() for part in spec.split(",") if part.strip()]
    if not ids or len(ids) > MAX_RUN_IDS:
        raise BadRequest(f"runs: name 1 to {MAX_RUN_IDS} run ids, comma-separated")
    runs = []
    for prefix in ids:
        found = _id_prefixed(session, scope, prefix)
        if len(found) != 1:
            what = "no run" if not found else "more than one run"
            raise NotFound(f"{what} with an id starting {prefix!r}; {_HINT}")
        runs.append(found[0])
    return runs


def _by_commit(session: Session, scope: Scope, prefix: str, whole: bool = False) -> list[Run]:
    finished = _runs(scope).where(Run.state == RunState.finished.value)
    named = Run.commit == prefix if whole else Run.commit.startswith(prefix, autoescape=True)
    runs = list(session.scalars(finished.where(named)))
    commits = sorted({r.commit for r in runs})
    if len(commits) > 1:
        some = ", ".join(c[:12] for c in commits[:5])
        raise BadRequest(f"commit {prefix!r} is ambiguous ({some}); give more of it")
    return runs


def _by_branch(session: Session, scope: Scope, branch: str) -> list[Run]:
    """Each target's newest finished run on the branch, with the other finished runs of its commit."""
    finished = _runs(scope).where(Run.state == RunState.finished.value)
    newest: dict[tuple[int, str], Run] = {}
    for run in session.scalars(finished.where(Run.branch == branch).order_by(Run.created_at.desc())):
        newest.setdefault((run.project_id, run.target), run)
    runs: list[Run] = []
    for (project_id, target), run in newest.items():
        query = finished.where(Run.project_id == project_id, Run.target == target, Run.commit == run.commit)
        runs.extend(session.scalars(query))
    return runs


# what ``kind:NAME`` names, by kind
_FINDERS: dict[str, Callable[[Session, Scope, str], list[Run]]] = {
    "run": _by_run_ids, "commit": _by_commit, "branch": _by_branch}  # fmt: skip


def resolve(session: Session, scope: Scope, spec: str) -> tuple[str, list[Run]]:
    """The runs a spec names, and what kind of name it was.

    ``run:ID[,ID...]`` (id prefixes), ``commit:SHA`` (a prefix; every finished run of it),
    ``branch:NAME`` (each target's newest finished run there, pooled with the other finished
    runs of that commit); a bare spec is tried as each, and must name exactly one kind.
    """
    kind, sep, name = spec.partition(":")
    if sep and kind in _FINDERS:
        runs = _FINDERS[kind](session, scope, name)
        if not runs:
            raise NotFound(f"no finished run of {kind} {name!r}{_where(scope)}; {_HINT}")
        return kind, runs
    found: dict[str, list[Run]] = {}
    if "," in spec:
        found["run"] = _by_run_ids(session, scope, spec)
    else:
        if _HEX.match(spec):
            by_id = _id_prefixed(session, scope, spec)
            if len(by_id) > 1:
                raise BadRequest(f"more than one run has an id starting {spec!r}; give more of it")
            if by_id:
                found["run"] = list(by_id)
            if runs := _by_commit(session, scope, spec):
                found["commit"] = runs
        elif runs := _by_commit(session, scope, spec, whole=True):
            # a commit that is no hex prefix (an SVN revision, "v1.2", or shorter than 4): whole only
            found["commit"] = runs
        if runs := _by_branch(session, scope, spec):
            found["branch"] = runs
    if not found:
        raise NotFound(f"no run, commit or branch {spec!r} with a finished run{_where(scope)}; {_HINT}")
    if len(found) > 1:
        kinds = " or ".join(f"{k}:{spec}" for k in found)
        raise BadRequest(f"{spec!r} names a {' and a '.join(found)}; say which: {kinds}")
    kind = next(iter(found))
    return kind, found[kind]


def _where(scope: Scope) -> str:
    parts = [f"project {scope.project!r}" if scope.project else "",
             f"target {scope.target!r}" if scope.target else ""]  # fmt: skip
    said = " and ".join(p for p in parts if p)
    return f" in {said}" if said else ""


@dataclass(frozen=True)
class Row:
    """What compare reads of a result: its identity, its observations, its declared direction."""

    run_id: str
    benchmark: str
    measure: str
    unit: str
    labels_key: tuple[tuple[str, str], ...]  # the labels, sorted: part of the result's identity
    value: float
    samples: list[float] | None
    direction: str | None


_NO_LABELS = ("{}", "null", None)


def observations(session: Session, run_ids: Sequence[str]) -> Iterator[Row]:
    """The successful results of the runs, in the order they were stored (failed ones have no value).

    Labels and samples are read as JSON text and decoded with orjson: the JSON column type's
    own decoding (the json module) was two thirds of comparing 2 x 10,000 results of 100 samples.
    """
    columns = (
        Result.run_id, Result.benchmark, Result.measure, Result.unit, cast(Result.labels, Text),
        Result.value, cast(Result.samples, Text), Result.direction,
    )  # fmt: skip
    seen_labels: dict[str | None, tuple[tuple[str, str], ...]] = {text: () for text in _NO_LABELS}
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        query = select(*columns).where(Result.run_id.in_(chunk), Result.value.is_not(None))
        for row in session.execute(query.order_by(Result.id).execution_options(yield_per=5_000)):
            run_id, benchmark, measure, unit, labels_text, value, samples_text, direction = row
            labels = seen_labels.get(labels_text)
            if labels is None:
                labels = seen_labels[labels_text] = tuple(sorted(orjson.loads(labels_text).items()))
            samples = None if samples_text in _NO_LABELS else orjson.loads(samples_text)
            yield Row(run_id, benchmark, measure, unit, labels, float(value or 0), samples, direction)
