"""What the agent accepts from bhubctl: a run's process tree to follow."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WatchRequest(BaseModel):
    """Follow a run's process tree from ``pid`` down (sent by bhubctl when the command starts)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, max_length=64)
    project: str = Field(min_length=1)
    target: str = Field(min_length=1)
    commit: str = Field(min_length=1)
    pid: int = Field(gt=0)
    include_root: bool = Field(default=True, description="False when the root is only a measuring helper")
