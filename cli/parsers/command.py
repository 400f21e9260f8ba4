"""Results of the ``command`` framework: the whole command, timed over its repeats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cli.cachegrind import MEASURES, Counts
from cli.parsers.common import make_result, stats_fields
from cli.runner import Execution
from cli.wire import Result

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


def _medians(target: str, measured: Iterable[tuple[str, str, list[float]]]) -> list[Result]:
    """A result per (measure, unit, one sample per execution): the median, with the samples' statistics."""
    results = []
    for measure, unit, samples in measured:
        stats = stats_fields(samples)
        results.append(make_result(target, benchmark=target, measure=measure, unit=unit,
                                   value=stats["median"], iterations=len(samples), **stats))  # fmt: skip
    return results


def timing_results(target: str, executions: Sequence[Execution]) -> list[Result]:
    """Wall, CPU (user+system, and each), max RSS per timed run; headline values are medians."""
    if not executions:
        return []
    return _medians(
        target, ((measure, unit, [read(ex) for ex in executions]) for measure, unit, read in _MEASURES)
    )


def instruction_results(target: str, counts: Sequence[Counts]) -> list[Result]:
    """Instructions, cache misses and estimated cycles per execution under cachegrind; medians."""
    if not counts:
        return []
    return _medians(target, ((m, _COUNT_UNITS[m], [c.measure(m) for c in counts]) for m in MEASURES))
