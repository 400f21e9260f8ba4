"""Compare a base and a head (runs, commits or branches): every result judged, per target.

The head's newest run carries the thresholds of its bhub.yaml; the request may override
them. A result with samples on both sides is tested on its samples; one with a single value
per run is judged against the base branch's last runs (a window), as conbench does.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

import orjson
from sqlalchemy.orm import Session

from central import compare_repository as repo
from central.compare_schemas import ComparisonPublic, TargetComparison, Verdict
from central.errors import BadRequest
from central.models import Run
from central.repository import last_finished_runs
from central.schemas import MACHINE_FACTS, Direction
from central.stats import Estimate, Pair, direction_of, geomean, judge, threshold_of

Identity = tuple[str, str, str, tuple[tuple[str, str], ...]]  # target, benchmark, measure, labels


@dataclass
class _Side:
    """One side's observations of one result identity."""

    unit: str
    direction: str | None
    values: list[float] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)
    sampled: bool = False  # some run gave samples, not one value

    def add(self, row: repo.Row) -> None:
        if row.samples and len(row.samples) > 1:
            if self.values:
                self.values.extend(row.samples)
            else:  # the usual single run: its list as it was decoded, not copied
                self.values = row.samples
            self.sampled = True
        else:
            self.values.append(row.value)
        self.runs.add(row.run_id)


def _gather(session: Session, runs: list[Run]) -> dict[Identity, _Side]:
    target_of = {r.id: r.target for r in runs}
    sides: dict[Identity, _Side] = {}
    for row in repo.observations(session, list(target_of)):
        key = (target_of[row.run_id], row.benchmark, row.measure, row.labels_key)
        side = sides.get(key)
        if side is None:
            side = sides[key] = _Side(row.unit, row.direction)
        side.add(row)
    return sides


def _lookback(
    session: Session, base_runs: list[Run], sides: dict[Identity, _Side], windows: dict[Identity, int]
) -> None:
    """Single-value base results: their distribution is the base branch's last runs' values."""
    wanted = {key for key, side in sides.items() if not side.sampled}
    if not wanted:
        return
    base_ids = {r.id for r in base_runs}
    newest = {}
    for run in sorted(base_runs, key=lambda r: r.created_at):
        newest[run.target] = run
    for target, run in newest.items():
        keys = {k for k in wanted if k[0] == target}
        if not keys:
            continue
        size = max(windows[k] for k in keys)
        earlier = [r for r in last_finished_runs(session, run, size) if r.id not in base_ids]
        order = {r.id: i for i, r in enumerate(earlier)}
        for row in repo.observations(session, list(order)):
            key = (target, row.benchmark, row.measure, row.labels_key)
            side = sides.get(key)
            if key in keys and side is not None and len(side.runs) < windows[key]:
                side.values.append(row.value)
                side.runs.add(row.run_id)


class _SideJSON(TypedDict):
    centre: float
    low: float
    high: float
    n: int
    runs: int


class RowJSON(TypedDict):
    """One ComparedResult, as plain data: 10,000 pydantic models cost more than the statistics."""

    target: str
    benchmark: str
    measure: str
    labels: dict[str, str]
    unit: str
    direction: str
    base: _SideJSON | None
    head: _SideJSON | None
    change: float | None
    p_value: float | None
    adjusted_p: float | None
    test: str | None
    verdict: str
    note: str | None


@dataclass(frozen=True)
class Comparison:
    """ComparisonPublic whose ``data`` is held as plain rows until it is encoded."""

    summary: ComparisonPublic  # data left empty
    rows: list[RowJSON]

    def to_json(self) -> bytes:
        body = self.summary.model_dump(mode="json")
        body["data"] = self.rows
        return orjson.dumps(body)


def _side(e: Estimate, runs: int) -> _SideJSON:
    return {"centre": e.centre, "low": e.low, "high": e.high, "n": e.n, "runs": runs}


def _row(key: Identity, unit: str, direction: Direction, verdict: Verdict) -> RowJSON:
    return {
        "target": key[0], "benchmark": key[1], "measure": key[2], "labels": dict(key[3]), "unit": unit,
        "direction": direction.value, "base": None, "head": None, "change": None, "p_value": None,
        "adjusted_p": None, "test": None, "verdict": verdict.value, "note": None,
    }  # fmt: skip


_paused = 0
_pause_lock = threading.Lock()


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a comparison builds its million-object data.

    The data is acyclic and freed by reference counting; the collector, triggered over and
    over by the allocations, cost 0.5 s of a 1.5 s comparison of 2 x 10,000 results. Counted,
    so concurrent comparisons resume it only when the last one ends.
    """
    global _paused
    with _pause_lock:
        _paused += 1
        if _paused == 1:
            gc.disable()
    try:
        yield
    finally:
        with _pause_lock:
            _paused -= 1
            if _paused == 0:
                gc.enable()


def compare(
    session: Session, scope: repo.Scope, base_spec: str, head_spec: str, overrides: dict[str, object],
    confidence: float = 0.95, org: str = "",
) -> Comparison:  # fmt: skip
    """The whole comparison; unknown names are NotFound, base and head in two projects BadRequest."""
    with _cycle_collector_paused():
        return _compare(session, scope, base_spec, head_spec, overrides, confidence, org)


def _compare(
    session: Session, scope: repo.Scope, base_spec: str, head_spec: str, overrides: dict[str, object],
    confidence: float, org: str,
) -> Comparison:  # fmt: skip
    _, base_runs = repo.resolve(session, scope, base_spec)
    _, head_runs = repo.resolve(session, scope, head_spec)
    projects = {r.project_name for r in base_runs + head_runs}
    if len(projects) > 1:
        raise BadRequest(
            f"base and head span projects {', '.join(sorted(projects))}; compare within one (?project=NAME)"
        )
    base, head = _gather(session, base_runs), _gather(session, head_runs)
    newest_head: dict[str, Run] = {}
    for run in sorted(head_runs, key=lambda r: r.created_at):
        newest_head[run.target] = run
    by_measure = {
        (target, measure): threshold_of(newest_head[target].thresholds, measure, overrides)
        for target, _, measure, _ in base.keys() | head.keys() if target in newest_head
    }  # fmt: skip
    thresholds = {key: by_measure[(key[0], key[2])] for key in head}
    _lookback(session, base_runs, base, {k: t.window for k, t in thresholds.items() if k in base})
    both = [key for key in base if key in head]
    directions = {k: direction_of(k[2], head[k].unit, head[k].direction or base[k].direction) for k in both}
    judged = judge(
        [Pair(base[k].values, head[k].values, directions[k], thresholds[k]) for k in both], confidence
    )
    rows: list[RowJSON] = []
    for key, j in zip(both, judged, strict=True):
        row = _row(key, head[key].unit, directions[key], Verdict(j.verdict))
        row["base"], row["head"] = _side(j.base, len(base[key].runs)), _side(j.head, len(head[key].runs))
        row["change"], row["p_value"], row["adjusted_p"] = j.change, j.p_value, j.adjusted_p
        row["test"], row["note"] = j.test.value, j.note
        rows.append(row)
    for key in [k for k in base if k not in head] + [k for k in head if k not in base]:
        side, verdict = (base[key], Verdict.removed) if key in base else (head[key], Verdict.added)
        rows.append(_row(key, side.unit, direction_of(key[2], side.unit, side.direction), verdict))
    summary = ComparisonPublic(
        org=org, project=projects.pop(), base=base_spec, head=head_spec, confidence=confidence,
        targets=_per_target(rows, base_runs, head_runs), counts=_counts(rows), data=[], count=len(rows),
    )  # fmt: skip
    return Comparison(summary, rows)


def _counts(rows: list[RowJSON]) -> dict[Verdict, int]:
    counted = Counter(r["verdict"] for r in rows)
    return {v: counted.get(v.value, 0) for v in Verdict}


def _shown(values: set[object]) -> str:
    return " / ".join(sorted(("on" if v else "off") if isinstance(v, bool) else str(v) for v in values))


def machine_differences(base_runs: list[Run], head_runs: list[Run]) -> list[str]:
    """Each machine fact known on both sides whose values differ ('governor: performance → powersave')."""
    out = []
    for fact in MACHINE_FACTS:
        base = {v for r in base_runs if (v := (r.machine or {}).get(fact)) is not None}
        head = {v for r in head_runs if (v := (r.machine or {}).get(fact)) is not None}
        if base and head and base != head:
            out.append(f"{fact}: {_shown(base)} → {_shown(head)}")
    return out


def _span(run: Run) -> tuple[datetime, datetime]:
    start = run.started_at or run.created_at
    return start, run.finished_at or start


def _per_target(rows: list[RowJSON], base_runs: list[Run], head_runs: list[Run]) -> list[TargetComparison]:
    by_target: dict[str, list[RowJSON]] = defaultdict(list)
    for row in rows:
        by_target[row["target"]].append(row)
    out = []
    for target in sorted({r.target for r in base_runs + head_runs}):
        bases = [r for r in base_runs if r.target == target]
        heads = [r for r in head_runs if r.target == target]
        mine = by_target.get(target, [])
        ratios = [1 + change for r in mine if (change := r["change"]) is not None]
        out.append(
            TargetComparison(
                target=target, base_runs=[r.id for r in bases], head_runs=[r.id for r in heads],
                base_commit=bases[0].commit if bases else None,
                head_commit=heads[0].commit if heads else None, head_span=_span(heads[-1]) if heads else None,
                geomean=geomean(ratios), counts=_counts(mine), machine=machine_differences(bases, heads),
            )
        )  # fmt: skip
    return out
