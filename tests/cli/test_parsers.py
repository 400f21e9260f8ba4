"""Every parser against real outputs in tests/data; expected values read from the tools' own JSON."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cli.errors import ParseError
from cli.outputs import collect_documents, read_files
from cli.parsers import (
    FRAMEWORKS,
    Document,
    benchhub_json,
    benchmark_ips,
    benchmarkjs,
    catch2,
    criterion,
    detect,
    go,
    go_json,
    google_benchmark,
    hyperfine,
    mitata,
    parse_documents,
    pyperf,
    pytest_benchmark,
    rust_libtest,
)
from cli.wire import Result

DATA = Path(__file__).parents[1] / "data"


def load(path: str) -> dict:
    return json.loads((DATA / path).read_text())


def load_list(path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((DATA / path).read_text())
    return found


def by_key(results: list[Result]) -> dict[tuple[str, str], Result]:
    keyed = {(r.benchmark, r.measure): r for r in results}
    assert len(keyed) == len(results), "two results share a benchmark and measure"
    return keyed


def test_pytest_benchmark_every_stat_from_the_file() -> None:
    raw = load("pytest-benchmark/sorting.json")
    results = by_key(pytest_benchmark.parse((DATA / "pytest-benchmark/sorting.json").read_text()))
    assert len(results) == len(raw["benchmarks"]) == 4
    for bench in raw["benchmarks"]:
        stats = bench["stats"]
        r = results[(bench["fullname"], "time")]
        assert (r.unit, r.value, r.median) == ("s", stats["median"], stats["median"])
        assert (r.mean, r.stddev, r.min, r.max) == (
            stats["mean"],
            stats["stddev"],
            stats["min"],
            stats["max"],
        )
        assert r.samples == stats["data"] and r.sample_count == stats["rounds"]
        assert r.iterations == stats["rounds"] * stats["iterations"]
        assert float(r.context["ops"]) == stats["ops"] and r.context["outliers"] == stats["outliers"]
        for name, value in bench["params"].items() if bench["params"] else ():
            assert r.context[f"param.{name}"] == json.dumps(value)
        if bench["group"]:
            assert r.context["group"] == bench["group"]
    fmt = next(r for (name, _), r in results.items() if name.endswith("test_format"))
    assert fmt.context["extra.note"] == "f-string"


def test_google_benchmark_repetitions_aggregates_counters_and_errors() -> None:
    raw = load("google-benchmark/repetitions.json")["benchmarks"]
    results = by_key(google_benchmark.parse((DATA / "google-benchmark/repetitions.json").read_text()))
    rows = [b for b in raw if b["run_name"] == "BM_Sum/64"]
    reps = [b for b in rows if b["run_type"] == "iteration"]
    aggregate = {b["aggregate_name"]: b for b in rows if b["run_type"] == "aggregate"}
    time_ = results[("BM_Sum/64", "time")]
    assert time_.unit == raw[0]["time_unit"] == "ns"
    assert time_.samples == [b["real_time"] for b in reps]
    assert (time_.value, time_.median) == (aggregate["median"]["real_time"], aggregate["median"]["real_time"])
    assert (time_.mean, time_.stddev) == (aggregate["mean"]["real_time"], aggregate["stddev"]["real_time"])
    assert float(time_.context["cv"]) == aggregate["cv"]["real_time"]
    assert time_.iterations == sum(b["iterations"] for b in reps)
    assert results[("BM_Sum/64", "cpu_time")].samples == [b["cpu_time"] for b in reps]
    throughput = results[("BM_Sum/64", "throughput")]
    assert (throughput.unit, throughput.value) == ("B/s", aggregate["median"]["bytes_per_second"])
    assert results[("BM_Sum/64", "items_per_second")].unit == "items/s"
    widgets = results[("BM_Counter/threads:2", "widgets")]
    assert (widgets.value, widgets.unit, widgets.context["threads"]) == (85.0, "count", "2")
    failed = results[("BM_Fails", "time")]
    assert (failed.value, failed.error) == (None, "resource not available")


def test_google_benchmark_single_run_has_no_samples() -> None:
    raw = {b["name"]: b for b in load("google-benchmark/single.json")["benchmarks"]}
    results = by_key(google_benchmark.parse((DATA / "google-benchmark/single.json").read_text()))
    r = results[("BM_Sum/4096", "time")]
    assert (r.value, r.samples, r.iterations) == (
        raw["BM_Sum/4096"]["real_time"],
        None,
        raw["BM_Sum/4096"]["iterations"],
    )


def test_catch2_xml_every_number_from_the_report() -> None:
    root = ET.parse(DATA / "catch2/benchmarks.xml").getroot()
    results = by_key(catch2.parse((DATA / "catch2/benchmarks.xml").read_text()))
    benches = [(case, b) for case in root.iter("TestCase") for b in case.iter("BenchmarkResults")]
    assert len(results) == len(benches) == 4
    for case, bench in benches:
        r = results[(bench.get("name"), "time")]
        mean, deviation = bench.find("mean"), bench.find("standardDeviation")
        assert mean is not None and deviation is not None
        assert (r.unit, r.value, r.mean) == ("ns", float(mean.get("value")), float(mean.get("value")))
        assert r.stddev == float(deviation.get("value"))
        assert r.sample_count == int(bench.get("samples")) == 20
        assert r.iterations == int(bench.get("samples")) * int(bench.get("iterations"))
        assert (float(r.context["mean_lower"]), float(r.context["mean_upper"])) == (
            float(mean.get("lowerBound")), float(mean.get("upperBound"))
        )  # fmt: skip
        assert r.context["test_case"] == case.get("name") and r.context["tags"] == "[bench]"
        assert r.labels == {}


def test_catch2_same_name_in_two_test_cases_and_a_failed_benchmark() -> None:
    """A report cut down by hand from benchmarks.xml (Catch2 writes <failed> when a benchmark throws)."""
    one = '<BenchmarkResults name="x" samples="2" iterations="3"><mean value="5"/><standardDeviation value="1"/></BenchmarkResults>'
    text = (f'<Catch name="b"><Group name="b"><TestCase name="A">{one}</TestCase><TestCase name="B">{one}'
            '<BenchmarkResults name="y"><failed message="boom"/></BenchmarkResults></TestCase></Group></Catch>')  # fmt: skip
    results = catch2.parse(text)
    assert [r.labels for r in results[:2]] == [{"test_case": "A"}, {"test_case": "B"}]
    assert (results[2].benchmark, results[2].error) == ("y", "boom")
    with pytest.raises(ParseError, match="invalid XML"):
        catch2.parse(text[:60])


def test_google_benchmark_complexity_fit_is_a_result_not_an_error() -> None:
    raw = load("google-benchmark/complexity.json")["benchmarks"]
    results = by_key(google_benchmark.parse((DATA / "google-benchmark/complexity.json").read_text()))
    for family in ("BM_Sort", "BM_Fill"):
        big_o = next(b for b in raw if b["run_name"] == family and b.get("aggregate_name") == "BigO")
        rms = next(b for b in raw if b["run_name"] == family and b.get("aggregate_name") == "RMS")
        fit = results[(family, "big_o_coefficient")]
        assert (fit.value, fit.unit) == (big_o["real_coefficient"], big_o["time_unit"])
        assert fit.context["big_o"] == big_o["big_o"]
        assert float(fit.context["cpu_coefficient"]) == big_o["cpu_coefficient"]
        assert float(fit.context["rms"]) == rms["rms"]
    sizes = [b for b in raw if b["run_type"] == "iteration"]
    assert all(results[(b["name"], "time")].value == b["real_time"] for b in sizes)


@pytest.mark.parametrize(
    ("text_file", "json_file", "rel"),
    [  # each pair is one run: the table or CSV as output, the JSON through --benchmark_out
        ("console.txt", "console.json", 2e-3),  # the console prints 3-4 significant digits
        ("results.csv", "results-csv.json", 1e-5),  # CSV prints 6
    ],
)
def test_google_benchmark_console_and_csv_say_what_the_json_of_the_same_run_says(
    text_file: str, json_file: str, rel: float
) -> None:
    raw = [b for b in load(f"google-benchmark/{json_file}")["benchmarks"]]
    results = by_key(google_benchmark.parse((DATA / f"google-benchmark/{text_file}").read_text()))
    measures = {"real_time": "time", "cpu_time": "cpu_time", "bytes_per_second": "throughput",
                "items_per_second": "items_per_second", "rate": "rate", "widgets": "widgets"}  # fmt: skip
    compared = 0
    for row in raw:
        if row.get("error_occurred"):
            failed = results[(row["run_name"], "time")]
            assert failed.value is None and failed.error == row["error_message"]
            continue
        for key, measure in measures.items():
            if key in row:
                result = results[(row["run_name"], measure)]
                assert result.value == pytest.approx(row[key], rel=rel), (row["name"], key)
                assert result.context["threads"] == str(row["threads"])
                compared += 1
        assert results[(row["run_name"], "time")].iterations == row["iterations"]
    assert compared >= 8 and len(results) == compared + 1  # every result checked, the error too


@pytest.mark.parametrize(("text_file", "json_file"), [("complexity-console.txt", "complexity-console.json"),
                                                      ("complexity.csv", "complexity-csv.json")])  # fmt: skip
def test_google_benchmark_complexity_fit_in_console_and_csv(text_file: str, json_file: str) -> None:
    raw = load(f"google-benchmark/{json_file}")["benchmarks"]
    results = by_key(google_benchmark.parse((DATA / f"google-benchmark/{text_file}").read_text()))
    big_o = next(b for b in raw if b["run_name"] == "BM_Sort" and b.get("aggregate_name") == "BigO")
    rms = next(b for b in raw if b["run_name"] == "BM_Sort" and b.get("aggregate_name") == "RMS")
    fit = results[("BM_Sort", "big_o_coefficient")]
    assert fit.context["big_o"] == big_o["big_o"]
    # the console prints the coefficient with 2 decimals (0.00 here) and the RMS in whole percent
    assert fit.value == pytest.approx(big_o["real_coefficient"], abs=0.005)
    assert float(fit.context["rms"]) == pytest.approx(rms["rms"], abs=0.005)


CATCH2_ROWS = {  # what catch2/console.txt prints: mean, low, high; std dev, low, high (and their units)
    "fib 15": ("642.248 ns", "616.042 ns", "745.063 ns", "108.365 ns", "0.517555 ns", "214.869 ns", 20, 42),
    "fib 20": ("7.66889 us", "7.62809 us", "7.81969 us", "162.824 ns", "21.133 ns", "323.89 ns", 20, 4),
    "sum 10000": ("2.92936 us", "2.91634 us", "2.93947 us", "26.1598 ns", "18.2852 ns", "40.5448 ns", 20, 11),
    "string concat": (
        "415.205 ns",
        "410.452 ns",
        "434.08 ns",
        "20.3141 ns",
        "0.539376 ns",
        "40.38 ns",
        20,
        63,
    ),
}


def _ns(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"ns": 1, "us": 1e3}[unit]


def test_catch2_console_table_with_its_bounds_and_wrapped_names() -> None:
    results = catch2.parse((DATA / "catch2/console.txt").read_text())
    assert [r.benchmark for r in results] == list(CATCH2_ROWS)
    for r in results:
        mean, low, high, dev, dev_low, dev_high, samples, per_sample = CATCH2_ROWS[r.benchmark]
        assert (r.value, r.mean, r.stddev, r.unit) == (pytest.approx(_ns(mean)), pytest.approx(_ns(mean)),
                                                        pytest.approx(_ns(dev)), "ns")  # fmt: skip
        assert (r.sample_count, r.iterations) == (samples, samples * per_sample)
        bounds = [float(r.context[k]) for k in ("mean_low", "mean_high", "stddev_low", "stddev_high")]
        assert bounds == pytest.approx([_ns(low), _ns(high), _ns(dev_low), _ns(dev_high)])
        assert r.context["test_case"] == ("Fibonacci" if r.benchmark.startswith("fib") else "Vectors")
    assert results[1].value == 7668.89  # 7.66889 us in ns exactly, not 7668.889999999999
    wrapped = catch2.parse((DATA / "catch2/console-long.txt").read_text())
    assert (
        wrapped[-1].benchmark == "string concat of one hundred characters, one at a time, into a std::string"
    )
    assert len(wrapped) == 4 and wrapped[-1].sample_count == 5
    with pytest.raises(ParseError, match="line 6: expected 'mean low high'"):
        catch2.parse(
            "benchmark name   samples   iterations   estimated\n  a\n  b\n---\nx    5  3  1.0 us\nbad\nbad\n"
        )


def test_benchmark_ips_comparison_with_a_mangled_number_is_not_read() -> None:
    # found by the fuzz test: '24176237.12369459.7 i/s' raised a bare ValueError (a traceback)
    text = (DATA / "benchmark-ips/ips.txt").read_text()
    mangled = re.sub(r"(?m)^(\s*\S[^:\n]*:\s+)([\d.]+)( i/s)", r"\g<1>1.2.3\g<3>", text, count=1)
    assert mangled != text
    assert [r.benchmark for r in benchmark_ips.parse(mangled)] == [
        r.benchmark for r in benchmark_ips.parse(text)
    ]


def test_benchmark_ips_json_and_the_text_of_the_same_run() -> None:
    raw = load("benchmark-ips/ips.json")
    from_json = by_key(benchmark_ips.parse((DATA / "benchmark-ips/ips.json").read_text()))
    from_text = by_key(benchmark_ips.parse((DATA / "benchmark-ips/ips.txt").read_text()))
    assert len(from_json) == len(from_text) == len(raw) == 3
    for row in raw:
        exact, printed = from_json[(row["name"], "ips")], from_text[(row["name"], "ips")]
        assert (exact.value, exact.stddev, exact.iterations, exact.unit) == (
            row["central_tendency"], row["stddev"], row["iterations"], "i/s",
        )  # fmt: skip
        assert exact.context["cycles"] == str(row["cycles"])
        # the text: the Comparison's one decimal, the ± to 0.1%, iterations to 5 digits
        assert printed.value == pytest.approx(row["central_tendency"], abs=0.051)
        assert printed.stddev == pytest.approx(row["stddev"], rel=0.01)
        assert printed.iterations == pytest.approx(row["iterations"], rel=1e-4)
    with pytest.raises(ParseError, match="no 'Calculating ----' section"):
        benchmark_ips.parse("Warming up ----\n")


def test_benchmarkjs_lines_against_the_stats_of_the_same_run() -> None:
    """benchmarkjs-stats.json: hz, rme and the sample count the same script wrote on 'complete'."""
    stats = load_list("benchmarkjs/benchmarkjs-stats.json")
    results = benchmarkjs.parse((DATA / "benchmarkjs/benchmarkjs.txt").read_text())
    assert [r.benchmark for r in results] == [s["name"] for s in stats]
    for r, s in zip(results, stats, strict=True):
        assert (r.measure, r.unit, r.sample_count) == ("ops", "ops/s", s["samples"])
        assert r.value == pytest.approx(s["hz"], abs=0.5)  # printed as a whole number
        assert float(r.context["rme_percent"]) == pytest.approx(s["rme"], abs=0.005)
    with pytest.raises(ParseError, match="no Benchmark.js result"):
        benchmarkjs.parse("Fastest is a\n")


def test_mitata_json_every_run_with_its_group() -> None:
    raw = load("mitata/mitata.json")
    results = by_key(mitata.parse((DATA / "mitata/mitata.json").read_text()))
    assert len(results) == sum(len(b["runs"]) for b in raw["benchmarks"]) == 3
    for bench in raw["benchmarks"]:
        (run,) = bench["runs"]
        r, stats = results[(run["name"], "time")], run["stats"]
        assert (r.value, r.mean, r.min, r.max, r.unit) == (
            stats["p50"],
            stats["avg"],
            stats["min"],
            stats["max"],
            "ns",
        )
        assert r.context["p99"] == str(stats["p99"]) and r.context["ticks"] == str(stats["ticks"])
        assert r.context.get("group") == raw["layout"][bench["group"]]["name"]
    threw = {"layout": [], "benchmarks": [{"alias": "x", "runs": [{"name": "x", "args": {"n": 8},
                                                                   "error": {"message": "boom"}}]}]}  # fmt: skip
    (failed,) = mitata.parse(json.dumps(threw))
    assert (failed.error, failed.labels, failed.value) == ("boom", {"n": "8"}, None)


def test_google_benchmark_cut_off_by_a_crash_keeps_its_complete_rows() -> None:
    """crashed.json: the same binary with BENCH_CRASH=1, which aborts in BM_Crash (exit 134)."""
    text = (DATA / "google-benchmark/crashed.json").read_text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    results = google_benchmark.parse(text)
    complete = by_key(google_benchmark.parse((DATA / "google-benchmark/complexity.json").read_text()))
    kept = [r for r in results if r.error is None]
    assert {(r.benchmark, r.measure) for r in kept} == {k for k in complete if k[0] != "BM_Crash"}
    (failed,) = [r for r in results if r.error is not None]
    assert "ends after 12 complete rows (last: BM_Fill_RMS)" in (failed.error or "")
    with pytest.raises(ParseError, match="invalid JSON"):
        google_benchmark.parse('{"benchmarks": [{"name": "BM_A", "run_na')  # nothing complete


@pytest.mark.parametrize("name", ["basic", "scan", "failing"])
def test_hyperfine_commands_times_and_parameters(name: str) -> None:
    raw = load(f"hyperfine/{name}.json")["results"]
    results = hyperfine.parse((DATA / f"hyperfine/{name}.json").read_text())
    assert len(results) == len(raw)
    for row, r in zip(raw, results, strict=True):
        assert (r.benchmark, r.unit, r.value, r.mean) == (row["command"], "s", row["median"], row["mean"])
        assert (r.samples, r.stddev, r.min, r.max) == (row["times"], row["stddev"], row["min"], row["max"])
        assert float(r.context["user_seconds"]) == row["user"]
        for param, value in (row.get("parameters") or {}).items():
            assert r.context[f"param.{param}"] == value
        failed = sum(1 for code in row["exit_codes"] if code)
        assert r.context.get("failed_runs") == (str(failed) if failed else None)


def test_criterion_estimates_with_names_samples_and_throughput() -> None:
    root = DATA / "criterion/criterion"
    docs = collect_documents("criterion", "**/new/estimates.json", root, "")
    assert len(docs) == 9, "estimates.json, benchmark.json and sample.json of three benchmarks"
    results = by_key(criterion.parse_documents(docs))
    for estimates_path in root.glob("**/new/estimates.json"):
        est = json.loads(estimates_path.read_text())
        info = json.loads(estimates_path.with_name("benchmark.json").read_text())
        sample = json.loads(estimates_path.with_name("sample.json").read_text())
        r = results[(info["full_id"], "time")]
        assert (r.unit, r.value, r.mean) == (
            "ns",
            est["median"]["point_estimate"],
            est["mean"]["point_estimate"],
        )
        assert r.stddev == est["std_dev"]["point_estimate"]
        assert r.samples == [t / i for t, i in zip(sample["times"], sample["iters"], strict=True)]
        assert float(r.context["slope_ns"]) == est["slope"]["point_estimate"]
        if info["throughput"]:
            per_second = results[(info["full_id"], "throughput")]
            elements = info["throughput"]["Elements"]
            assert per_second.unit == "elem/s"
            assert per_second.value == pytest.approx(elements / (est["median"]["point_estimate"] * 1e-9))


def test_criterion_bencher_text_and_name_from_path_without_benchmark_json() -> None:
    results = criterion.parse((DATA / "criterion/bencher.txt").read_text())
    assert [(r.benchmark, r.value, r.unit) for r in results] == [
        ("sum 1000", 273.0, "ns/iter"), ("sizes/sum/100", 27.0, "ns/iter"), ("sizes/sum/10000", 2744.0, "ns/iter"),
    ]  # fmt: skip
    assert criterion.parse("test big ... bench:   1,234,567 ns/iter (+/- 1,000)\n")[0].value == 1234567.0
    failed = criterion.parse("test broken ... FAILED\n")[0]
    assert failed.error and failed.value is None
    path = DATA / "criterion/criterion/sizes/sum/100/new/estimates.json"
    only = criterion.parse_documents([Document(str(path), path.read_text())])
    assert only[0].benchmark == "sizes/sum/100"


def test_rust_libtest_bench_lines_of_cargo_bench() -> None:
    results = rust_libtest.parse((DATA / "rust-libtest/bench.txt").read_text())
    assert [(r.benchmark, r.measure, r.value, r.unit, r.context) for r in results] == [
        ("benches::bench_bytes", "time", 580.49, "ns/iter", {"range": "513.61"}),
        ("benches::bench_bytes", "throughput", 7062.0, "MB/s", {}),
        ("benches::bench_fib_15", "time", 1671.32, "ns/iter", {"range": "474.53"}),
        ("benches::bench_sum_1000", "time", 1.24, "ns/iter", {"range": "0.31"}),
    ]  # fmt: skip (the ignored benchmark is no result)
    failing = rust_libtest.parse((DATA / "rust-libtest/failing.txt").read_text())
    (panicked,) = [r for r in failing if r.error]
    assert panicked.benchmark == "benches::bench_panics" and panicked.value is None
    assert len(failing) == 5  # the others are kept
    with pytest.raises(ParseError, match="no libtest benchmark found"):
        rust_libtest.parse("running 0 tests\n\ntest result: ok.\n")
    # criterion's bencher output is the same format; named as criterion, (+/- N) keeps its name
    assert criterion.parse("test a ... bench: 5 ns/iter (+/- 1)\n")[0].context == {"deviation": "1.0"}


@pytest.mark.parametrize("name", ["suite", "timeit"])
def test_pyperf_values_of_every_run(name: str) -> None:
    raw = load(f"pyperf/{name}.json")
    results = pyperf.parse((DATA / f"pyperf/{name}.json").read_text())
    assert len(results) == len(raw["benchmarks"])
    for bench, r in zip(raw["benchmarks"], results, strict=True):
        values = [v for run in bench["runs"] for v in run.get("values", [])]
        assert r.samples == values and r.value == statistics.median(values) and r.unit == "s"
        assert r.benchmark == (bench.get("metadata", {}).get("name") or raw["metadata"]["name"])
        assert r.context["python_version"] == raw["metadata"]["python_version"]


def test_go_json_stream_joins_split_result_lines() -> None:
    events = [json.loads(line) for line in (DATA / "go/features.json").read_text().splitlines()]
    split = next(
        i for i, e in enumerate(events) if e.get("Output", "").endswith("\t") and "-2" in e["Output"]
    )
    name = events[split]["Output"].split()[0]
    value = float(events[split + 1]["Output"].split()[1])
    results = go_json.parse((DATA / "go/features.json").read_text())
    bench, procs = name.rsplit("-", 1)
    assert any(r.benchmark == bench and r.labels == {"procs": procs} and r.value == value for r in results)
    assert len(results) == len(go.parse((DATA / "go/features.txt").read_text()))
    assert results[0].context["pkg"] == events[0]["Package"]


@pytest.mark.parametrize("name", ["failing.txt", "failing.json", "panic.txt"])
def test_go_failed_benchmark_is_a_failed_result_and_earlier_results_stay(name: str) -> None:
    parse = go_json.parse if name.endswith(".json") else go.parse
    results = by_key(parse((DATA / "go" / name).read_text()))
    assert results[("BenchmarkOK", "time")].value is not None
    failed = results[("BenchmarkFails", "time")]
    assert failed.value is None and failed.error == "bench_test.go:16: backend not reachable"


def test_benchhub_json_format() -> None:
    text = json.dumps({"benchhub": 1, "results": [
        {"benchmark": "load", "measure": "time", "unit": "s", "samples": [1.0, 3.0, 2.0], "labels": {"size": "big"}},
        {"benchmark": "save", "measure": "time", "unit": "s", "value": 0.5, "context": {"note": "x"}},
        {"benchmark": "sync", "measure": "time", "unit": "s", "error": "disk full"},
    ]})  # fmt: skip
    load_, save, sync = benchhub_json.parse(text)
    assert (load_.value, load_.mean, load_.sample_count, load_.labels) == (2.0, 2.0, 3, {"size": "big"})
    assert (save.value, save.context) == (0.5, {"note": "x"})
    assert (sync.value, sync.error) == (None, "disk full")


@pytest.mark.parametrize(
    ("framework", "text", "message"),
    [
        ("pytest-benchmark", '{"benchmarks": [{"fullname": "t", "stats": {"median": "fast"', "line 1: invalid JSON"),
        ("pytest-benchmark", '{\n"benchmarks": [\n{"fullname": "t",\n', "line 4: invalid JSON"),
        ("pytest-benchmark", '{"benchmarks": [{"fullname": "t", "stats": {"median": "fast"}}]}',
         "benchmarks[0].stats.rounds: expected a finite number"),
        ("google-benchmark", '{"benchmarks": [{"name": "b", "real_time": null}]}', "benchmarks[0].real_time: expected a finite number"),
        ("hyperfine", '{"results": [{"command": "x", "times": []}]}', "results[0].times: expected at least one"),
        ("hyperfine", '{"results": [{"command": "x", "times": [1.0, 2, true]}]}', "results[0].times[2]: expected a finite number, got True"),
        ("hyperfine", '{"results": [{"command": "x", "times": [1.0, 1e999]}]}', "results[0].times[1]: expected a finite number, got inf"),
        ("hyperfine", '{"results": [{"command": "x", "times": [1, 1%s]}]}' % ("0" * 400), "results[0].times[1]: expected a finite number"),
        ("hyperfine", '{"results": {}}', "results: expected a list"),
        ("pyperf", '{"benchmarks": [{"metadata": {"name": "x"}, "runs": [{"warmups": [[1, 2.0]]}]}]}', "no run has values"),
        ("json", '{"benchhub": 2, "results": []}', "benchhub: expected 1"),
        ("json", '{"benchhub": 1, "results": [{"benchmark": "b", "measure": "m", "unit": "s"}]}', "either a value or an error"),
        ("go", "BenchmarkX-2   100   nan ns/op\n", "line 1: benchmark 'BenchmarkX-2': 'nan' is not a number"),
        ("go-json", '{"Action":"output","Output":"x"}\n{"Action":\n', "line 2: expected one go test -json event"),
        ("criterion", "nothing here\n", "no criterion result found"),
    ],
)  # fmt: skip
def test_bad_input_is_one_parse_error_saying_where_and_what(framework: str, text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        parse_documents(framework, [Document("out.json", text)])


def test_parse_error_names_the_file() -> None:
    with pytest.raises(ParseError, match=r"^results.json: results: expected a list"):
        parse_documents("hyperfine", [Document("results.json", '{"results": 3}')])


@pytest.mark.parametrize(
    ("path", "framework"),
    [
        ("go/features.txt", "go"), ("go/failing.json", "go-json"), ("pytest-benchmark/sorting.json", "pytest-benchmark"),
        ("google-benchmark/single.json", "google-benchmark"), ("hyperfine/scan.json", "hyperfine"),
        ("criterion/bencher.txt", "rust-libtest"), ("criterion/criterion/sum 1000/new/estimates.json", "criterion"),
        ("rust-libtest/bench.txt", "rust-libtest"), ("rust-libtest/failing.txt", "rust-libtest"),
        ("pyperf/suite.json", "pyperf"), ("catch2/benchmarks.xml", "catch2"),
        ("google-benchmark/complexity.json", "google-benchmark"), ("google-benchmark/crashed.json", "google-benchmark"),
        ("google-benchmark/console.txt", "google-benchmark"), ("google-benchmark/results.csv", "google-benchmark"),
        ("google-benchmark/complexity-console.txt", "google-benchmark"),
        ("google-benchmark/complexity.csv", "google-benchmark"),
        ("catch2/console.txt", "catch2"), ("catch2/console-long.txt", "catch2"),
        ("benchmark-ips/ips.txt", "benchmark-ips"), ("benchmark-ips/ips.json", "benchmark-ips"),
        ("benchmarkjs/benchmarkjs.txt", "benchmarkjs"), ("mitata/mitata.json", "mitata"),
    ],
)  # fmt: skip
def test_auto_detection_of_every_real_output(path: str, framework: str) -> None:
    text = (DATA / path).read_text()
    assert detect(text) == framework
    assert parse_documents("auto", [Document(path, text)]) == parse_documents(
        framework, [Document(path, text)]
    )


def test_detection_refuses_to_guess() -> None:
    with pytest.raises(ParseError, match="cannot tell which tool wrote this output"):
        detect("all good\n")
    both = '{"benchhub": 1, "results": [], "machine_info": {}, "benchmarks": []}'
    with pytest.raises(ParseError, match=r"fits several formats \(pytest-benchmark, json\)"):
        detect(both)


def test_output_glob_reads_fresh_files_and_refuses_stale_ones(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    for name in ("a.json", "b.json"):
        (tmp_path / "out" / name).write_text("{}")
    old = time.time() - 3600
    os.utime(tmp_path / "out" / "a.json", (old, old))
    docs = collect_documents("hyperfine", "out/*.json", tmp_path, "stdout", started_at=time.time() - 1)
    assert [Path(d.name).name for d in docs] == ["b.json"]
    with pytest.raises(ParseError, match="matched only files older than this run"):
        collect_documents("hyperfine", "out/a.json", tmp_path, "", started_at=time.time())
    with pytest.raises(ParseError, match="matched no file"):
        collect_documents("hyperfine", "nope/*.json", tmp_path, "")
    assert collect_documents("go", None, tmp_path, "stdout") == [Document("<output>", "stdout")]


def test_criterion_companions_are_read_beside_estimates() -> None:
    path = DATA / "criterion/criterion/sizes/sum/100/new/estimates.json"
    assert sorted(Path(d.name).name for d in read_files("criterion", [path])) == [
        "benchmark.json", "estimates.json", "sample.json",
    ]  # fmt: skip


def test_every_framework_is_a_bhub_yaml_choice() -> None:
    from typing import get_args

    from cli.config import Framework

    assert set(get_args(Framework)) == {*FRAMEWORKS, "command", "auto"}


def test_go_keeps_at_most_max_samples_and_says_so() -> None:
    from central.schemas import MAX_SAMPLES
    from cli.parsers import go

    text = "".join(f"BenchmarkX-2 1000 {i % 7 + 1}.5 ns/op\n" for i in range(MAX_SAMPLES + 5))
    (result,) = go.parse(text)
    assert result.samples is None and result.sample_count == MAX_SAMPLES + 5
    assert result.context["samples_dropped"] == f"{MAX_SAMPLES + 5} samples, over {MAX_SAMPLES}"
    (small,) = go.parse("BenchmarkX-2 1000 1.5 ns/op\nBenchmarkX-2 1000 2.5 ns/op\n")
    assert small.samples == [1.5, 2.5] and "samples_dropped" not in small.context


def test_an_output_another_process_still_writes_is_not_read(tmp_path: Path) -> None:
    # before: two concurrent runs whose output globs matched each other's files read each
    # other's half-written output
    import json
    import subprocess

    (tmp_path / "out").mkdir()
    mine, theirs = tmp_path / "out" / "a.json", tmp_path / "out" / "b.json"
    doc = {"results": [{"command": "x", "mean": 1, "stddev": 0, "median": 1, "user": 0, "system": 0,
                        "min": 1, "max": 1, "times": [1.0]}]}  # fmt: skip
    mine.write_text(json.dumps(doc))
    writer = subprocess.Popen(
        [
            "python3",
            "-c",
            f"import time; f = open({str(theirs)!r}, 'w'); f.write('{{\"res'); f.flush(); time.sleep(60)",
        ]
    )
    try:
        deadline = time.time() + 10
        while not theirs.exists() or theirs.stat().st_size == 0:
            assert time.time() < deadline
            time.sleep(0.05)
        docs = collect_documents("hyperfine", "out/*.json", tmp_path, "", started_at=time.time() - 5)
        assert [d.name for d in docs] == [str(mine)]
        with pytest.raises(ParseError, match=rf"b.json is still being written by process {writer.pid}"):
            collect_documents("hyperfine", "out/b.json", tmp_path, "", started_at=time.time() - 5)
    finally:
        writer.kill()
        writer.wait()
    assert len(collect_documents("hyperfine", "out/*.json", tmp_path, "", started_at=time.time() - 5)) == 2


# Files in tests/data that are not a tool's output: sources, notes, companions read beside an
# output, and the side files a recording script wrote to check an output against.
NOT_OUTPUTS = {"README.md", "benchmark.json", "sample.json", "machine.json", "benchmarks.json",
               "benchmarkjs-stats.json", "go.mod", "bench_test.go"}  # fmt: skip
FOLDER_FRAMEWORK = {"go": None, "criterion": None, "cachegrind": "-"}  # several formats, or none (not parsed)


def test_auto_detection_picks_exactly_one_format_for_every_output_in_tests_data() -> None:
    checked = 0
    for path in sorted(DATA.rglob("*")):
        if not path.is_file() or "src" in path.relative_to(DATA).parts or path.name in NOT_OUTPUTS:
            continue
        folder = path.relative_to(DATA).parts[0]
        expected = FOLDER_FRAMEWORK.get(folder, folder)
        if expected == "-":
            continue  # cachegrind's counts are read by measure: instructions, not by a parser
        found = detect(path.read_text())
        if expected is None:  # go/ holds go and go-json; criterion/ holds criterion and libtest text
            assert found in {"go": ("go", "go-json"), "criterion": ("criterion", "rust-libtest")}[folder], (
                path
            )
        else:
            assert found == expected, path
        checked += 1
    assert checked >= 35
