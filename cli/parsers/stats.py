"""Summary statistics of repeated samples, as every parser reports them."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from itertools import repeat


@dataclass(frozen=True)
class Summary:
    mean: float
    median: float
    stddev: float | None
    min: float
    max: float
    count: int


def summarize(samples: list[float]) -> Summary:
    """Mean, median, sample stddev (None for one sample), min, max of a non-empty list.

    Float arithmetic with fsum (two passes), not the statistics module's exact fractions:
    as accurate as the inputs and fast enough for millions of samples.
    """
    n = len(samples)
    ordered = sorted(samples)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    mean = math.fsum(samples) / n
    stddev = None
    if n > 1:  # two passes, element-wise in C (map) rather than a Python generator
        diffs = list(map(operator.sub, samples, repeat(mean, n)))
        stddev = math.sqrt(math.fsum(map(operator.mul, diffs, diffs)) / (n - 1))
    return Summary(mean=mean, median=median, stddev=stddev, min=ordered[0], max=ordered[-1], count=n)
