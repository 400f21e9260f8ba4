"""make bench-detect: change-point detectors scored on labelled histories, side by side.

Histories from tests/histories.py (seed and count below), then our detector alone on eight
more seeds, six of which it was never tuned on (101-606). A detection within 3 runs of a true
change point counts, each true point once. Printed per detector: precision, recall, F1, no-change
histories alarmed, and the time per 1,000 runs; then our detector's recall by kind and shape.
Anchors: asv's detect_steps (asv.step_detect), ruptures' PELT (L1 cost, penalty 3 sigma^2 log n on
the log values: BIC-like), and the median-of-10 +-10% rule the vmalert detector used.
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from central.changepoints import detect
from tests.histories import History, histories, score

Detector = Callable[[list[float]], list[int]]
HELD_OUT = (7, 11, 101, 202, 303, 404, 505, 606)  # seeds printed for ours alone (PELT takes a minute a seed)


def ours(values: list[float]) -> list[int]:
    return [c.index for c in detect(values)]


def asv(values: list[float]) -> list[int]:
    from asv.step_detect import detect_steps

    return [left for left, *_ in detect_steps(values)[1:]]


def pelt(values: list[float]) -> list[int]:
    import ruptures

    x = np.log(np.asarray(values))
    sigma = 1.4826 * float(np.median(np.abs(np.diff(x) - np.median(np.diff(x))))) / math.sqrt(2)
    algo = ruptures.Pelt(model="l1", min_size=3, jump=1).fit(x)
    return [int(b) for b in algo.predict(pen=3 * max(sigma, 1e-9) * math.log(len(x)))[:-1]]


def median_of_10(values: list[float]) -> list[int]:
    """The old vmalert rule replayed: a run more than 10% off the median of the 10 before it."""
    return [
        i for i in range(10, len(values)) if abs(values[i] / float(np.median(values[i - 10 : i])) - 1) > 0.10
    ]


DETECTORS: dict[str, Detector] = {"benchhub": ours, "asv detect_steps": asv, "ruptures PELT": pelt,
                                  "median-of-10 rule": median_of_10}  # fmt: skip


def run(cases: list[History], name: str, detector: Detector) -> tuple[list[tuple[History, list[int]]], float]:
    start = time.perf_counter()
    found = [(case, detector(case.values)) for case in cases]
    runs = sum(len(c.values) for c in cases)
    return found, (time.perf_counter() - start) / runs * 1000 * 1000  # ms per 1,000 runs


def main() -> None:
    seed, count = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (2026, 400)
    cases = histories(seed, count)
    print(
        f"{count} labelled histories (seed {seed}), {sum(len(c.change_points) for c in cases)} true change points"
    )
    print(
        f"{'detector':20} {'precision':>9} {'recall':>7} {'F1':>6} {'quiet alarmed':>14} {'ms/1000 runs':>13}"
    )
    for name, detector in DETECTORS.items():
        found, per_1000 = run(cases, name, detector)
        s = score(found)
        alarmed = f"{s.quiet_alarmed}/{s.quiet_histories}"
        print(f"{name:20} {s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f} {alarmed:>14} {per_1000:13.2f}")
        if name == "benchhub":
            mine = found
    others = [s for s in HELD_OUT if s != seed]
    founds = [run(histories(s, count), "benchhub", ours)[0] for s in others]
    scores = [score(found) for found in founds]
    pooled = score([case for found in founds for case in found])
    print(f"\nbenchhub on {len(others)} more seeds ({count} histories each), F1: "
          + ", ".join(f"{s} {r.f1:.3f}" for s, r in zip(others, scores, strict=True))
          + f"; pooled precision {pooled.precision:.3f} recall {pooled.recall:.3f} F1 {pooled.f1:.3f}, "
          f"quiet alarmed {pooled.quiet_alarmed}/{pooled.quiet_histories}")  # fmt: skip
    by: dict[str, list[tuple[History, list[int]]]] = defaultdict(list)
    for case, points in mine:
        by[f"kind {case.kind}"].append((case, points))
        by[f"shape {case.shape}"].append((case, points))
    print("\nbenchhub by kind and noise shape:")
    for key in sorted(by):
        s = score(by[key])
        rates = (f"precision {s.precision:.3f} recall {s.recall:.3f} F1 {s.f1:.3f}" if s.actual
                 else f"no change points, {s.detected} found;")  # fmt: skip
        print(f"  {key:24} {rates} quiet alarmed {s.quiet_alarmed}/{s.quiet_histories}")


if __name__ == "__main__":
    main()
