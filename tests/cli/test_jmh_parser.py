"""JMH's JSON: JMH cannot run here, so tests/data/jmh/constructed.json follows its documented format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.errors import ParseError
from cli.parsers import detect, jmh

FILE = Path(__file__).parents[1] / "data" / "jmh" / "constructed.json"


def test_every_metric_of_every_run_from_the_file() -> None:
    raw = json.loads(FILE.read_text())
    results = {(r.benchmark, r.measure): r for r in jmh.parse(FILE.read_text())}
    assert len(results) == 4 and detect(FILE.read_text()) == "jmh"
    for run in raw:
        measure = {"thrpt": "throughput"}.get(run["mode"], "time")
        r, metric = results[(run["benchmark"], measure)], run["primaryMetric"]
        assert (r.value, r.mean, r.unit) == (
            metric["scorePercentiles"]["50.0"],
            metric["score"],
            metric["scoreUnit"],
        )
        assert r.labels == run["params"] and r.context["mode"] == run["mode"]
        assert r.context["score_error"] == str(metric["scoreError"])
        if "rawData" in metric:
            assert r.samples == [s for fork in metric["rawData"] for s in fork]
        else:  # sample mode: a histogram, not the iteration scores
            assert r.samples is None
    gc = results[("org.sample.ListBenchmark.linkedList", "gc.alloc.rate")]
    assert (gc.unit, gc.mean) == ("MB/sec", raw[1]["secondaryMetrics"]["·gc.alloc.rate"]["score"])
    with pytest.raises(ParseError, match=r"\[0\]\.primaryMetric\.score: expected a finite number"):
        jmh.parse(json.dumps([{**raw[0], "primaryMetric": {**raw[0]["primaryMetric"], "score": "fast"}}]))
