"""The series central writes for a run: per result, per benchmark identity, changes against the
runs before; in batches, the same every time."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from central import repository, series
from central.schemas import ResultIn
from exporter.metrics import BENCHMARK_CHANGE_DAILY, BENCHMARK_TREND_DAILY, DAY_LABEL, TREND_LABELS
from tests.central.test_compare_api import record
from tests.central.test_markers import END, run


def _result(i: int, **labels: str) -> ResultIn:
    return ResultIn(
        benchmark=f"B{i}", measure="time", unit="ns/op", value=1500.0 + i, iterations=10, labels=labels
    )


def test_a_run_s_series_in_batches_carry_its_identity_and_end_time() -> None:
    results = [_result(i) for i in range(7)] + [_result(7, procs="2", pkg="example.com/a")]
    pieces = list(series.batches(run(), results, size=3))
    # value, iterations, trend and its daily copy per result; then the run on its branch,
    # valued its results
    assert [samples for _, samples in pieces] == [12, 12, 8, 1]
    samples = [s for text, _ in pieces for f in text_string_to_metric_families(text) for s in f.samples]
    assert {s.timestamp for s in samples} == {END.timestamp()}
    last = next(s for s in samples if s.name == "benchhub_benchmark_value" and s.labels["benchmark"] == "B7")
    assert last.value == pytest.approx(1.507e-6) and last.labels["unit"] == "seconds"
    assert (last.labels["procs"], last.labels["pkg"], last.labels["org"], last.labels["run_id"]) == (
        "2", "example.com/a", "acme", "r-1",
    )  # fmt: skip
    again = list(series.batches(run(), results, size=3))
    assert again == pieces  # a re-export writes exactly the same samples
    (branch,) = _samples(pieces[-1][0])
    assert (branch.name, branch.value, branch.timestamp) == (
        "benchhub_branch_run_results",
        8,
        END.timestamp(),
    )
    assert branch.labels == {"org": "acme", "project": "shop", "target": "bench", "branch": run().branch}


def test_a_run_without_a_value_is_not_the_branch_s_newest() -> None:
    failed = ResultIn(benchmark="B", measure="time", unit="ns/op", error="boom")
    pieces = list(series.batches(run(), [failed, _result(1)]))
    assert [_samples(t)[-1].value for t, _ in pieces][-1] == 1  # the one result with a value


def test_failed_results_have_no_sample() -> None:
    failed = ResultIn(benchmark="B", measure="time", unit="ns/op", error="boom")
    assert list(series.batches(run(), [failed])) == [("", 0)]


def _samples(text: str) -> list[Sample]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def test_the_trend_sample_is_the_value_without_the_run_s_labels() -> None:
    (text, _), _branch = series.batches(run(), [_result(3, procs="4")])
    samples = {s.name: s for s in _samples(text)}
    value, trend = samples["benchhub_benchmark_value"], samples["benchhub_benchmark_trend"]
    assert set(trend.labels) == set(TREND_LABELS)
    assert trend.labels == {k: v for k, v in value.labels.items() if k not in ("commit", "run_id", "host")}
    assert (trend.value, trend.timestamp) == (value.value, value.timestamp)


def test_changes_are_against_the_median_of_each_window_of_runs_before() -> None:
    before = [3e-6, 1e-6, 2e-6, 10e-6]  # newest first
    prior = {("B0", "time", "", "", "seconds"): before, ("B1", "time", "", "", "bytes"): [1.0],
             ("B2", "time", "", "", "seconds"): [0.0]}  # fmt: skip
    results = [_result(0), _result(1), _result(2)]
    (text, count), _branch = series.batches(run(), results, prior=prior, windows=(1, 3, 10))
    changes = {s.labels["runs"]: s.value for s in _samples(text) if s.name == "benchhub_benchmark_change"}
    value = 1.5e-6  # B0: 1500 ns
    median = {"1": 3e-6, "3": 2e-6, "10": statistics.median(before)}
    # B0 has three windows; B1's prior values are in another unit (another series) and B2's
    # baseline is 0 (no relative change): none
    assert changes == {runs: pytest.approx(value / m - 1) for runs, m in median.items()}
    assert count == 3 * 4 + 3 * 2
    daily = {s.labels["runs"]: s.value for s in _samples(text) if s.name == "benchhub_benchmark_change_daily"}
    assert daily == changes


def test_the_day_label_sorts_first_so_a_day_s_series_lie_together_on_disk() -> None:
    for spec in (BENCHMARK_TREND_DAILY, BENCHMARK_CHANGE_DAILY):
        assert min(spec.labels) == DAY_LABEL, spec.name


def test_the_daily_copies_are_the_trend_and_change_samples_with_the_run_s_utc_day() -> None:
    prior = {("B3", "time", "4", "", "seconds"): [1e-6, 2e-6]}
    late = run(finished_at=datetime(2026, 11, 30, 23, 59, 59, 900_000, tzinfo=UTC))
    for ended, day in ((run(), END.strftime("%Y-%m-%d")), (late, "2026-11-30")):
        (text, _), _branch = series.batches(ended, [_result(3, procs="4")], prior=prior, windows=(1, 2))
        found = _samples(text)
        for name in ("benchhub_benchmark_trend", "benchhub_benchmark_change"):
            plain = sorted((s for s in found if s.name == name), key=lambda s: s.labels.get("runs", ""))
            daily = sorted(
                (s for s in found if s.name == f"{name}_daily"), key=lambda s: s.labels.get("runs", "")
            )
            assert len(daily) == len(plain) == (1 if name.endswith("trend") else 2)
            for p, d in zip(plain, daily, strict=True):
                assert d.labels == p.labels | {DAY_LABEL: day}
                assert (d.value, d.timestamp) == (p.value, p.timestamp)


def test_prior_values_are_the_runs_of_the_branch_that_ended_before_newest_first(
    client: TestClient,
) -> None:
    def one(value: float, unit: str = "ns", branch: str = "main", state: str = "finished") -> str:
        results = [
            {"benchmark": "Parse", "measure": "time", "unit": unit, "value": value, "labels": {"procs": "2"}}
        ]
        return record(client, f"{value:040.0f}"[-40:], results, branch=branch, state=state)

    one(100.0)
    one(200.0, unit="us")  # 200 us: the same series in base units
    one(300.0, branch="feature")  # another branch
    one(400.0, state="failed")  # not finished
    me = one(500.0)
    later = one(600.0)  # ended after: never in the baseline, however late it is asked
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    key = ("Parse", "time", "2", "", "seconds")
    assert repository.prior_values(sessions, me, 10) == {key: [pytest.approx(2e-4), pytest.approx(1e-7)]}
    assert repository.prior_values(sessions, me, 1) == {key: [pytest.approx(2e-4)]}
    assert repository.prior_values(sessions, later, 10)[key][0] == pytest.approx(5e-7)
