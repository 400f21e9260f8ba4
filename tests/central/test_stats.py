"""The statistics of compare, on seeded generated data: rates asserted with a margin."""

from __future__ import annotations

import numpy as np
import pytest

from central.schemas import Direction, StatTest, Threshold
from central.stats import (
    IMPROVED,
    INSUFFICIENT,
    REGRESSED,
    UNCHANGED,
    Pair,
    direction_of,
    estimates,
    geomean,
    judge,
)

DEFAULT = Threshold()


def _pair(rng: np.random.Generator, n: int, cv: float, shift: float = 0.0, m: int | None = None,
          direction: Direction = Direction.lower_better, threshold: Threshold = DEFAULT) -> Pair:  # fmt: skip
    base = rng.normal(100.0, 100.0 * cv, n)
    head = rng.normal(100.0 * (1 + shift), 100.0 * cv, m or n)
    return Pair(base, head, direction, threshold)


def test_aa_of_1000_benchmarks_reports_at_most_one_percent_changed() -> None:
    rng = np.random.default_rng(17)
    verdicts = [j.verdict for j in judge([_pair(rng, 10, 0.02) for _ in range(1000)])]
    assert verdicts.count(REGRESSED) <= 10
    assert verdicts.count(IMPROVED) <= 10
    assert verdicts.count(UNCHANGED) >= 980


def test_aa_without_the_fdr_correction_would_cry_wolf() -> None:
    """The control: raw p-values of the same A/A data fall below 0.05 about 5% of the time."""
    rng = np.random.default_rng(17)
    judged = judge([_pair(rng, 10, 0.02) for _ in range(1000)])
    raw = sum(1 for j in judged if j.p_value is not None and j.p_value < 0.05)
    assert 25 <= raw <= 80


def test_a_five_percent_slowdown_is_found_in_95_percent_of_trials() -> None:
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(200):  # each trial: one slowed benchmark among 99 unchanged ones
        pairs = [_pair(rng, 10, 0.01, shift=0.05)] + [_pair(rng, 10, 0.01) for _ in range(99)]
        judged = judge(pairs)
        found += judged[0].verdict == REGRESSED
    assert found >= 190


def test_a_half_percent_change_with_1000_samples_is_significant_but_unchanged() -> None:
    rng = np.random.default_rng(3)
    judged = judge([_pair(rng, 1000, 0.01, shift=0.005) for _ in range(50)])
    assert all(j.verdict == UNCHANGED for j in judged)
    assert sum(1 for j in judged if j.adjusted_p is not None and j.adjusted_p < 0.05) >= 45
    assert all(j.note and "minimum effect" in j.note for j in judged if j.adjusted_p and j.adjusted_p < 0.05)


def test_two_samples_a_side_is_insufficient_never_a_verdict() -> None:
    rng = np.random.default_rng(2)
    judged = judge([_pair(rng, 2, 0.01, shift=0.5) for _ in range(20)])
    assert {j.verdict for j in judged} == {INSUFFICIENT}
    assert judged[0].note and "at least 3" in judged[0].note


def test_three_samples_a_side_cannot_reach_alpha_with_mann_whitney() -> None:
    judged = judge(
        [Pair(np.array([1.0, 1.1, 1.2]), np.array([2.0, 2.1, 2.2]), Direction.lower_better, DEFAULT)]
    )
    assert judged[0].verdict == INSUFFICIENT
    assert "cannot reach" in (judged[0].note or "")


@pytest.mark.parametrize(("shift", "verdict"), [(-0.05, REGRESSED), (0.05, IMPROVED)])
def test_throughput_is_higher_is_better(shift: float, verdict: str) -> None:
    rng = np.random.default_rng(11)
    judged = judge([_pair(rng, 10, 0.01, shift=shift, direction=Direction.higher_better) for _ in range(50)])
    assert sum(j.verdict == verdict for j in judged) >= 48


def test_direction_from_measure_and_unit_or_declared() -> None:
    assert direction_of("time", "ns/op", None) == Direction.lower_better
    assert direction_of("alloc_bytes", "B/op", None) == Direction.lower_better
    assert direction_of("throughput", "MB/s", None) == Direction.higher_better
    assert direction_of("ops", "ops", None) == Direction.higher_better
    assert direction_of("error_rate", "1/s", None) == Direction.lower_better
    assert direction_of("time", "s", "higher") == Direction.higher_better


def test_one_value_per_run_is_judged_against_the_base_window() -> None:
    """conbench's lookback: 20 base runs of one value each, one head value."""
    rng = np.random.default_rng(8)
    slowed = [_pair(rng, 20, 0.01, shift=0.05, m=1) for _ in range(200)]
    same = [_pair(rng, 20, 0.01, m=1) for _ in range(1000)]
    judged = judge(slowed + same)
    assert {j.test for j in judged} == {StatTest.z_score}
    assert sum(j.verdict == REGRESSED for j in judged[:200]) >= 190
    assert sum(j.verdict != UNCHANGED for j in judged[200:]) <= 10


def test_welch_t_test_on_request() -> None:
    rng = np.random.default_rng(4)
    threshold = Threshold(test=StatTest.t_test)
    judged = judge([_pair(rng, 10, 0.01, shift=0.05, threshold=threshold) for _ in range(100)])
    assert {j.test for j in judged} == {StatTest.t_test}
    assert sum(j.verdict == REGRESSED for j in judged) >= 95


def test_percentage_and_iqr_thresholds() -> None:
    flat = np.array([100.0] * 5)
    percentage = Threshold(test=StatTest.percentage, limit=0.10)
    iqr = Threshold(test=StatTest.iqr)
    spread = np.array([98.0, 99.0, 100.0, 101.0, 102.0])  # IQR 2: fences at 96 and 104
    judged = judge([
        Pair(flat[:1], np.array([109.0]), Direction.lower_better, percentage),
        Pair(flat[:1], np.array([111.0]), Direction.lower_better, percentage),
        Pair(spread, np.array([103.5]), Direction.lower_better, iqr),
        Pair(spread, np.array([106.0]), Direction.lower_better, iqr),
        Pair(spread, np.array([94.0]), Direction.lower_better, iqr),
    ])  # fmt: skip
    assert [j.verdict for j in judged] == [UNCHANGED, REGRESSED, UNCHANGED, REGRESSED, IMPROVED]


def test_median_confidence_interval_covers_the_true_median_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(9)
    arrays = [rng.normal(50.0, 5.0, 20) for _ in range(2000)]
    covered = sum(e.low <= 50.0 <= e.high for e in estimates(arrays, 0.95))
    assert covered >= 0.94 * 2000


def test_geomean_of_ratios() -> None:
    assert geomean([2.0, 0.5]) == pytest.approx(1.0)
    assert geomean([1.1, 1.1, 1.1]) == pytest.approx(1.1)
    assert geomean([]) is None
