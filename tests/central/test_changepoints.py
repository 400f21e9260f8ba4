"""The change-point detector on hand-made series, and its rates on labelled histories."""

from __future__ import annotations

import numpy as np
import pytest

from central.changepoints import _clipped, _noise, detect
from tests.histories import histories, history, score


def _noisy(levels: list[tuple[int, float]], cv: float = 0.01, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    values = np.concatenate([np.full(n, level) for n, level in levels])
    return list(values * (1 + rng.normal(0, cv, len(values))))


def test_a_clean_step_is_found_where_it_happened() -> None:
    (point,) = detect(_noisy([(50, 100.0), (50, 115.0)]))
    assert 49 <= point.index <= 51
    assert point.before == pytest.approx(100, rel=0.01) and point.after == pytest.approx(115, rel=0.01)
    assert point.change == pytest.approx(0.15, abs=0.01) and point.p_value < 1e-6


def test_a_spike_is_not_a_step() -> None:
    values = _noisy([(100, 100.0)])
    values[40] *= 1.8
    values[70:72] = [v * 1.5 for v in values[70:72]]
    assert detect(values) == []


def test_a_spike_at_either_end_is_clipped_like_one_in_the_middle() -> None:
    x = np.log(_noisy([(100, 100.0)]))
    for i in (0, 50, 99):
        x[i] += np.log(1.8)
    sigma = _noise(x)
    z = _clipped(x, sigma)
    for i in (0, 50, 99):  # at most 3 sigma above the runs around it (the first and last were not)
        assert z[i] <= np.median(x[max(0, i - 3) : i + 4]) + 3 * sigma + 1e-12


def test_a_fix_after_a_regression_is_a_second_change_point() -> None:
    points = detect(_noisy([(40, 100.0), (30, 120.0), (40, 100.0)]))
    assert [p.index for p in points] == pytest.approx([40, 70], abs=1)
    assert points[0].change > 0.15 and points[1].change < -0.15


def test_a_slow_drift_is_rarely_taken_for_a_step() -> None:
    """A 12% trend over 150 runs, CV 1%: measured 3% of histories alarmed; 6% is the bound."""
    rng = np.random.default_rng(3)
    drifts = [100 * np.exp(np.linspace(0, 0.12, 150)) * (1 + rng.normal(0, 0.01, 150)) for _ in range(200)]
    alarmed = sum(bool(detect(list(d))) for d in drifts)
    assert alarmed <= 12
    # the same change made as one 12% step: found, and found once, in nearly every history
    steps = [_noisy([(75, 100.0), (75, 112.0)], seed=s) for s in range(200)]
    assert sum(len(detect(s)) == 1 for s in steps) >= 194


def test_a_drift_that_starts_partway_is_rarely_taken_for_a_step() -> None:
    """Flat for 60 runs, then 12% over 90, CV 1%: measured 10% of histories alarmed (16% before
    the drift question; 100% when that question knew only straight lines); 15% is the bound."""
    rng = np.random.default_rng(3)
    level = np.full(150, 100.0)
    level[60:] *= np.exp(np.linspace(0, 0.12, 90))
    alarmed = sum(bool(detect(list(level * (1 + rng.normal(0, 0.01, 150))))) for _ in range(200))
    assert alarmed <= 30


def test_a_small_step_beside_a_clear_one_is_found() -> None:
    """A history that plainly steps is not asked whether it merely drifts: a 1.3% step at CV 1%
    after a 15% one is found in 75% of histories (was 54%, when every step had to beat a slope)."""
    found = 0
    for seed in range(200):
        points = detect(_noisy([(40, 100.0), (40, 115.0), (40, 116.5)], seed=seed))
        found += len(points) == 2 and abs(points[0].index - 40) <= 3 and abs(points[1].index - 80) <= 3
    assert found >= 130


def test_short_constant_and_non_positive_series() -> None:
    assert detect([1.0, 2.0, 3.0]) == []
    assert detect([5.0] * 40) == []
    (point,) = detect([0.0] * 30 + [10.0] * 30)
    assert point.index == 30


def test_rates_on_labelled_histories_with_a_margin() -> None:
    """make bench-detect prints the full table; here: F1 and no-change alarms stay where measured."""
    cases = histories(2026, 300)
    result = score([(c, [p.index for p in detect(c.values)]) for c in cases])
    assert result.f1 >= 0.88 and result.precision >= 0.93  # measured 0.912 and 0.959
    assert result.quiet_alarmed <= result.quiet_histories / 16
    # seeds it was not tuned on, pooled: measured F1 0.903 (the detector before the drift
    # question: 0.887), 14 of 542 no-change histories alarmed (before: 26)
    held_out = [c for seed in (101, 202, 303) for c in histories(seed, 300)]
    result = score([(c, [p.index for p in detect(c.values)]) for c in held_out])
    assert result.f1 >= 0.895
    assert result.quiet_alarmed <= result.quiet_histories / 24


def test_every_kind_and_shape_is_generated() -> None:
    rng = np.random.default_rng(0)
    made = [history(rng) for _ in range(200)]
    assert {h.kind for h in made} == {"steps", "none", "drift", "outliers", "steps+outliers"}
    assert {h.shape for h in made} == {"gaussian", "heavy", "bimodal", "skewed"}
    assert all(60 <= len(h.values) <= 220 for h in made)
