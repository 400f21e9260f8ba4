"""What central's API and bhubctl share, in the standard library alone: limits, states, enums.

bhubctl's run path imports this (through cli.wire), never central.schemas: a first pydantic
model costs a process ~110 ms (issue 16). central.schemas re-exports every name here.
"""

from __future__ import annotations

import enum

MAX_RESULTS_PER_BATCH = 10_000
# Results of one run: a suite of thousands of benchmarks x a few measures fits many times over;
# past it, a run is a mistake (a benchmark name holding a counter) or an attack, refused early.
MAX_RESULTS_PER_RUN = 200_000
INT64 = 2**63 - 1  # what a database BIGINT holds: larger numbers are refused with a 422, not a 500
MAX_RAW_OUTPUT = 1_048_576
MAX_RUN_SECONDS = 30 * 24 * 3600
ABANDONED = "abandoned"


class RunState(enum.StrEnum):
    """Where a run is in its life; see ALLOWED_TRANSITIONS."""

    queued = "queued"
    running = "running"
    finished = "finished"
    failed = "failed"
    cancelled = "cancelled"


ALLOWED_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.queued: frozenset({RunState.running, RunState.cancelled}),
    RunState.running: frozenset({RunState.finished, RunState.failed, RunState.cancelled}),
    RunState.finished: frozenset(),
    RunState.failed: frozenset(),
    RunState.cancelled: frozenset(),
}


MAX_SAMPLES = 100_000


class Direction(enum.StrEnum):
    """Which way a result gets better: time, bytes, allocations are lower-is-better."""

    lower_better = "lower"
    higher_better = "higher"


class StatTest(enum.StrEnum):
    """How a comparison decides that a result changed (see central/stats.py)."""

    mwu = "mwu"  # Mann-Whitney U on the samples of both sides (benchstat's choice)
    t_test = "t_test"  # Welch's t-test on the samples of both sides
    z_score = "z_score"  # one side's centre against the other side's distribution
    percentage = "percentage"  # |change| above ``limit`` (a fraction), no statistics
    iqr = "iqr"  # head centre outside base's quartiles widened by ``limit`` x IQR


MAX_THRESHOLDS = 100
