"""bhubctl run against the real stack: results reach central and VictoriaMetrics."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest

from cli.humanize import size
from tests.conftest import free_port, meminfo_total_bytes
from tests.e2e.conftest import LiveStack, bhubctl, make_repo

pytestmark = pytest.mark.e2e

GO_OUTPUT = """goos: linux
goarch: amd64
pkg: example.com/e2e
BenchmarkAlpha-2   	 1000	      1500 ns/op	      64 B/op	       2 allocs/op
BenchmarkBeta/size=8-2   	  250	      4000000 ns/op
PASS
ok  	example.com/e2e	1.0s
"""
EXPECTED = {  # (benchmark, measure) -> (value in base unit, unit label)
    ("BenchmarkAlpha", "time"): (1.5e-6, "seconds"),
    ("BenchmarkAlpha", "alloc_bytes"): (64.0, "bytes"),
    ("BenchmarkAlpha", "allocs"): (2.0, "allocs"),
    ("BenchmarkBeta/size=8", "time"): (4e-3, "seconds"),
}
BHUB_YAML = """version: 1
targets:
  fake:
    command: touch ran.marker && cat go-output.txt
    framework: go
    labels: {suite: e2e}
  crash:
    command: "cat go-output.txt; echo 'panic: boom'; exit 7"
    framework: go
  garbage:
    command: "echo 'hello, no benchmarks here'"
    framework: go
  slow:
    command: sleep 30
    framework: command
    timeout: 1
  sleepy:
    command: echo $$ > sleepy.pid; echo started; exec sleep 60
    framework: command
  timed:
    command: 'true'
    framework: command
    repeat: 3
    warmup: 1
  fine:
    command: hyperfine --runs 3 -N 'sleep 0.01' --export-json hf.json
    framework: hyperfine
    output: hf.json
  marked:
    command: 'true'
    framework: command
  hungry:
    command: python3 -c 'import time; b = b"x" * (80 << 20); time.sleep(2.5)'
    framework: command
  erroring:
    command: cp errors.json out.json
    framework: auto
    output: out.json
"""
ERRORS_JSON = """{"benchhub": 1, "results": [
  {"benchmark": "ok", "measure": "time", "unit": "ms", "value": 1.5},
  {"benchmark": "broken", "measure": "time", "unit": "ms", "error": "backend down"}
]}
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("e2e") / "e2e-proj"
    files = {"bhub.yaml": BHUB_YAML, "go-output.txt": GO_OUTPUT, "errors.json": ERRORS_JSON}
    return path, make_repo(path, files, "git@github.com:e2e-org/e2e-proj.git")


def runs(live: LiveStack, **filters: str) -> list[dict]:
    response = httpx.get(f"{live.central}/api/v1/runs", params=filters, headers=live.auth)
    response.raise_for_status()
    return list(response.json()["data"])


def only_run(live: LiveStack, target: str, commit: str) -> dict:
    found = runs(live, target=target, commit=commit)
    assert len(found) == 1, found
    return found[0]


def test_results_reach_central_and_victoriametrics(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "fake")
    ended = time.monotonic()
    assert proc.returncode == 0, proc.stderr
    assert "BenchmarkAlpha" in proc.stdout and "finished" in proc.stderr
    run = only_run(live, "fake", commit)
    assert (run["state"], run["org"], run["project"], run["branch"]) == (
        "finished",
        "e2e-org",
        "e2e-proj",
        "main",
    )
    assert run["labels"] == {"suite": "e2e"} and run["exit_code"] == 0
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()["data"]
    assert {(r["benchmark"], r["measure"]) for r in results} == set(EXPECTED)

    match = f'benchhub_benchmark_value{{run_id="{run["id"]}"}}'
    series = live.wait_for_series(match, len(EXPECTED))
    print(f"visible in VictoriaMetrics {time.monotonic() - ended:.2f} s after bhubctl run ended")
    finished_ms = int(datetime.fromisoformat(run["finished_at"]).timestamp() * 1000)
    time.sleep(3)  # let vmagent scrape the same samples a few more times: dedup keeps one
    series = live.export(match)
    assert len(series) == len(EXPECTED)
    for s in series:
        labels = s["metric"]
        value, unit = EXPECTED[(labels["benchmark"], labels["measure"])]
        assert labels["unit"] == unit
        assert s["values"] == [pytest.approx(value)], s
        assert s["timestamps"] == [finished_ms], s
        assert {k: labels[k] for k in ("org", "project", "target", "commit", "branch", "host", "procs")} == {
            "org": "e2e-org", "project": "e2e-proj", "target": "fake", "commit": commit,
            "branch": "main", "host": socket.gethostname(), "procs": "2",
        }  # fmt: skip
    by_commit = live.query(f'benchhub_benchmark_value{{commit="{commit}",measure="time"}}')
    assert {r["metric"]["benchmark"] for r in by_commit} == {
        "BenchmarkAlpha",
        "BenchmarkBeta/size=8",
    }
    iterations = live.wait_for_series(f'benchhub_benchmark_iterations{{run_id="{run["id"]}"}}', 4)
    assert {s["values"][0] for s in iterations} == {1000, 250}


def test_failing_command_propagates_exit_code_and_keeps_partial_results(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "crash")
    assert proc.returncode == 7, proc.stderr
    run = only_run(live, "crash", commit)
    assert (run["state"], run["exit_code"]) == ("failed", 7)
    assert run["message"] == "the command exited with code 7"
    output = Path(run["raw_output_ref"]).read_text()
    assert "panic: boom" in output
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()
    assert results["count"] == len(EXPECTED)  # what ran before the crash is kept


def test_unparseable_output_fails_the_run(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "garbage")
    assert proc.returncode == 3, proc.stderr
    run = only_run(live, "garbage", commit)
    assert run["state"] == "failed" and "cannot parse go output" in run["message"]
    assert "hello, no benchmarks here" in Path(run["raw_output_ref"]).read_text()


def test_timeout_fails_the_run_with_124(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "slow")
    assert proc.returncode == 124, proc.stderr
    run = only_run(live, "slow", commit)
    assert run["state"] == "failed" and run["message"].startswith("timed out after 1 s")


def test_command_framework_times_repeats(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    assert bhubctl(live, path, "run", "timed").returncode == 0
    run = only_run(live, "timed", commit)
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()["data"]
    wall = next(r for r in results if r["measure"] == "time")
    assert wall["sample_count"] == 3 and len(wall["samples"]) == 3 and wall["unit"] == "s"
    assert {r["measure"] for r in results} == {"time", "cpu_time", "user_time", "system_time", "max_rss"}
    series = live.wait_for_series(f'benchhub_benchmark_value{{run_id="{run["id"]}"}}', 5)
    assert {s["metric"]["unit"] for s in series} == {"seconds", "bytes"}
    # each repetition ends between two of the agent's samples: the run's figures come from rusage
    used, timed = run["resources"], {r["measure"]: r for r in results}
    assert used["cpu_user_seconds"] >= sum(timed["user_time"]["samples"])
    assert used["cpu_system_seconds"] >= sum(timed["system_time"]["samples"])
    assert used["max_rss_bytes"] >= timed["max_rss"]["max"] > 0 and used["max_processes"] >= 1


def test_results_read_from_a_file_the_real_tool_wrote(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "fine")
    assert proc.returncode == 0, proc.stderr
    run = only_run(live, "fine", commit)
    written = json.loads((path / "hf.json").read_text())["results"][0]
    (result,) = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()["data"]
    assert (result["benchmark"], result["value"], result["samples"]) == (
        "sleep 0.01",
        written["median"],
        written["times"],
    )
    (series,) = live.wait_for_series(f'benchhub_benchmark_value{{run_id="{run["id"]}"}}', 1)
    assert series["values"][-1] == pytest.approx(written["median"])


def test_a_benchmark_reporting_an_error_fails_the_run_but_keeps_the_rest(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "erroring")
    assert proc.returncode == 1, proc.stderr
    run = only_run(live, "erroring", commit)
    assert run["state"] == "failed" and run["parser"] == "auto"
    assert run["message"] == "1 benchmark(s) reported an error: broken: backend down"
    stored = {
        r["benchmark"]: r
        for r in httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()[
            "data"
        ]
    }
    assert (stored["broken"]["value"], stored["broken"]["error"]) == (None, "backend down")
    assert stored["ok"]["value"] == 1.5
    (series,) = live.wait_for_series(f'benchhub_benchmark_value{{run_id="{run["id"]}"}}', 1)
    assert series["metric"]["benchmark"] == "ok", "a failed result must not become a sample"


def test_ctrl_c_cancels_the_run_and_stops_the_command(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "sleepy"], cwd=path, env=live.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert only_run(live, "sleepy", commit)["state"] == "cancelled", stderr
    pid = int((path / "sleepy.pid").read_text())
    alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert not alive, "the benchmark command outlived Ctrl-C"


def test_central_down_is_a_clear_error_before_anything_runs(live: LiveStack, tmp_path: Path) -> None:
    path = tmp_path / "repo"
    make_repo(path, {"bhub.yaml": BHUB_YAML, "go-output.txt": GO_OUTPUT}, None)
    closed = f"http://127.0.0.1:{free_port()}"
    proc = bhubctl(live, path, "run", "fake", BENCHHUB_CENTRAL_URL=closed)
    assert proc.returncode == 2
    assert f"central is not reachable at {closed}" in proc.stderr
    assert "bhubctl stack up" in proc.stderr and "Traceback" not in proc.stderr
    assert not (path / "ran.marker").exists(), "the benchmark ran although central was down"


def test_bad_bhub_yaml_is_one_clear_line(live: LiveStack, tmp_path: Path) -> None:
    path = tmp_path / "repo"
    make_repo(path, {"bhub.yaml": "targets:\n  t:\n    command: x\n    repeat: -1\n"}, None)
    proc = bhubctl(live, path, "run", "t")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path / 'bhub.yaml'}:4: targets.t.repeat: Expected `int` >= 1"
    ]


def test_unknown_target_lists_the_defined_ones(live: LiveStack, repo: tuple[Path, str]) -> None:
    proc = bhubctl(live, repo[0], "run", "nope")
    assert (
        proc.returncode == 2
        and "targets defined: crash, erroring, fake, fine, garbage, hungry, marked" in proc.stderr
    )


@pytest.mark.skipif(not Path("/usr/bin/go").exists(), reason="go: apt-get install golang-go")
def test_real_go_benchmark_example(live: LiveStack, tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "strings"
    files = {p.name: p.read_text() for p in example.iterdir() if p.is_file()}
    path = tmp_path / "strings"
    commit = make_repo(path, files, "https://github.com/benchhub-examples/strings.git")
    proc = bhubctl(live, path, "run", "strings", GOCACHE=str(tmp_path / "gocache"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    run = only_run(live, "strings", commit)
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()["data"]
    names = {r["benchmark"] for r in results}
    assert names == {
        "BenchmarkConcatPlus",
        "BenchmarkConcatBuilder",
        "BenchmarkConcatBuffer",
        "BenchmarkContains",
    }
    assert all(r["sample_count"] == 3 for r in results)
    series = live.wait_for_series(f'benchhub_benchmark_value{{run_id="{run["id"]}",measure="time"}}', 4)
    assert all(0 < s["values"][0] < 1 for s in series)


COUNTED_GO = """package main

import "fmt"

func main() {
	sum := 0
	for i := 0; i < 2000000; i++ {
		sum += i % 7
	}
	fmt.Println(sum)
}
"""


def test_instructions_of_a_go_program_are_counted_and_barely_move(live: LiveStack, tmp_path: Path) -> None:
    path = tmp_path / "counted"
    yaml_text = ("project: counted\ntargets:\n  loop:\n    command: ./loop\n    framework: command\n    measure: instructions\n"
                 "    repeat: 5\n")  # fmt: skip
    commit = make_repo(
        path, {"bhub.yaml": yaml_text, "main.go": COUNTED_GO, "go.mod": "module loop\n\ngo 1.19\n"}, None
    )
    env = {**os.environ, "GOCACHE": str(tmp_path / "gocache"), "GOFLAGS": "-mod=mod"}
    subprocess.run(["go", "build", "-o", "loop", "."], cwd=path, env=env, check=True, timeout=300)
    proc = bhubctl(live, path, "run", "loop")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    run = only_run(live, "loop", commit)
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()["data"]
    found = {r["measure"]: r for r in results}
    assert set(found) == {"instructions", "l1_misses", "ll_misses", "estimated_cycles"}
    counted = found["instructions"]
    assert counted["unit"] == "instructions" and counted["sample_count"] == 5
    assert counted["value"] > 2_000_000 * 3  # the loop's own instructions at least
    # deterministic to a fraction of a percent, where wall time moves by several
    assert (counted["max"] - counted["min"]) / counted["value"] < 0.005, counted["samples"]
    assert found["estimated_cycles"]["value"] >= counted["value"]


def test_host_series_arrive(live: LiveStack) -> None:
    series = live.wait_for_series('benchhub_host_cpu_seconds_total{job="benchhub-agent",mode="idle"}', 1)
    assert series[0]["metric"]["instance"] == live.agent.removeprefix("http://")
    memory = live.wait_for_series('benchhub_host_memory_total_bytes{job="benchhub-agent"}', 1)
    assert memory[0]["values"][-1] == meminfo_total_bytes()


def test_the_agent_follows_the_run_and_central_keeps_its_peaks(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "run", "hungry")
    assert proc.returncode == 0, proc.stderr
    run = only_run(live, "hungry", commit)
    resources = run["resources"]
    assert f"peak RSS {size(resources['max_rss_bytes'])}" in proc.stderr
    assert resources["max_rss_bytes"] >= 80 << 20 and resources["samples"] >= 3
    assert resources["max_processes"] >= 1 and resources["cpu_user_seconds"] > 0
    series = live.wait_for_series(f'benchhub_run_memory_rss_bytes{{run_id="{run["id"]}"}}', 1)
    assert max(series[0]["values"]) >= 80 << 20
    assert series[0]["metric"]["target"] == "hungry" and series[0]["metric"]["commit"] == commit
    scrape = httpx.get(f"{live.agent}/metrics").text.splitlines()
    leftover = [line for line in scrape if line.startswith("benchhub_run_") and run["id"] in line]
    assert not leftover, "the run's process series outlived the run"
    deadline = time.monotonic() + 30  # vmagent sends staleness markers for vanished series
    while (
        live.query(f'benchhub_run_memory_rss_bytes{{run_id="{run["id"]}"}}') and time.monotonic() < deadline
    ):
        time.sleep(0.5)
    assert not live.query(f'benchhub_run_memory_rss_bytes{{run_id="{run["id"]}"}}'), "no staleness marker"


def test_central_marks_the_run_start_and_end_in_victoriametrics(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, commit = repo
    assert bhubctl(live, path, "run", "marked").returncode == 0
    run = only_run(live, "marked", commit)
    series = live.wait_for_series(f'benchhub_run_info{{run_id="{run["id"]}"}}', 2)
    edges = {s["metric"]["edge"]: s for s in series}
    assert edges["end"]["metric"] == {
        "__name__": "benchhub_run_info", "org": "e2e-org", "project": "e2e-proj", "target": "marked",
        "commit": commit, "branch": "main", "run_id": run["id"], "state": "finished", "edge": "end",
    }  # fmt: skip
    for edge, field in (("start", "started_at"), ("end", "finished_at")):
        assert edges[edge]["timestamps"] == [int(datetime.fromisoformat(run[field]).timestamp() * 1000)]
        assert edges[edge]["values"] == [1]


def test_reexport_puts_back_exactly_what_was_lost(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    run = only_run(live, "fake", commit) if runs(live, target="fake", commit=commit) else None
    if run is None:
        assert bhubctl(live, path, "run", "fake").returncode == 0
        run = only_run(live, "fake", commit)
    match = f'{{__name__=~"benchhub_benchmark_value|benchhub_benchmark_iterations",run_id="{run["id"]}"}}'
    before = sorted(
        live.wait_for_series(match, 2 * len(EXPECTED) - 1), key=lambda s: sorted(s["metric"].items())
    )
    httpx.post(f"{live.vm}/api/v1/admin/tsdb/delete_series", data={"match[]": match}).raise_for_status()
    assert live.export(match) == []
    proc = bhubctl(live, path, "runs", "reexport", run["id"])
    assert proc.returncode == 0 and f"run {run['id']}: " in proc.stdout, proc.stderr
    after = sorted(live.wait_for_series(match, len(before)), key=lambda s: sorted(s["metric"].items()))
    assert [(s["metric"], s["values"], s["timestamps"]) for s in after] == [
        (s["metric"], s["values"], s["timestamps"]) for s in before
    ]
    again = bhubctl(live, path, "runs", "reexport", run["id"])  # idempotent: still one sample each
    assert again.returncode == 0
    assert all(len(s["values"]) == 1 for s in live.export(match))
    missing = bhubctl(live, path, "runs", "reexport", "no-such-run")
    assert (
        missing.returncode == 2
        and "central refused POST /api/v1/runs/no-such-run/reexport (404)" in missing.stderr
    )


def test_reexport_all_is_the_upgrade_to_the_trend_layout(live: LiveStack, repo: tuple[Path, str]) -> None:
    """Series written by a version without the trend layout (or its daily copies) come back, the
    same as central wrote them."""
    path, _ = repo
    for _ in range(2):  # two runs at least: the second has a change (against the first)
        assert bhubctl(live, path, "run", "fake").returncode == 0
    match = (
        '{__name__=~"benchhub_benchmark_(trend|change)(_daily)?|benchhub_branch_run_results",'
        'org="e2e-org",project="e2e-proj"}'
    )

    def samples() -> set[tuple[str, float, int]]:
        return {(json.dumps(s["metric"], sort_keys=True), v, t) for s in live.export(match)
                for v, t in zip(s["values"], s["timestamps"], strict=True)}  # fmt: skip

    deadline, last = time.monotonic() + 60, None
    while (
        time.monotonic() < deadline
    ):  # until everything central wrote has landed (vmagent flushes each second)
        before = samples()
        if before == last and any('"runs": "1"' in s[0] for s in before):
            break
        last = before
        time.sleep(1.5)
    assert any('"runs": "1"' in s[0] for s in before), "no change series written"
    assert any('"at_day": ' in s[0] and '"runs": "1"' in s[0] for s in before), "no daily copies written"
    # what an earlier version left: per-run series only
    httpx.post(f"{live.vm}/api/v1/admin/tsdb/delete_series", data={"match[]": match}).raise_for_status()
    assert samples() == set()
    proc = bhubctl(live, path, "runs", "reexport", "--all", "--project", "e2e-proj")
    assert proc.returncode == 0 and " runs, " in proc.stdout and "samples sent" in proc.stdout, proc.stderr
    deadline = time.monotonic() + 60
    while (after := samples()) != before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert after == before
    neither = bhubctl(live, path, "runs", "reexport")
    assert neither.returncode == 2 and "name one run, or --all" in neither.stderr
