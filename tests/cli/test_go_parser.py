import statistics
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.errors import ParseError
from cli.parsers import go
from cli.parsers.go import parse
from cli.wire import Result

DATA = Path(__file__).parents[1] / "data" / "go"


def find(results: list[Result], benchmark: str, measure: str, **labels: str) -> Result:
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


# Lines of go test output, plain and odd: the grid reader must agree with the line reader.
NAMES = st.sampled_from(
    ["BenchmarkA", "BenchmarkA-2", "BenchmarkA-4", "BenchmarkB/n=10-2", "Benchmark", "BenchmarkÜ-2"]
)
UNITS = st.sampled_from(["ns/op", "B/op", "allocs/op", "MB/s", "widgets/op"])
NUMBERS = st.sampled_from(["1", "2.5", "1052", "0", "-0", "1e3", "3_0", "7"])
SPACE = st.sampled_from([" ", "\t", "  \t", " \t "])
COUNTS = st.sampled_from(["1", "10", "100", "999999999", str(2**40), str(10**20), "0"])


@st.composite
def result_line(draw: st.DrawFn, numbers: st.SearchStrategy[str] = NUMBERS) -> str:
    pairs = draw(st.lists(st.tuples(numbers, UNITS), min_size=1, max_size=3))
    fields = [draw(NAMES), draw(COUNTS)] + [x for pair in pairs for x in pair]
    return "".join(f + draw(SPACE) for f in fields).rstrip(" \t" if draw(st.booleans()) else "")


OTHER_LINES = st.sampled_from([
    "", "PASS", "ok  \texample.com/x\t1.2s", "goos: linux", "pkg: example.com/x", "cpu: Intel(R) Xeon(R)",
    "BenchmarkA", "BenchmarkA-2 some words here", "BenchmarkA 12", "    x_test.go:3: a log line",
    "--- FAIL: BenchmarkA-2", "--- FAIL: BenchmarkB/n=10-2", "    x_test.go:9: it broke", "\x1c", "a\0b",
])  # fmt: skip


def _outcome(text: str, grid: bool) -> object:
    try:
        return go._parse(text, grid=grid)
    except ParseError as exc:
        return str(exc)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(result_line() | result_line() | OTHER_LINES, max_size=60), chunk=st.integers(1, 400))
def test_the_grid_reads_what_the_line_reader_reads(lines: list[str], chunk: int) -> None:
    text = "\n".join(lines) + "\n"
    # the grid (and numpy's statistics) even for a few lines, which bhubctl reads without them
    with patch.object(go, "_CHUNK", chunk), patch.object(go, "_GRID_MIN_LINES", 1):
        assert _outcome(text, grid=True) == _outcome(text, grid=False)


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b)) or a == b
    return a == b


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(result_line() | OTHER_LINES, max_size=60))
def test_small_outputs_summarized_in_python_as_numpy_does(lines: list[str]) -> None:
    # below _NUMPY_MIN_VALUES the statistics are summarize()'s (no numpy import): the same
    # results, the floats to 1e-12 (fsum and numpy add in different orders)
    text = "\n".join(lines) + "\n"
    plain = _outcome(text, grid=False)
    with patch.object(go, "_NUMPY_MIN_VALUES", 0):
        numpy = _outcome(text, grid=False)
    if isinstance(plain, str) or isinstance(numpy, str):
        assert plain == numpy
        return
    assert isinstance(plain, list) and isinstance(numpy, list) and len(plain) == len(numpy)
    for mine, theirs in zip(plain, numpy, strict=True):
        for field in Result.__struct_fields__:
            assert _close(getattr(mine, field), getattr(theirs, field)), (field, mine, theirs)


def test_a_small_suite_is_parsed_without_numpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from cli.parsers.go import parse\n"
        "parse('BenchmarkA-2  1000  1500 ns/op\\nBenchmarkB-2  10  2.5 ns/op  3 B/op\\nPASS\\n')\n"
        "print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


BAD = st.sampled_from(["abc", "nan", "inf", "1e400", "1.2.3"])


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(result_line() | result_line(BAD) | OTHER_LINES, min_size=1, max_size=30))
def test_bad_values_are_the_same_error_either_way(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    with patch.object(go, "_CHUNK", 100), patch.object(go, "_GRID_MIN_LINES", 1):
        assert _outcome(text, grid=True) == _outcome(text, grid=False)


def test_thousands_of_benchmarks_read_line_by_line() -> None:
    """A FAIL line sends its chunk to the line reader; its 3,000 series keep their counts."""
    lines = [f"BenchmarkCase{i}-2\t{i + 1}\t{i}.5 ns/op\t8 B/op" for i in range(1500)] * 2
    text = "--- FAIL: BenchmarkBroken\n    x_test.go:1: no\n" + "\n".join(lines) + "\n"
    results = parse(text)
    assert len(results) == 3001
    last = find(results, "BenchmarkCase1499", "time", procs="2")
    assert (last.iterations, last.samples, last.value) == (3000, [1499.5, 1499.5], 1499.5)
    assert find(results, "BenchmarkBroken", "time").error == "x_test.go:1: no"


@pytest.mark.parametrize("name", ["strings-count3.txt", "features.txt", "failing.txt"])
def test_an_output_read_back_in_pieces_parses_as_the_whole_text(name: str) -> None:
    text = (DATA / name).read_text()
    lines = text.splitlines(keepends=True)
    pieces = ["".join(lines[i : i + 3]) for i in range(0, len(lines), 3)]
    assert go.parse_chunks(iter(pieces), lambda: text) == parse(text)


def test_a_bad_line_read_in_pieces_is_named_by_its_line() -> None:
    text = "goos: linux\nBenchmarkA-2 10 5 ns/op\nBenchmarkB-2 10 abc ns/op\n"
    with pytest.raises(ParseError, match=r"^line 3: benchmark 'BenchmarkB-2': 'abc' is not a number"):
        go.parse_chunks(iter(text.splitlines(keepends=True)), lambda: text)


def test_more_results_than_a_run_holds_are_refused_before_any_is_made() -> None:
    # before: 1,000,000 results took bhubctl to 6.6 GB and 60 s before central refused them
    from central.schemas import MAX_RESULTS_PER_RUN

    text = "".join(f"BenchmarkN{i}-2 10 5 ns/op\n" for i in range(MAX_RESULTS_PER_RUN + 1))
    never = patch.object(go, "make_results", side_effect=AssertionError("a result was made"))
    with never, pytest.raises(ParseError, match=rf"^{MAX_RESULTS_PER_RUN + 1} results: a run holds at most"):
        parse(text)


def test_one_name_in_two_packages_is_two_results() -> None:
    # before: 'go test ./...' with BenchmarkParse in two packages gave one merged result
    text = (
        "goos: linux\npkg: example.com/a\nBenchmarkParse-2 100 10 ns/op\nBenchmarkOnlyA-2 100 1 ns/op\nPASS\n"
        "ok  \texample.com/a\t1s\npkg: example.com/b\nBenchmarkParse-2 100 30 ns/op\nPASS\n"
    )
    for grid in (True, False):
        results = go._parse(text, grid=grid)
        parse_a = find(results, "BenchmarkParse", "time", procs="2", pkg="example.com/a")
        parse_b = find(results, "BenchmarkParse", "time", procs="2", pkg="example.com/b")
        assert (parse_a.value, parse_b.value) == (10.0, 30.0)
        assert (parse_a.context["pkg"], parse_b.context["pkg"]) == ("example.com/a", "example.com/b")
        only = find(results, "BenchmarkOnlyA", "time", procs="2")  # no twin: no pkg label
        assert only.context["pkg"] == "example.com/a"
