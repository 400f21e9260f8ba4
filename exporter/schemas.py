"""What the agent accepts from bhubctl: the results of one finished run."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from central.schemas import ResultIn


class RunResults(BaseModel):
    """One run's results, tagged with the run's identity; ``timestamp`` is the run's end."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, max_length=64)
    org: str = Field(min_length=1)
    project: str = Field(min_length=1)
    target: str = Field(min_length=1)
    commit: str = Field(min_length=1)
    branch: str = Field(min_length=1)
    timestamp: AwareDatetime
    results: list[ResultIn] = Field(max_length=10_000)


class StoredRun(BaseModel):
    """A RunResults as kept on disk, with when the agent received it."""

    received_at: datetime
    run: RunResults


class WatchRequest(BaseModel):
    """Follow a run's process tree from ``pid`` down (sent by bhubctl when the command starts)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, max_length=64)
    project: str = Field(min_length=1)
    target: str = Field(min_length=1)
    commit: str = Field(min_length=1)
    pid: int = Field(gt=0)
    include_root: bool = Field(default=True, description="False when the root is only a measuring helper")
