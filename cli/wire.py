"""The payloads of bhubctl's run path, as msgspec Structs: results, the run's start and end, its
resources and machine, the run central answers with, a bhub.yaml threshold.

Why not central.schemas' pydantic models: a process's first pydantic model costs ~110 ms
(pydantic builds its schema machinery), so ``bhubctl run`` spent more on them than on its
whole run (issue 16). msgspec validates in C and loads in ~5 ms. Central keeps validating every
payload with its own models; tests/cli/test_wire.py holds these to them field by field, and
checks on generated values that each accepts exactly what the other accepts.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from central.wire import INT64, MAX_SAMPLES, Direction, RunState, StatTest

__all__ = ["Direction", "RunState", "StatTest"]

Count = Annotated[int, Meta(ge=0, le=INT64)]
NonNegative = Annotated[float, Meta(ge=0)]


def _finite(struct: Struct, names: tuple[str, ...]) -> None:
    """What pydantic's allow_inf_nan=False refuses (msgspec has no such switch)."""
    for name in names:
        value = getattr(struct, name)
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name}: {value} is not a finite number")


class _In(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """A payload bhubctl sends: unknown keys refused, defaults left for central to fill."""


class Threshold(_In, kw_only=True):
    """When a change counts, for one measure (or ``*``): central.schemas.Threshold."""

    test: StatTest = StatTest.mwu
    alpha: Annotated[float, Meta(gt=0, lt=1)] = 0.05
    limit: Annotated[float, Meta(gt=0, le=1000)] | None = None
    min_samples: Annotated[int, Meta(ge=1, le=MAX_SAMPLES)] | None = None
    min_effect: Annotated[float, Meta(ge=0, le=1000)] = 0.02
    window: Annotated[int, Meta(ge=2, le=100)] = 20


_RESULT_NUMBERS = ("value", "mean", "median", "stddev", "min", "max")


class Result(_In, kw_only=True):
    """One measured value, in the tool's own unit, with the statistics the tool gave (a failed
    benchmark: ``error`` and no value): central.schemas.ResultIn."""

    benchmark: Annotated[str, Meta(min_length=1, max_length=1000)]
    measure: Annotated[str, Meta(min_length=1, max_length=100)]
    unit: Annotated[str, Meta(min_length=1, max_length=50)]
    value: float | None = None
    error: Annotated[str, Meta(min_length=1, max_length=10_000)] | None = None
    iterations: Count | None = None
    mean: float | None = None
    median: float | None = None
    stddev: float | None = None
    min: float | None = None
    max: float | None = None
    sample_count: Count | None = None
    samples: Annotated[list[float], Meta(max_length=MAX_SAMPLES)] | None = None
    labels: dict[str, str] = {}
    context: dict[str, str] = {}
    direction: Direction | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.error is None):
            raise ValueError("a result has either a value or an error, exactly one of them")
        _finite(self, _RESULT_NUMBERS)
        if self.samples is not None and not all(map(math.isfinite, self.samples)):
            raise ValueError("samples: every sample must be a finite number")


class Resources(_In, kw_only=True):
    """What the run's process tree used: central.schemas.RunResources."""

    cpu_user_seconds: NonNegative
    cpu_system_seconds: NonNegative
    max_rss_bytes: Count
    read_bytes: Count
    written_bytes: Count
    voluntary_context_switches: Count
    involuntary_context_switches: Count
    max_threads: Count
    max_processes: Count
    samples: Count

    def __post_init__(self) -> None:
        _finite(self, ("cpu_user_seconds", "cpu_system_seconds"))


class Machine(_In, kw_only=True):
    """The benchmark machine as the run found it: central.schemas.MachineState."""

    cpu_model: Annotated[str, Meta(max_length=200)] | None = None
    cpus: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    cpu_set: Annotated[str, Meta(max_length=200, pattern=r"^[0-9,-]+$")] | None = None
    governor: Annotated[str, Meta(max_length=100)] | None = None
    boost: bool | None = None
    smt: bool | None = None
    aslr: Annotated[int, Meta(ge=0, le=2)] | None = None
    kernel: Annotated[str, Meta(max_length=200)] | None = None
    load_start: NonNegative | None = None
    load_end: NonNegative | None = None

    def __post_init__(self) -> None:
        _finite(self, ("load_start", "load_end"))


class RunCreate(_In, kw_only=True):
    """What bhubctl knows when it starts a run: central.schemas.RunCreate (central checks it)."""

    project: str
    repository_url: str | None = None
    target: str
    commit: str
    branch: str
    dirty: bool = False
    host: str
    parser: str
    org: str | None = None
    labels: dict[str, str] = {}
    state: RunState = RunState.running
    timeout_seconds: float | None = None
    thresholds: dict[str, Threshold] = {}
    machine: Machine | None = None


class RunTransition(_In, kw_only=True):
    """A state change with what the runner knows then: central.schemas.RunTransition."""

    state: RunState
    exit_code: int | None = None
    message: str | None = None
    raw_output: str | None = None
    raw_output_ref: str | None = None
    output_chars: int | None = None
    output_sha256: str | None = None
    resources: Resources | None = None
    machine: Machine | None = None


class Run(Struct, kw_only=True):
    """The part of central's RunPublic that the run path reads (the rest of the answer is ignored)."""

    id: str
    org: str
    project: str
    target: str
    commit: str
    branch: str
    state: RunState
    exit_code: int | None = None
    message: str | None = None
    resources: Resources | None = None
    machine: Machine | None = None


class Watch(_In, kw_only=True):
    """Ask the agent to follow a run's process tree: exporter.schemas.WatchRequest."""

    run_id: str
    project: str
    target: str
    commit: str
    pid: int
    include_root: bool = True


def describe(error: msgspec.ValidationError) -> tuple[str, str]:
    """(the path, the message) of msgspec's ``Expected ... - at `$.x[0].y```: ('x[0].y', 'Expected ...')."""
    text = str(error)
    message, sep, at = text.rpartition(" - at `$")
    if not sep:
        return "", text
    return at.rstrip("`").lstrip("."), message
