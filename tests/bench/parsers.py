"""make bench-parsers: parser throughput and memory on large outputs.

1. a 1,000,000-line ``go test -bench -benchmem`` output of 10,000 benchmarks run 100 times
   over (the runs concatenated, so each benchmark's lines are far apart), with headers, logs
   and PASS lines between them;
2. a ~50 MB pytest-benchmark JSON (benchmarks with their per-round ``data``).
Each is parsed in a fresh process; memory is that process's peak RSS growth from reading the
file to the end of parsing ("peak"), and the growth over the RSS that holds the text once it
is read ("parse"), both as multiples of the input size. Seconds include reading the file. Goals (issue 6): >= 500k lines/s
for go text, peak memory under 3x the input. Prints a table; the numbers go into the issue note.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GO_LINES = 1_000_000
PYTEST_BYTES = 50_000_000


def _go_number(x: float) -> str:
    """A value as Go's testing package prints it (fewer decimals for bigger values)."""
    for limit, decimals in ((999.95, 0), (99.995, 1), (9.9995, 2), (0.99995, 3)):
        if x >= limit:
            return f"{x:.{decimals}f}"
    return f"{x:.4f}"


def write_go(path: Path) -> None:
    """Like ``go test -bench . -benchmem`` run 100 times over: every benchmark has its own
    speed (ns/op varies from line to line), allocation profile and iteration count."""
    rng = random.Random(1)
    benchmarks = []
    for b in range(10_000):
        speed = 10 ** rng.uniform(0.5, 6)  # 3 ns/op to 1 ms/op
        iterations = max(1, int(1e9 / speed)) // 10 * 10 or 1
        allocs = rng.choice((0, 0, 1, 2, 3, 5, 8, 13))
        benchmarks.append(
            (f"BenchmarkCase{b}/size={b % 7}-2", speed, iterations, allocs * rng.choice((8, 16, 64)), allocs)
        )
    with path.open("w") as fh:
        fh.write("goos: linux\ngoarch: amd64\npkg: example.com/big\ncpu: bench\n")
        lines = 4
        while lines < GO_LINES - 2:
            for b, (name, speed, iterations, size, allocs) in enumerate(benchmarks):
                if lines >= GO_LINES - 2:
                    break
                ns = _go_number(speed * rng.lognormvariate(0, 0.05))
                fh.write(
                    f"{name}   \t{iterations:>10}\t{ns:>10} ns/op\t{size:>6} B/op\t{allocs:>4} allocs/op\n"
                )
                lines += 1
                if b % 1000 == 0:
                    fh.write(f"    bench_test.go:{b}: a log line\n")
                    lines += 1
        fh.write("PASS\nok  \texample.com/big\t100.0s\n")


def write_pytest(path: Path) -> None:
    rng = random.Random(2)
    benchmarks = []
    size = 0
    i = 0
    while size < PYTEST_BYTES:
        data = [rng.random() * 1e-6 for _ in range(2_000)]
        stats = {
            "min": min(data), "max": max(data), "mean": sum(data) / len(data), "stddev": 1e-8,
            "rounds": len(data), "median": sorted(data)[len(data) // 2], "iqr": 1e-8, "q1": 1e-7,
            "q3": 2e-7, "iqr_outliers": 3, "stddev_outliers": 4, "outliers": "4;3", "ld15iqr": 1e-7,
            "hd15iqr": 3e-7, "ops": 1e6, "total": sum(data), "data": data, "iterations": 10,
        }  # fmt: skip
        bench = {
            "group": None, "name": f"test_case[{i}]", "fullname": f"tests/test_big.py::test_case[{i}]",
            "params": {"n": i}, "param": str(i), "extra_info": {}, "options": {}, "stats": stats,
        }  # fmt: skip
        size += len(json.dumps(bench))
        benchmarks.append(bench)
        i += 1
    path.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": benchmarks,
                                "datetime": "2026-11-24T00:00:00", "version": "5.3.1"}))  # fmt: skip


def _status(field: str) -> int:
    """VmHWM (peak) or VmRSS (now) of this process (ru_maxrss would include the parent's RSS at spawn)."""
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith(f"{field}:"))
    return int(line.split()[1]) * 1024


def _peak_rss() -> int:
    return _status("VmHWM")


def measure_one(framework: str, path: str) -> None:
    """Child process: parse one file, print seconds, result count, peak RSS growth."""
    from cli.parsers import Document, parse_documents

    before = _peak_rss()
    start = time.perf_counter()
    text = Path(path).read_text()
    holding_text = _status("VmRSS")
    results = parse_documents(framework, [Document(path, text)])
    elapsed = time.perf_counter() - start
    peak = _peak_rss()
    print(json.dumps({"seconds": elapsed, "results": len(results), "rss_growth": peak - before,
                      "parse_growth": max(peak - holding_text, 0)}))  # fmt: skip


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for framework, name, writer in (
            ("go", "go.txt", write_go),
            ("pytest-benchmark", "big.json", write_pytest),
        ):
            path = Path(tmp) / name
            print(f"writing {name} ...", file=sys.stderr, flush=True)
            writer(path)
            size = path.stat().st_size
            lines = sum(1 for _ in path.open())
            print(f"parsing {name} ({size / 1e6:.0f} MB, {lines} lines) ...", file=sys.stderr, flush=True)
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.parsers", "--one", framework, str(path)],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            got = json.loads(out)
            rows.append((framework, size, lines, got))
    print(
        f"{'framework':<18}{'input MB':>10}{'lines':>10}{'results':>9}{'seconds':>9}{'lines/s':>11}{'MB/s':>7}"
        f"{'peak / input':>14}{'parse / input':>15}"
    )
    for framework, size, lines, got in rows:
        print(
            f"{framework:<18}{size / 1e6:>10.1f}{lines:>10}{got['results']:>9}{got['seconds']:>9.2f}"
            f"{lines / got['seconds']:>11.0f}{size / 1e6 / got['seconds']:>7.1f}{got['rss_growth'] / size:>13.2f}x"
            f"{got['parse_growth'] / size:>14.2f}x"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        measure_one(sys.argv[2], sys.argv[3])
    else:
        main()
