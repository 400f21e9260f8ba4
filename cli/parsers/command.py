"""Results of the ``command`` framework: the whole command, timed over its repeats."""

from __future__ import annotations

from central.schemas import ResultIn
from cli.parsers.stats import summarize


def timing_results(target: str, walls: list[float], cpus: list[float]) -> list[ResultIn]:
    """Wall-clock and CPU (user+system) seconds per run; headline values are medians."""
    results = []
    for measure, samples in (("time", walls), ("cpu_time", cpus)):
        if not samples:
            continue
        s = summarize(samples)
        results.append(
            ResultIn(
                benchmark=target, measure=measure, unit="s", value=s.median, iterations=s.count,
                mean=s.mean, median=s.median, stddev=s.stddev, min=s.min, max=s.max,
                sample_count=s.count, samples=samples,
            )
        )  # fmt: skip
    return results
