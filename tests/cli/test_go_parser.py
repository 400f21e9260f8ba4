import statistics
from pathlib import Path

import pytest

from central.schemas import ResultIn
from cli.errors import ParseError
from cli.parsers.go import parse

DATA = Path(__file__).parents[1] / "data" / "go"


def find(results: list[ResultIn], benchmark: str, measure: str, **labels: str) -> ResultIn:
    matches = [r for r in results if (r.benchmark, r.measure, r.labels) == (benchmark, measure, labels)]
    assert len(matches) == 1, [(r.benchmark, r.measure, r.labels) for r in results]
    return matches[0]


def test_count_repeats_become_samples_with_median_headline() -> None:
    results = parse((DATA / "strings-count3.txt").read_text())
    plus = find(results, "BenchmarkConcatPlus", "time", procs="2")
    assert plus.samples == [275125.0, 233794.0, 209832.0]
    assert plus.value == plus.median == 233794.0
    assert plus.min == 209832.0 and plus.max == 275125.0
    assert plus.iterations == 810 + 1004 + 1363
    assert plus.sample_count == 3 and plus.unit == "ns/op"
    assert plus.stddev == pytest.approx(statistics.stdev([275125, 233794, 209832]))
    assert find(results, "BenchmarkConcatPlus", "allocs", procs="2").value == 575
    assert find(results, "BenchmarkContains", "throughput", procs="2").unit == "MB/s"
    assert len(results) == 13


def test_sub_benchmarks_procs_custom_metrics_and_logs() -> None:
    results = parse((DATA / "features.txt").read_text())
    assert find(results, "BenchmarkSort/n=10", "time").value == 566.7
    assert find(results, "BenchmarkSort/n=10", "time", procs="2").value == 483.3
    assert find(results, "BenchmarkSort/n=1000", "alloc_bytes", procs="2").value == 8216
    custom = find(results, "BenchmarkCustomMetric", "widgets/op", procs="2")
    assert (custom.value, custom.unit, custom.samples) == (42.5, "widgets/op", None)
    assert find(results, "BenchmarkCopy", "throughput").value == 43858.47
    assert all(r.benchmark.startswith("Benchmark") for r in results)


def test_no_benchmark_lines_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no Go benchmark result found"):
        parse("PASS\nok  \tpkg\t0.1s\n")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("BenchmarkX-2   100   12 ns/op  5\n", "line 1: .*expected '<value> <unit>' pairs"),
        ("goos: linux\nBenchmarkX-2   100   abc ns/op\n", "line 2: .*'abc' is not a number"),
    ],
)
def test_malformed_result_line_names_the_line(text: str, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        parse(text)


def test_name_only_lines_of_logging_benchmarks_are_skipped() -> None:
    results = parse("BenchmarkX\n    x_test.go:3: hi\nBenchmarkX-4  10  7 ns/op\n")
    assert [(r.benchmark, r.value, r.labels) for r in results] == [("BenchmarkX", 7.0, {"procs": "4"})]
