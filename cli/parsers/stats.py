"""Summary statistics of repeated samples, as every parser reports them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    mean: float
    median: float
    stddev: float | None
    min: float
    max: float
    count: int


def summarize(samples: list[float]) -> Summary:
    """Mean, median, sample stddev (None for one sample), min, max of a non-empty list."""
    return Summary(
        mean=statistics.fmean(samples),
        median=statistics.median(samples),
        stddev=statistics.stdev(samples) if len(samples) > 1 else None,
        min=min(samples),
        max=max(samples),
        count=len(samples),
    )
