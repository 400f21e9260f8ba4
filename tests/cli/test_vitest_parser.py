"""Vitest's benchmark JSON: the statistics of a real ``vitest bench`` run, read back from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.errors import ParseError
from cli.parsers import detect, vitest

FILE = Path(__file__).parents[1] / "data" / "vitest" / "vitest.json"


def test_every_bench_of_every_group_with_tinybench_s_statistics() -> None:
    raw = json.loads(FILE.read_text())
    results = {r.benchmark: r for r in vitest.parse(FILE.read_text())}
    assert detect(FILE.read_text()) == "vitest"
    expected = {
        f"{g['fullName']} > {b['name']}": b
        for f in raw["files"]
        for g in f["groups"]
        for b in g["benchmarks"]
    }
    assert set(results) == set(expected) == {"sum.bench.js > join", "sum.bench.js > sums > for loop",
                                             "sum.bench.js > sums > reduce"}  # fmt: skip
    for name, bench in expected.items():
        r = results[name]
        assert (r.value, r.mean, r.stddev, r.min, r.max, r.sample_count, r.unit) == (
            bench["median"], bench["mean"], bench["sd"], bench["min"], bench["max"], bench["sampleCount"], "ms",
        )  # fmt: skip
        assert (r.context["hz"], r.context["rme"]) == (str(bench["hz"]), str(bench["rme"]))
    with pytest.raises(ParseError, match="holds no benchmark"):
        vitest.parse('{"files": []}')
