"""Nothing lost, no org crossed: the outside probe's findings, against the real stack."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import LiveStack, bhubctl, bhubctl_measured, make_repo
from tests.generated import FLOOD

pytestmark = pytest.mark.e2e

GO_OUTPUT = "pkg: example.com/trust\nBenchmarkSlowly-2   \t 1000\t      1500 ns/op\nPASS\n"


def _results_json(count: int, samples: int, prefix: str) -> str:
    """BenchHub's own format: ``count`` results, each with ``samples`` samples."""
    values = [1.0 + i / 1000 for i in range(samples)]
    results = [{"benchmark": f"{prefix}{i:06d}", "measure": "time", "unit": "ns", "value": 1.0 + i,
                "samples": values or None} for i in range(count)]  # fmt: skip
    return json.dumps({"benchhub": 1, "results": results})


BHUB_YAML = """version: 1
targets:
  slowly:
    command: sleep 4; cat go-output.txt
    framework: go
  many:
    command: cat many.json
    framework: json
  big:
    command: cat big.json
    framework: json
  flood:
    command: python3 flood.py 200
    framework: go
  chatty:
    command: python3 flood.py 2
    framework: go
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("trust") / "trust-proj"
    files = {
        "bhub.yaml": BHUB_YAML,
        "go-output.txt": GO_OUTPUT,
        "many.json": _results_json(20_000, 0, "BenchmarkMany"),  # over central's 10,000 a batch
        "big.json": _results_json(9_000, 60, "BenchmarkBig"),  # ~9 MB: over central's 8 MiB a body
        "flood.py": FLOOD,
    }
    return path, make_repo(path, files, "git@github.com:e2e-org/trust-proj.git")


def run_of(live: LiveStack, target: str, commit: str) -> dict:
    found = httpx.get(f"{live.central}/api/v1/runs", params={"target": target, "commit": commit},
                      headers=live.auth).json()["data"]  # fmt: skip
    assert len(found) >= 1, found
    return dict(found[0])


def count_series(live: LiveStack, match: str) -> int:
    result = live.query(f"count(last_over_time({match}[1d]))")
    return int(float(result[0]["value"][1])) if result else 0


def wait_count(live: LiveStack, match: str, expected: int, timeout: float = 90) -> int:
    deadline, seen = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        seen = count_series(live, match)
        if seen >= expected:
            return seen
        time.sleep(0.5)
    return seen


def test_a_forged_agent_post_never_reaches_victoriametrics(live: LiveStack) -> None:
    # before: anyone could POST results for any org, at any timestamp, to the agent
    stamp = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    forged = {"run_id": "forged-run", "org": "e2e-org", "project": "p", "target": "t", "commit": "c",
              "branch": "main", "timestamp": stamp,
              "results": [{"benchmark": "BenchmarkForged", "measure": "time", "unit": "ns", "value": 1}]}  # fmt: skip
    response = httpx.post(f"{live.agent}/api/v1/results", json=forged)
    assert response.status_code in (404, 405)
    time.sleep(3)  # three scrapes
    assert live.export('{run_id="forged-run"}') == []


class _Exposition(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rogue_exporter() -> Iterator[int]:
    """A scrape target that claims another org's name in its own labels."""
    port = free_port()
    _Exposition.body = (
        b'benchhub_host_load1{org="e2e-org",node="victim-node"} 42\n'
        b'benchhub_benchmark_value{org="e2e-org",project="p",target="t",benchmark="BenchmarkRogue",'
        b'measure="time",unit="seconds",commit="c",branch="main",run_id="rogue-run",host="h",procs=""} 1\n'
    )
    server = ThreadingHTTPServer(("127.0.0.1", port), _Exposition)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_a_node_of_one_org_cannot_store_series_as_another_org(live: LiveStack, rogue_exporter: int) -> None:
    # before: a writer token registered any address, and with honor_labels the target's own
    # org label won: its series were stored as the other org's
    httpx.post(f"{live.central}/api/v1/admin/orgs", json={"name": "evil"}, headers=live.admin)
    minted = httpx.post(f"{live.central}/api/v1/admin/orgs/evil/tokens", json={"name": "a", "role": "agent"},
                        headers=live.admin).json()  # fmt: skip
    evil = {"Authorization": f"Bearer {minted['token']}"}
    node = {"hostname": "rogue", "ip": "127.0.0.1", "bind": f"127.0.0.1:{rogue_exporter}",
            "started_at": datetime.now(UTC).isoformat(), "heartbeat_seconds": 60}  # fmt: skip
    registered = httpx.put(f"{live.central}/api/v1/nodes/rogue-node", json=node, headers=evil)
    assert registered.status_code == 200, registered.text
    try:
        stored = live.wait_for_series('benchhub_host_load1{node="rogue-node"}', 1)
        labels = stored[0]["metric"]
        assert (labels["org"], labels["exported_org"], labels["node"]) == ("evil", "e2e-org", "rogue-node")
        assert live.export('benchhub_host_load1{org="e2e-org",exported_node="victim-node"}') == []
        assert live.export('{run_id="rogue-run"}') == []  # benchmark series are central's to write
    finally:  # silent from now on: lost within 3 ms, out of service discovery, no longer scraped
        node_gone = dict(node, heartbeat_seconds=0.001)
        httpx.put(f"{live.central}/api/v1/nodes/rogue-node", json=node_gone, headers=evil)


def test_central_gone_at_the_end_of_a_run_then_runs_sync_delivers_it(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    # before: the upload failed, the run stayed 'running' forever, its results only in a file
    path, commit = repo
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "slowly"], cwd=path, env=live.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not httpx.get(f"{live.central}/api/v1/runs", params={"target": "slowly", "commit": commit},
                        headers=live.auth).json()["data"]:  # fmt: skip
        assert time.monotonic() < deadline and proc.poll() is None, "the run did not start"
        time.sleep(0.1)
    assert live.stack._stop("central")  # killed mid-run (SIGTERM, then SIGKILL if it lingers)
    try:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "central is not reachable" in err and "bhubctl runs sync" in err, err
        assert "BenchmarkSlowly" in out
    finally:
        live.stack.up()
    run = run_of(live, "slowly", commit)
    assert run["state"] == "running"  # central never heard the end
    synced = bhubctl(live, path, "runs", "sync")
    assert synced.returncode == 0, synced.stderr
    assert f"run {run['id']}: delivered, finished" in synced.stdout
    run = run_of(live, "slowly", commit)
    assert run["state"] == "finished" and run["exit_code"] == 0
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()
    assert [r["benchmark"] for r in results["data"]] == ["BenchmarkSlowly"]
    live.wait_for_series(f'benchhub_benchmark_value{{run_id="{run["id"]}"}}', 1)
    again = bhubctl(live, path, "runs", "sync")
    assert again.returncode == 0 and "nothing waits for delivery" in again.stdout


def test_20000_results_and_a_9_mb_result_set_arrive_whole(live: LiveStack, repo: tuple[Path, str]) -> None:
    # before: over 10,000 results (a 422) or 8 MiB (a 413) and the run stayed 'running', results lost
    path, commit = repo
    for target, count in (("many", 20_000), ("big", 9_000)):
        proc = bhubctl(live, path, "run", target, "--quiet")
        assert proc.returncode == 0, proc.stderr[-2000:]
        run = run_of(live, target, commit)
        assert run["state"] == "finished"
        stored = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()
        assert stored["count"] == count
        assert wait_count(live, f'benchhub_benchmark_value{{run_id="{run["id"]}"}}', count) == count


def test_four_big_runs_in_a_row_all_land_and_host_series_keep_flowing(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    # before: 4 runs of 9,000 results pushed the agent's exposition over vmagent's 16 MB scrape
    # limit: half the results and every host series stopped arriving, silently
    path, commit = repo
    ids = []
    for number in range(4):
        proc = bhubctl(live, path, "run", "big", "--quiet", "--commit", f"{commit[:30]}{number}")
        assert proc.returncode == 0, proc.stderr[-2000:]
        ids.append(run_of(live, "big", f"{commit[:30]}{number}")["id"])
    ended = time.time()
    for run_id in ids:
        assert wait_count(live, f'benchhub_benchmark_value{{run_id="{run_id}"}}', 9_000) == 9_000
    deadline = time.monotonic() + 30
    while True:  # the agent is still scraped: a host sample newer than the last run's end
        newest = live.query('max(timestamp(benchhub_host_load1{job="benchhub-agent",org="e2e-org"}))')
        if newest and float(newest[0]["value"][1]) > ended:
            break
        if time.monotonic() > deadline:
            targets = httpx.get(f"http://127.0.0.1:{live.stack.settings.vmagent_port}/api/v1/targets").text
            raise AssertionError(f"host series stopped arriving: newest {newest}, vmagent: {targets[:3000]}")
        time.sleep(0.5)


def test_a_200_mb_output_is_read_in_bounded_memory(live: LiveStack, repo: tuple[Path, str]) -> None:
    # before: 200 MB of output took bhubctl to 686 MB RSS (the output held three times over)
    path, commit = repo
    proc, peak = bhubctl_measured(live, path, "run", "flood", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = run_of(live, "flood", commit)
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()
    assert results["count"] == 2_000  # 1,000 benchmarks x (time, bytes)
    log = live.stack.home / "runs" / run["id"] / "output.log"
    assert log.stat().st_size > 199_000_000
    assert peak < 200 * 2**20, (
        f"peak RSS {peak / 2**20:.0f} MiB for a {log.stat().st_size / 1e6:.0f} MB output"
    )


def test_a_full_disk_costs_the_raw_output_not_the_results(live: LiveStack, repo: tuple[Path, str]) -> None:
    # before: output.log was written before the upload: a full disk left the run 'running' forever
    # (a file size limit stands in for the full disk: writes past it fail, EFBIG)
    path, commit = repo
    proc, _ = bhubctl_measured(live, path, "run", "chatty", "--quiet", file_size_limit=100_000)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "the raw output could not be written" in proc.stderr and "File too large" in proc.stderr
    run = run_of(live, "chatty", commit)
    assert run["state"] == "finished"
    results = httpx.get(f"{live.central}/api/v1/runs/{run['id']}/results", headers=live.auth).json()
    assert results["count"] == 2_000  # every benchmark line, though the log stopped at 100 kB
