"""bhubctl parse: users debug their setup with it, so its output and errors are the product."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parents[1] / "data"


def bhubctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, input=stdin, timeout=60,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_json_output_detects_the_tool_and_reads_companion_files() -> None:
    proc = bhubctl("parse", str(DATA / "criterion/criterion/sizes/sum/100/new/estimates.json"), "--json")
    assert proc.returncode == 0, proc.stderr
    time_, throughput = json.loads(proc.stdout)
    assert (time_["benchmark"], time_["unit"], time_["sample_count"]) == ("sizes/sum/100", "ns", 10)
    assert throughput["unit"] == "elem/s"


def test_table_of_a_folder_and_of_standard_input() -> None:
    proc = bhubctl("parse", str(DATA / "criterion/criterion"))
    assert proc.returncode == 0 and "sizes/sum/10000" in proc.stdout and "sum 1000" in proc.stdout
    piped = bhubctl("parse", "-", "--framework", "go", stdin=(DATA / "go/failing.txt").read_text())
    assert piped.returncode == 0 and "BenchmarkOK" in piped.stdout
    # a failed benchmark: 'error' in its row, the message on the line below, whole
    assert "\n  bench_test.go:16: backend not reachable" in piped.stdout
    failed = next(line for line in piped.stdout.splitlines() if "BenchmarkFail" in line or "error" in line)
    assert failed.rstrip().endswith("error"), piped.stdout


def test_errors_are_one_line_with_exit_3() -> None:
    truncated = (DATA / "hyperfine/scan.json").read_text()[:300]
    proc = bhubctl("parse", "-", "--framework", "hyperfine", stdin=truncated)
    assert proc.returncode == 3
    assert proc.stderr.startswith("error: <stdin>: line ") and "invalid JSON" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    unknown = bhubctl("parse", str(DATA / "go/features.txt"), "--framework", "gotest")
    assert unknown.returncode == 2 and "no parser 'gotest'; choose one of: go, go-json" in unknown.stderr
    missing = bhubctl("parse", "/nonexistent/out.json")
    assert missing.returncode == 3 and "cannot read the output file /nonexistent/out.json" in missing.stderr
