"""Results of the ``command`` framework: the whole command, timed over its repeats."""

from __future__ import annotations

from collections.abc import Sequence

from central.schemas import ResultIn
from cli.cachegrind import MEASURES, Counts
from cli.parsers.common import make_result, stats_fields
from cli.runner import Execution

_COUNT_UNITS = {"instructions": "instructions", "l1_misses": "misses", "ll_misses": "misses",
                "estimated_cycles": "cycles"}  # fmt: skip

# measure -> (unit, what to read from one execution)
_MEASURES = (
    ("time", "s", lambda ex: ex.wall_seconds),
    ("cpu_time", "s", lambda ex: ex.cpu_seconds),
    ("user_time", "s", lambda ex: ex.user_seconds),
    ("system_time", "s", lambda ex: ex.system_seconds),
    ("max_rss", "B", lambda ex: float(ex.max_rss_bytes)),
)


def timing_results(target: str, executions: Sequence[Execution]) -> list[ResultIn]:
    """Wall, CPU (user+system, and each), max RSS per timed run; headline values are medians."""
    if not executions:
        return []
    results = []
    for measure, unit, read in _MEASURES:
        samples = [read(ex) for ex in executions]
        stats = stats_fields(samples)
        results.append(
            make_result(
                target, benchmark=target, measure=measure, unit=unit, value=stats["median"],
                iterations=len(samples), **stats,
            )
        )  # fmt: skip
    return results


def instruction_results(target: str, counts: Sequence[Counts]) -> list[ResultIn]:
    """Instructions, cache misses and estimated cycles per execution under cachegrind; medians."""
    results = []
    for measure in MEASURES if counts else ():
        samples = [c.measure(measure) for c in counts]
        stats = stats_fields(samples)
        results.append(
            make_result(
                target, benchmark=target, measure=measure, unit=_COUNT_UNITS[measure], value=stats["median"],
                iterations=len(samples), **stats,
            )
        )  # fmt: skip
    return results
