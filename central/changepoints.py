"""Where a benchmark's history stepped: change points in one value per run, oldest first.

Our own algorithm, kept because it measured best on the labelled histories of
tests/histories.py (``make bench-detect``: asv's detect_steps and ruptures' PELT side by side;
numbers in the README). Written out rather than taken from a library because no library
combines the three things benchmark histories need: robustness to lone outliers and heavy
tails, telling a step from a slow drift, and a minimum effect.

1. Work on log values (a step is a ratio) and estimate the noise robustly from the median
   absolute first difference (steps and outliers barely move it).
2. Clip each value to its rolling median (7 runs, fewer at the ends) +- 3 sigma: a lone spike
   is no step.
3. Candidate splits: the optimal partition of the clipped values into segments of at least
   MIN_SEGMENT runs, each segment costing its squared deviations plus a penalty of
   (``split_z`` sigma)^2 (optimal partitioning, Jackson et al. 2005, by dynamic programming;
   PELT is the same optimum with pruning). It replaced seeded binary segmentation, which it
   beat on the labelled histories: F1 0.878 -> 0.890 on five held-out seeds.
4. Ask once per history whether it drifts: a line that may bend once (a drift that starts or
   stops partway) against the segments of step 3, by BIC (4 parameters against one per
   segment). Unless the segments fit better by ``drift_bic``, the history counts as drifting.
5. Confirm each split on the runs next to it (up to ``window`` each side, within its
   neighbours): the means must differ (``local_z``) and the step's size must reach
   ``min_effect``, by the means and by the medians (a few outliers on one side are no
   effect); in a drifting history the step must also survive a model that lets the
   level drift linearly (``drift_z``: a drift is no step). Refused splits merge their
   segments and the neighbours are confirmed again.

Step 4 is what took F1 past 0.90: asking every split to beat a local slope (as step 5 did
for all histories before) costs a weak step about half its t value, since a slope over a few
dozen runs looks much like a step. Asked only where the history as a whole looks like a
drift (and with the medians' check), F1 0.880 -> 0.902 averaged over nine seeds, with half
the no-change histories alarmed. A straight line alone would not do: a drift that starts
partway fits no straight line, and was then taken for a staircase of steps in every history
(the bend fixes that).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_SEGMENT = 6


@dataclass(frozen=True)
class ChangePoint:
    index: int  # the first run at the new level (0-based)
    before: float  # median of the runs since the previous change point
    after: float  # median of the runs up to the next one
    change: float  # after / before - 1
    p_value: float  # of the step, allowing a linear drift around it


@dataclass(frozen=True)
class Settings:
    split_z: float = 4.0
    local_z: float = 4.0
    drift_z: float = 3.0
    drift_bic: float = 25.0
    min_effect: float = 0.01
    window: int = 80
    gap: int = 1


def _noise(x: np.ndarray) -> float:
    d = np.diff(x)
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    return sigma if sigma > 0 else 1e-12


def _clipped(x: np.ndarray, sigma: float) -> np.ndarray:
    half = 3
    rolling = np.empty_like(x)
    rolling[half:-half] = np.median(np.lib.stride_tricks.sliding_window_view(x, 2 * half + 1), axis=1)
    # the window shrinks at the ends: padding with copies of the first value made a spike
    # there its own median, and so never clipped (statistics.median on these few values:
    # numpy's costs ~20 us a call, a sixth of the whole detection)
    head, tail = x[: 2 * half].tolist(), x[-2 * half :].tolist()
    for i in range(half):
        rolling[i] = statistics.median(head[: i + half + 1])
        rolling[-1 - i] = statistics.median(tail[-i - half - 1 :])
    clipped: np.ndarray = np.clip(x, rolling - 3 * sigma, rolling + 3 * sigma)
    return clipped


def _optimal_splits(z: np.ndarray, sigma: float, split_z: float) -> list[int]:
    """Where the optimal partition of ``z`` starts its segments (the first index of each but the
    first): minimum total squared deviation from the segments' means plus (split_z sigma)^2 per
    segment, every segment at least MIN_SEGMENT long.

    Written out (O(n^2), one numpy pass per end point: ~1 ms at 100 runs) rather than taken from
    ruptures, whose PELT calls its cost function once per candidate in Python: the incremental
    scan runs it for every series a run touched.
    """
    n = len(z)
    penalty = (split_z * sigma) ** 2
    sums = np.concatenate([[0.0], np.cumsum(z)])
    squares = np.concatenate([[0.0], np.cumsum(z * z)])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty  # the first segment is paid for like the others
    start = np.zeros(n + 1, dtype=int)
    for end in range(MIN_SEGMENT, n + 1):
        s = np.concatenate([[0], np.arange(MIN_SEGMENT, end - MIN_SEGMENT + 1)])
        cost = squares[end] - squares[s] - (sums[end] - sums[s]) ** 2 / (end - s)
        total = best[s] + cost + penalty
        i = int(np.argmin(total))
        best[end], start[end] = total[i], s[i]
    points = []
    end = n
    while end > 0:
        end = int(start[end])
        if end > 0:
            points.append(end)
    return sorted(points)


def _drifting(z: np.ndarray, points: list[int], s: Settings) -> bool:
    """Whether a drift explains the history about as well as its segments do: a line that may
    bend once (a level that starts or stops drifting partway), fitted at every second run as
    the bend, against the segments between ``points``, by BIC."""
    n = len(z)
    t = np.arange(n, dtype=float)
    basis, _ = np.linalg.qr(np.column_stack([np.ones(n), t]))
    off_line = z - basis @ (basis.T @ z)
    # each bend's hinge max(0, t - h), less its part a straight line already fits: the bend
    # with the largest projection on what the line left is the best bent line (all at once)
    bends = np.maximum(0.0, t[None, :] - np.arange(2, n - 2, 2, dtype=float)[:, None])
    bends -= (bends @ basis) @ basis.T
    norms = np.einsum("ij,ij->i", bends, bends)
    gains = (bends @ off_line) ** 2 / np.where(norms > 0, norms, np.inf)
    drift = max(float(off_line @ off_line) - float(gains.max(initial=0.0)), 0.0)
    bounds = [0, *points, n]
    steps = sum(float(np.sum((z[a:b] - np.mean(z[a:b])) ** 2)) for a, b in itertools.pairwise(bounds))
    tiny = 1e-300  # a noiseless history: both fits exact

    def bic(rss: float, parameters: int) -> float:
        return n * math.log(rss / n + tiny) + parameters * math.log(n)

    return bic(steps, len(points) + 1) - bic(drift, 4) > -s.drift_bic


def _step(z: np.ndarray, k: int, lo: int, hi: int, sigma: float, s: Settings, drifting: bool) -> float | None:
    """p-value of the step at ``k`` on the runs [lo, hi) around it, or None when refused."""
    left, right = z[max(lo, k - s.window) : k], z[k : min(hi, k + s.window)]
    nl, nr = len(left), len(right)
    if nl < 2 or nr < 2:
        return None
    diff = float(np.mean(right) - np.mean(left))
    if abs(diff) / (sigma * math.sqrt(1 / nl + 1 / nr)) < s.local_z:
        return None
    if abs(math.expm1(float(np.median(right) - np.median(left)))) < s.min_effect:
        return None  # the medians' view: a few outliers on one side are not an effect
    if not drifting:
        if abs(math.expm1(diff)) < s.min_effect:
            return None
        # Welch's standard error, written out to floor it at the history's noise (scipy's
        # ttest_ind is NaN on runs of equal values, where the step is certain)
        spread = float(np.var(left, ddof=1)) / nl + float(np.var(right, ddof=1)) / nr
        error = math.sqrt(max(spread, sigma**2 * (1 / nl + 1 / nr)))
        return float(2 * stats.t.sf(abs(diff) / error, nl + nr - 2))
    # level + slope + step: a drift fits the slope, a step the step. The runs right next to
    # the split are left out: the split was put where noise made the jump largest, and they
    # would lend that chance to the step (a drift then passes for one)
    gap = s.gap if min(nl, nr) > s.gap + 2 else 0
    left, right = left[: nl - gap], right[gap:]
    nl, nr = len(left), len(right)
    t = np.concatenate([np.arange(-nl - gap, -gap), np.arange(gap, nr + gap)]).astype(float)
    design = np.column_stack([np.ones(nl + nr), t, (t >= 0).astype(float)])
    y = np.concatenate([left, right])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    dof = nl + nr - 3
    if dof < 1:
        return None
    resid = y - design @ coef
    scale = max(float(np.sqrt(resid @ resid / dof)), sigma)
    step = float(coef[2])
    step_t = abs(step) / (math.sqrt(float(np.linalg.pinv(design.T @ design)[2, 2])) * scale)
    if step_t < s.drift_z or abs(math.expm1(step)) < s.min_effect:
        return None
    return float(2 * stats.t.sf(step_t, dof))


def detect(values: Sequence[float], settings: Settings | None = None) -> list[ChangePoint]:
    """The change points of a history (one value per run, oldest first)."""
    s = settings or Settings()
    y = np.asarray(values, dtype=float)
    if len(y) < 2 * MIN_SEGMENT or not np.all(np.isfinite(y)):
        return []
    x = np.log(y) if np.all(y > 0) else y / max(float(np.median(np.abs(y))), 1e-12)
    sigma = _noise(x)
    z = _clipped(x, sigma)
    points = _optimal_splits(z, sigma, s.split_z)
    drifting = bool(points) and _drifting(z, points, s)
    p_values: dict[int, float] = {}
    for _ in range(10):  # confirm; a refused split merges its segments, so confirm again
        bounds = [0, *points, len(z)]
        kept = []
        for i, k in enumerate(points):
            p = _step(z, k, bounds[i], bounds[i + 2], sigma, s, drifting)
            if p is not None:
                kept.append(k)
                p_values[k] = p
        if kept == points:
            break
        points = kept
    bounds = [0, *points, len(y)]
    out = []
    for i, k in enumerate(points):
        before = float(np.median(y[bounds[i] : k]))
        after = float(np.median(y[k : bounds[i + 2]]))
        change = after / before - 1 if before else math.inf
        out.append(ChangePoint(k, before, after, change, p_values[k]))
    return out
