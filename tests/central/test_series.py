"""The series central writes for a run: one per result, in batches, the same every time."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from central import series
from central.schemas import ResultIn
from tests.central.test_markers import END, run


def _result(i: int, **labels: str) -> ResultIn:
    return ResultIn(
        benchmark=f"B{i}", measure="time", unit="ns/op", value=1500.0 + i, iterations=10, labels=labels
    )


def test_a_run_s_series_in_batches_carry_its_identity_and_end_time() -> None:
    results = [_result(i) for i in range(7)] + [_result(7, procs="2", pkg="example.com/a")]
    pieces = list(series.batches(run(), results, size=3))
    assert [samples for _, samples in pieces] == [6, 6, 4]  # value and iterations per result
    samples = [s for text, _ in pieces for f in text_string_to_metric_families(text) for s in f.samples]
    assert {s.timestamp for s in samples} == {END.timestamp()}
    last = next(s for s in samples if s.name == "benchhub_benchmark_value" and s.labels["benchmark"] == "B7")
    assert last.value == pytest.approx(1.507e-6) and last.labels["unit"] == "seconds"
    assert (last.labels["procs"], last.labels["pkg"], last.labels["org"], last.labels["run_id"]) == (
        "2", "example.com/a", "acme", "r-1",
    )  # fmt: skip
    again = list(series.batches(run(), results, size=3))
    assert again == pieces  # a re-export writes exactly the same samples


def test_failed_results_have_no_sample() -> None:
    failed = ResultIn(benchmark="B", measure="time", unit="ns/op", error="boom")
    assert list(series.batches(run(), [failed])) == [("", 0)]
