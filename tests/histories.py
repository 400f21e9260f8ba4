"""Labelled benchmark histories for measuring change-point detectors (seeded, reproducible).

A history is one value per run, oldest first, with the indices where its level truly steps
(the first run at the new level). Kinds: steps (1-3, 2-25%), no change, slow drift (a trend
of 3-15% over the whole history or, in half of them, from a run in its first half on: no
step), lone outliers, and steps with outliers.
Noise: CV 0.5-5% of four shapes: gaussian, heavy-tailed (Student t, 3 df), bimodal (a
second mode 1.5-3 CV above, 20-40% of runs), right-skewed (lognormal, as latencies are).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHAPES = ("gaussian", "heavy", "bimodal", "skewed")
KINDS = ("steps", "none", "drift", "outliers", "steps+outliers")
MIN_GAP = 12  # runs between two steps (and from either end)


@dataclass(frozen=True)
class History:
    values: list[float]
    change_points: list[int]
    kind: str
    shape: str
    cv: float


def _noise(rng: np.random.Generator, shape: str, cv: float, n: int) -> np.ndarray:
    """Multiplicative noise of relative spread ``cv``, centred on 1 (its median)."""
    if shape == "gaussian":
        return 1 + rng.normal(0, cv, n)
    if shape == "heavy":
        return 1 + cv * rng.standard_t(3, n) / np.sqrt(3)  # t(3) has variance 3
    if shape == "bimodal":
        second = rng.random(n) < rng.uniform(0.2, 0.4)
        return 1 + rng.normal(0, cv, n) + second * rng.uniform(1.5, 3.0) * cv
    return np.exp(rng.normal(0, cv, n))  # skewed: lognormal


def _step_points(rng: np.random.Generator, n: int, count: int) -> list[int]:
    while True:
        points = sorted(int(p) for p in rng.integers(MIN_GAP, n - MIN_GAP, count))
        gaps = np.diff([0, *points, n])
        if all(g >= MIN_GAP for g in gaps):
            return points


def history(rng: np.random.Generator, kind: str | None = None, shape: str | None = None) -> History:
    kind = kind or str(rng.choice(KINDS))
    shape = shape or str(rng.choice(SHAPES))
    n = int(rng.integers(60, 221))
    cv = float(np.exp(rng.uniform(np.log(0.005), np.log(0.05))))
    level = np.full(n, 100.0)
    points: list[int] = []
    if kind.startswith("steps"):
        points = _step_points(rng, n, int(rng.integers(1, 4)))
        for point in points:
            size = float(np.exp(rng.uniform(np.log(0.02), np.log(0.25))))
            level[point:] *= 1 + size if rng.random() < 0.6 else 1 / (1 + size)
    elif kind == "drift":
        total = float(rng.uniform(0.03, 0.15)) * (1 if rng.random() < 0.5 else -1)
        start = int(rng.integers(1, n // 2)) if rng.random() < 0.5 else 0  # half start partway
        level[start:] *= np.exp(np.linspace(0, total, n - start))
    values = level * _noise(rng, shape, cv, n)
    if kind.endswith("outliers"):
        spikes = rng.choice(n, size=int(rng.integers(1, max(2, n // 40) + 1)), replace=False)
        values[spikes] *= rng.uniform(1.2, 2.0, len(spikes))  # a busy machine: slower, once
    return History([float(v) for v in values], points, kind, shape, cv)


def histories(seed: int, count: int) -> list[History]:
    rng = np.random.default_rng(seed)
    return [history(rng) for _ in range(count)]


@dataclass(frozen=True)
class Score:
    true_positives: int
    detected: int
    actual: int
    quiet_histories: int  # histories without a true change point
    quiet_alarmed: int  # ... in which something was detected

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(cases: list[tuple[History, list[int]]], tolerance: int = 3) -> Score:
    """A detection within ``tolerance`` runs of a true change point counts, each true point once."""
    tp = detected = actual = quiet = alarmed = 0
    for case, found in cases:
        detected += len(found)
        actual += len(case.change_points)
        unmatched = list(case.change_points)
        for point in sorted(found):
            near = [t for t in unmatched if abs(t - point) <= tolerance]
            if near:
                unmatched.remove(min(near, key=lambda t: abs(t - point)))
                tp += 1
        if not case.change_points:
            quiet += 1
            alarmed += bool(found)
    return Score(tp, detected, actual, quiet, alarmed)
