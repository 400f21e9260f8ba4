"""Wire schemas of a comparison (GET /api/v1/compare), apart from central/schemas.py so that
``bhubctl run`` does not build them at start-up; only compare and the CI gate need them."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from central.schemas import Direction, StatTest


class Verdict(enum.StrEnum):
    regressed = "regressed"
    improved = "improved"
    unchanged = "unchanged"
    insufficient = "insufficient"  # too few observations for any verdict
    added = "added"  # only the head has it: listed, never compared
    removed = "removed"  # only the base has it


class SideEstimate(BaseModel):
    """One side of a result: median with its confidence interval, over ``n`` observations."""

    centre: float
    low: float
    high: float
    n: int = Field(description="samples (or one value per run) behind the estimate")
    runs: int = Field(description="runs they come from (a window of the base branch's runs for lookback)")


class ComparedResult(BaseModel):
    target: str
    benchmark: str
    measure: str
    labels: dict[str, str]
    unit: str
    direction: Direction
    base: SideEstimate | None
    head: SideEstimate | None
    change: float | None = Field(description="head / base - 1 of the centres")
    p_value: float | None = Field(description="the test's p-value")
    adjusted_p: float | None = Field(description="p adjusted over the whole comparison (Benjamini-Hochberg)")
    test: StatTest | None
    verdict: Verdict
    note: str | None = None


class TargetComparison(BaseModel):
    target: str
    base_runs: list[str]
    head_runs: list[str]
    base_commit: str | None
    head_commit: str | None
    head_span: tuple[datetime, datetime] | None = Field(
        default=None,
        description="start and end of the last of head_runs: the time range its run dashboard shows",
    )
    geomean: float | None = Field(description="geometric mean of head/base ratios of the compared results")
    machine: list[str] = Field(
        default_factory=list,
        description="facts of the machine that differ between the base's and the head's runs, "
        "e.g. 'governor: performance → powersave': their timings may differ for that reason",
    )
    counts: dict[Verdict, int]


class ComparisonPublic(BaseModel):
    org: str
    project: str
    base: str = Field(description="the base as asked: run id(s), commit or branch")
    head: str
    confidence: float
    targets: list[TargetComparison]
    counts: dict[Verdict, int]
    data: list[ComparedResult]
    count: int
