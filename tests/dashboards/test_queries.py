"""The dashboards' questions answered right on the trend layout, against a real VictoriaMetrics:
latest, previous, change against both, the baseline of N runs, and a commit's own results."""

from __future__ import annotations

import statistics

import httpx
import pytest

from dashboards import queries as q
from tests.dashboards import seed

SELECTOR = 'org="acme",project="shop",branch="main",target="bench"'


def instant(vm: str, expr: str) -> dict[tuple[str, str], float]:
    body = httpx.get(f"{vm}/api/v1/query", params={"query": expr}, timeout=30).json()
    assert body["status"] == "success", body
    found = {
        (r["metric"]["benchmark"], r["metric"]["measure"]): float(r["value"][1])
        for r in body["data"]["result"]
    }
    assert len(found) == len(body["data"]["result"]), "one answer per benchmark and measure"
    return found


def test_latest_previous_and_baseline_are_the_runs_values(seeded_vm: str) -> None:
    history = seed.runs(0)  # the values do not depend on the time the fixture seeded them at
    newest, before = history[-1].values, history[-2].values
    assert instant(seeded_vm, q.latest(SELECTOR, "3h")) == pytest.approx(newest)
    assert instant(seeded_vm, q.previous(SELECTOR, "3h")) == pytest.approx(before)
    assert instant(seeded_vm, q.change_vs_previous(SELECTOR, "3h")) == pytest.approx(
        {k: newest[k] / before[k] - 1 for k in newest}
    )
    for runs in (1, 5, 10):
        median = {k: statistics.median(r.values[k] for r in history[-1 - runs : -1]) for k in newest}
        assert instant(seeded_vm, q.baseline(SELECTOR, "3h", str(runs))) == pytest.approx(median)
        assert instant(seeded_vm, q.change_vs_baseline(SELECTOR, "3h", str(runs))) == pytest.approx(
            {k: newest[k] / median[k] - 1 for k in newest}
        )
    # the first run of a branch has no "previous": nothing, not a division by zero
    assert instant(seeded_vm, q.change_vs_previous(SELECTOR.replace("acme", "zeta"), "3h")) == {}


def test_one_trend_series_per_benchmark_and_a_commit_finds_its_run(seeded_vm: str) -> None:
    history = seed.runs(0)
    series = httpx.get(
        f"{seeded_vm}/api/v1/series", params={"match[]": f"{q.TREND}{{{SELECTOR}}}", "start": 0}
    )
    assert len(series.json()["data"]) == len(history[0].values)  # not benchmarks x runs
    commit = history[3]
    found = instant(seeded_vm, f'last_over_time({q.VALUE}{{commit="{commit.commit}"}}[3h])')
    assert found == pytest.approx(commit.values)
