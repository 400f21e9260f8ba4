"""The statistics of a comparison: pure functions of two sides' observations, with scipy.

Each pair is one result identity: the base's and the head's observations (a tool's samples,
or one value per run), which way is better, and the threshold that judges it. ``judge`` gives
each pair a centre with a confidence interval per side, a relative change, a p-value and a
verdict. Pairs with the same shape are tested in one vectorized scipy call, so 10,000 pairs
of 100 samples a side cost one ``mannwhitneyu``, not 10,000.

Many results are compared at once: the p-values of a comparison are adjusted for the false
discovery rate (Benjamini-Hochberg) before any is compared with alpha, and a change smaller
than the threshold's minimum effect is ``unchanged`` however significant.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from central.schemas import Direction, StatTest, Threshold

REGRESSED, IMPROVED, UNCHANGED, INSUFFICIENT = "regressed", "improved", "unchanged", "insufficient"
_P_TESTS = (StatTest.mwu, StatTest.t_test, StatTest.z_score)
_DEFAULT_LIMIT = {StatTest.percentage: 0.05, StatTest.iqr: 1.5}


# What is better when larger: throughput, operations or iterations per unit of time, rates,
# scores. Everything else (time, bytes, allocations, instructions, cycles) is better smaller;
# failures, misses and errors stay lower-is-better even as a rate.
_HIGHER = re.compile(
    r"(/s|/sec|/second|per_?s|per_?sec(ond)?|hz)$|^(ops|iops|ips|op/s)$|throughput|bandwidth|"
    r"\bops\b|(^|_)rate$|speed|score",
    re.IGNORECASE,
)
_LOWER = re.compile(r"error|fail|miss|loss|latency", re.IGNORECASE)


def direction_of(measure: str, unit: str, declared: str | None) -> Direction:
    """Which way the result gets better: as declared, else from its measure and unit."""
    if declared:
        return Direction(declared)
    if _LOWER.search(measure):
        return Direction.lower_better
    if _HIGHER.search(measure) or _HIGHER.search(unit):
        return Direction.higher_better
    return Direction.lower_better


@dataclass(frozen=True)
class Pair:
    """One result identity to judge: each side's observations (1-D float arrays)."""

    base: Sequence[float]  # lists are fine: a group of pairs becomes one array in one call
    head: Sequence[float]
    direction: Direction
    threshold: Threshold


@dataclass(frozen=True)
class Estimate:
    """A side's median and its distribution-free confidence interval (order statistics)."""

    centre: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Judgement:
    base: Estimate
    head: Estimate
    change: float | None  # head / base - 1
    p_value: float | None  # the test's own p
    adjusted_p: float | None  # Benjamini-Hochberg over the whole comparison
    test: StatTest
    verdict: str
    note: str | None = None


def threshold_of(
    thresholds: dict[str, dict[str, object]] | None, measure: str, overrides: dict[str, object] | None = None
) -> Threshold:
    """A run's threshold for ``measure`` (its own, else ``*``, else the defaults), then ``overrides``."""
    chosen = (thresholds or {}).get(measure) or (thresholds or {}).get("*") or {}
    return Threshold.model_validate({**chosen, **(overrides or {})})


def min_samples(threshold: Threshold) -> int:
    if threshold.min_samples is not None:
        return threshold.min_samples
    return {StatTest.percentage: 1, StatTest.iqr: 4}.get(threshold.test, 3)


def _ci_ranks(n: int, confidence: float) -> int:
    """0-based rank of the lower bound of the median's CI: the binomial order statistic."""
    if n < 2:
        return 0
    k = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))
    return max(k - 1, 0)


def _block_estimates(block: np.ndarray, confidence: float) -> list[Estimate]:
    """Median and CI of each row of a 2-D block (rows of one length)."""
    n = block.shape[1]
    if n == 0:
        return [Estimate(math.nan, math.nan, math.nan, 0)] * block.shape[0]
    ordered = np.sort(block, axis=1)
    medians = np.median(ordered, axis=1)
    lo = _ci_ranks(n, confidence)
    bounds = zip(medians, ordered[:, lo], ordered[:, n - 1 - lo], strict=True)
    return [Estimate(float(m), float(low), float(high), n) for m, low, high in bounds]


def estimates(arrays: Sequence[Sequence[float]], confidence: float) -> list[Estimate]:
    """Median and CI of each array; arrays of one length are sorted in one call."""
    out: list[Estimate] = [Estimate(math.nan, math.nan, math.nan, 0)] * len(arrays)
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, values in enumerate(arrays):
        by_length[len(values)].append(i)
    for n, indices in by_length.items():
        block = np.array([arrays[i] for i in indices], dtype=float).reshape(len(indices), n)
        for i, estimate in zip(indices, _block_estimates(block, confidence), strict=True):
            out[i] = estimate
    return out


def _test_of(pair: Pair) -> StatTest:
    """The threshold's test; a side with one value per run is judged against the other's spread."""
    test = pair.threshold.test
    if test in (StatTest.mwu, StatTest.t_test) and min(len(pair.base), len(pair.head)) == 1:
        return StatTest.z_score  # conbench's lookback: one value against the base's window
    return test


def _insufficient(pair: Pair, test: StatTest) -> str | None:
    """Why a pair cannot get a verdict, or None."""
    need = min_samples(pair.threshold)
    nb, nh = len(pair.base), len(pair.head)
    if test == StatTest.z_score:
        # the base is the distribution; the head may be a single value (or a few, from re-runs)
        if nb < max(need, 2) or nh < 1:
            return f"{nb} base and {nh} head observations; z_score needs {max(need, 2)} in the base"
        return None
    if test == StatTest.iqr:
        return None if nb >= need and nh >= 1 else f"{nb} base observations; iqr needs {need}"
    if min(nb, nh) < need:
        return f"{nb} base and {nh} head observations; at least {need} a side are needed"
    if test == StatTest.mwu:
        # benchstat's warning: with this few samples no p-value can be below alpha
        smallest = 2 / math.comb(nb + nh, nb)
        if smallest >= pair.threshold.alpha:
            return f"{nb} vs {nh} samples: Mann-Whitney U cannot reach p < {pair.threshold.alpha:g}"
    return None


def _p_block(test: StatTest, base: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Two-sided p-values of ``test``, one per row of two blocks, in one scipy call."""
    nb, nh = base.shape[1], head.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if test == StatTest.mwu:
            p = stats.mannwhitneyu(head, base, axis=1, alternative="two-sided").pvalue
        elif test == StatTest.t_test:
            p = stats.ttest_ind(head, base, axis=1, equal_var=False).pvalue
        else:
            # A prediction interval, not a z-table: the head's mean against a distribution
            # whose mean and spread are themselves estimated from nb values (t, nb-1 df).
            spread = base.std(axis=1, ddof=1) * np.sqrt(1 / nh + 1 / nb)
            diff = head.mean(axis=1) - base.mean(axis=1)
            safe = np.where(spread > 0, spread, 1)
            t = np.where(spread > 0, diff / safe, np.where(diff == 0, 0, np.inf))
            p = 2 * stats.t.sf(np.abs(t), df=nb - 1)
    out: np.ndarray = np.nan_to_num(np.atleast_1d(p), nan=1.0)  # constant equal sides: no difference
    return out


def _outside_iqr(pair: Pair, head_centre: float) -> bool:
    q1, q3 = np.percentile(pair.base, [25, 75])
    k = pair.threshold.limit or _DEFAULT_LIMIT[StatTest.iqr]
    return bool(head_centre < q1 - k * (q3 - q1) or head_centre > q3 + k * (q3 - q1))


def judge(pairs: Sequence[Pair], confidence: float = 0.95) -> list[Judgement]:
    """Every pair judged; the p-values adjusted together (Benjamini-Hochberg)."""
    tests = [_test_of(p) for p in pairs]
    notes = [_insufficient(p, t) for p, t in zip(pairs, tests, strict=True)]
    nan = Estimate(math.nan, math.nan, math.nan, 0)
    bases, heads = [nan] * len(pairs), [nan] * len(pairs)
    raw: dict[int, float] = {}
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        by_shape[(len(pair.base), len(pair.head))].append(i)
    for (nb, nh), group in by_shape.items():  # each side's values become an array once
        base_block = np.array([pairs[i].base for i in group], dtype=float).reshape(len(group), nb)
        head_block = np.array([pairs[i].head for i in group], dtype=float).reshape(len(group), nh)
        estimated = zip(
            group,
            _block_estimates(base_block, confidence),
            _block_estimates(head_block, confidence),
            strict=True,
        )
        for i, b, h in estimated:
            bases[i], heads[i] = b, h
        for test in _P_TESTS:
            rows = [row for row, i in enumerate(group) if tests[i] == test and notes[i] is None]
            if rows:
                found = _p_block(test, base_block[rows], head_block[rows])
                raw.update({group[row]: float(v) for row, v in zip(rows, found, strict=True)})
    order = sorted(raw)
    adjusted: dict[int, float] = {}
    if order:
        fdr = stats.false_discovery_control([raw[i] for i in order])
        adjusted = dict(zip(order, (float(v) for v in fdr), strict=True))
    out = []
    for i, pair in enumerate(pairs):
        base, head, test = bases[i], heads[i], tests[i]
        change = head.centre / base.centre - 1 if base.n and head.n and base.centre != 0 else None
        if notes[i] is not None:
            out.append(Judgement(base, head, change, None, None, test, INSUFFICIENT, notes[i]))
            continue
        p, q = raw.get(i), adjusted.get(i)
        if test == StatTest.percentage:
            limit = pair.threshold.limit or _DEFAULT_LIMIT[test]
            significant = change is not None and abs(change) > limit
        elif test == StatTest.iqr:
            significant = _outside_iqr(pair, head.centre)
        else:
            significant = q is not None and q < pair.threshold.alpha
        note = None
        if change is None:
            significant, note = False, "the base's centre is 0: no relative change"
        elif significant and abs(change) < pair.threshold.min_effect:
            significant = False
            note = f"significant but below the minimum effect of {pair.threshold.min_effect:.1%}"
        verdict = UNCHANGED
        if significant and change is not None:
            worse = change > 0 if pair.direction == Direction.lower_better else change < 0
            verdict = REGRESSED if worse else IMPROVED
        out.append(Judgement(base, head, change, p, q, test, verdict, note))
    return out


def geomean(ratios: Sequence[float]) -> float | None:
    """Geometric mean of head/base ratios (positive ones), as benchstat summarises a table."""
    logs = [math.log(r) for r in ratios if r > 0 and math.isfinite(r)]
    return math.exp(sum(logs) / len(logs)) if logs else None
