"""Wire schemas of remote jobs: a run submitted for benchmark machines, and an agent's claim."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from central.schemas import RunCreate, RunPublic

MAX_DEFINITION_BYTES = 64 * 1024
MAX_CLAIM_WAIT_SECONDS = 30.0
MAX_BUNDLE_BYTES = 4 * 1024 * 1024
_LABEL = r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"


class JobSubmit(BaseModel):
    """What ``bhubctl submit`` sends: the run as ``bhubctl run`` would register it, and the job."""

    model_config = ConfigDict(extra="forbid")

    run: RunCreate = Field(description="the run; its state is 'queued' and its host the claiming node's")
    repository_url: str = Field(min_length=1, max_length=2000, description="where agents fetch the commit")
    definition: dict[str, Any] = Field(description="the bhub.yaml target (command, framework, ...)")
    requirements: dict[str, str] = Field(
        default_factory=dict, max_length=20, description="labels a node must have to take the job"
    )
    exclusive: bool = Field(default=True, description="alone on its machine (one benchmark at a time)")
    bundle: str | None = Field(
        default=None,
        max_length=MAX_BUNDLE_BYTES * 4 // 3 + 4,
        description="a dirty tree: base64 of a git bundle of its changes over the run's commit",
    )
    bundle_commit: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$", description="the bundle's commit to check out"
    )
    retries: int = Field(
        default=0,
        ge=0,
        le=5,
        description="claims more after a node is lost mid-run (every claim of the job counts)",
    )

    @field_validator("definition")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(orjson.dumps(value))
        except TypeError as exc:  # orjson.JSONEncodeError: an integer past 64 bits, nesting past 255
            raise ValueError(f"the target definition is not plain JSON: {exc}") from None
        if size > MAX_DEFINITION_BYTES:
            raise ValueError(f"the target definition is over {MAX_DEFINITION_BYTES // 1024} KiB of JSON")
        if not isinstance(value.get("command"), str):
            raise ValueError("the target definition needs a 'command' (a string)")
        return value

    @model_validator(mode="after")
    def _bundle_whole(self) -> JobSubmit:
        if (self.bundle is None) != (self.bundle_commit is None):
            raise ValueError("bundle and bundle_commit go together")
        if self.bundle is not None:
            try:
                data = base64.b64decode(self.bundle, validate=True)
            except ValueError:
                raise ValueError("bundle is not base64") from None
            if not data.startswith(b"# v2 git bundle") and not data.startswith(b"# v3 git bundle"):
                raise ValueError("bundle is not a git bundle (git bundle create)")
        return self

    @field_validator("requirements")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not re.match(_LABEL, name) or len(text) > 200:
                raise ValueError(
                    f"requirement {name!r}: a label name (letters, digits, _ . -) and a value of 200 or fewer"
                )
        return value


class JobClaim(BaseModel):
    """An agent asking for work: it holds ``labels`` and can take ``slots`` more jobs now."""

    model_config = ConfigDict(extra="forbid")

    node_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    labels: dict[str, str] = Field(default_factory=dict, max_length=50)
    exclusive_ok: bool = Field(default=True, description="false while the node runs another job")
    wait_seconds: float = Field(default=0, ge=0, le=MAX_CLAIM_WAIT_SECONDS, description="long-poll bound")


class JobClaimed(BaseModel):
    """A job given to one agent: the token acts on this run only, for this attempt."""

    run: RunPublic
    repository_url: str
    definition: dict[str, Any]
    exclusive: bool
    attempt: int
    token: str
    bundle_commit: str | None = Field(
        default=None, description="set: GET /api/v1/jobs/{id}/bundle, then check it out"
    )


class JobStatus(BaseModel):
    """What a running job's agent polls: whether to stop."""

    state: str
    cancel_requested: bool
