"""BenchmarkDotNet's full JSON report: .NET cannot run here, so the file is constructed to its documented format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.errors import ParseError
from cli.parsers import benchmarkdotnet, detect

FILE = Path(__file__).parents[1] / "data" / "benchmarkdotnet" / "constructed-report-full.json"


def test_time_and_allocations_of_every_benchmark_from_the_report() -> None:
    raw = json.loads(FILE.read_text())["Benchmarks"]
    results = {(r.benchmark, r.measure): r for r in benchmarkdotnet.parse(FILE.read_text())}
    assert detect(FILE.read_text()) == "benchmarkdotnet" and len(results) == 5
    for bench in raw:
        name = f"{bench['Type']}.{bench['Method']}"
        r, stats = results[(name, "time")], bench["Statistics"]
        assert r.labels == {"N": "1000"} and r.context["job"] == "DefaultJob"
        if stats is None:
            assert r.error and r.value is None
            continue
        assert (r.value, r.mean, r.stddev, r.min, r.max, r.sample_count, r.unit) == (
            stats["Median"], stats["Mean"], stats["StandardDeviation"], stats["Min"], stats["Max"], stats["N"], "ns",
        )  # fmt: skip
        workload = [m["Nanoseconds"] / m["Operations"] for m in bench["Measurements"]
                    if (m["IterationMode"], m["IterationStage"]) == ("Workload", "Result")]  # fmt: skip
        assert r.samples == stats.get("OriginalValues", workload)  # OriginalValues, else the measurements
        assert r.context["ci_margin"] == str(stats["ConfidenceInterval"]["Margin"])
        allocated = results[(name, "alloc_bytes")]
        assert (allocated.value, allocated.unit) == (bench["Memory"]["BytesAllocatedPerOperation"], "B")
    with pytest.raises(ParseError, match=r"Benchmarks\[0\]\.Statistics\.Median: expected a finite number"):
        benchmarkdotnet.parse(json.dumps({"HostEnvironmentInfo": {}, "Benchmarks": [
            {**raw[0], "Statistics": {**raw[0]["Statistics"], "Median": "fast"}}]}))  # fmt: skip
