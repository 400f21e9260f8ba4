"""Wire schemas of regressions (GET /api/v1/regressions...), apart from central/schemas.py so
that ``bhubctl run`` does not build them at start-up."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from central.schemas import Direction


class RegressionState(enum.StrEnum):
    open = "open"
    acknowledged = "acknowledged"  # a person said why; still counted as not fixed
    fixed = "fixed"  # a later change point brought the old level back


class RegressionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org: str
    project: str
    target: str
    branch: str
    benchmark: str
    measure: str
    labels: dict[str, str]
    unit: str
    direction: Direction
    state: RegressionState
    commit: str = Field(description="the first commit at the new level")
    previous_commit: str | None = Field(description="the last commit at the old level: the suspect range")
    run_id: str = Field(description="the first run at the new level")
    before: float
    after: float
    change: float = Field(description="after / before - 1")
    change_low: float = Field(description="95% confidence interval of the change")
    change_high: float
    p_value: float
    runs_before: int
    runs_after: int
    fixed_commit: str | None
    reason: str | None
    opened_at: datetime
    updated_at: datetime


class RegressionsPublic(BaseModel):
    data: list[RegressionPublic]
    count: int


class HistoryPoint(BaseModel):
    run_id: str
    commit: str
    at: datetime = Field(description="the run's end")
    value: float


class HistoryPublic(BaseModel):
    """One series: a benchmark's measure on a branch, one value per finished run, oldest first."""

    labels: dict[str, str]
    data: list[HistoryPoint]
    count: int


class RegressionAck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=2000, description="why it is accepted, e.g. 'expected: new feature'"
    )
