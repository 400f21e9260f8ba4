"""bhubctl runs list / show / logs against the real stack (issue 16)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LiveStack, bhubctl, make_repo

pytestmark = pytest.mark.e2e

GO_OUTPUT = """goos: linux
pkg: example.com/readcli
BenchmarkReadableAllocationHeavyName-2   1000   4012 ns/op   5894140 B/op   575 allocs/op   1060.00 MB/s
PASS
"""
BHUB_YAML = """version: 1
targets:
  readable:
    command: cat go-output.txt
    framework: go
  broken:
    command: "echo 'before the crash'; exit 3"
    framework: command
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("readcli") / "readcli"
    return path, make_repo(path, {"bhub.yaml": BHUB_YAML, "go-output.txt": GO_OUTPUT},
                           "git@github.com:e2e-org/readcli.git")  # fmt: skip


def listed(live: LiveStack, path: Path, *args: str) -> list[dict]:
    proc = bhubctl(live, path, "runs", "list", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def test_list_show_and_logs_of_a_run_and_of_a_failed_one(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    assert bhubctl(live, path, "run", "readable").returncode == 0
    assert bhubctl(live, path, "run", "broken").returncode == 3
    runs = listed(live, path, "--project", "readcli")
    assert [r["target"] for r in runs[:2]] == ["broken", "readable"]  # newest first
    failed, good = runs[0], runs[1]
    assert failed["state"] == "failed" and good["state"] == "finished" and good["commit"] == commit
    assert [r["id"] for r in listed(live, path, "--project", "readcli", "--state", "failed")] == [
        failed["id"]
    ]

    table = bhubctl(live, path, "runs", "list", "--project", "readcli", COLUMNS="80")
    assert table.returncode == 0 and good["id"][:8] in table.stdout and "finished" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())

    shown = bhubctl(live, path, "runs", "show", good["id"][:10], COLUMNS="80")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert good["id"] in text and "history" in text and "running" in text and "finished" in text
    # readable numbers and whole measure names in 80 columns
    for expected in ("4.01 µs", "5.62 MiB", "575 allocs", "1.06 GB/s", "alloc_bytes", "throughput"):
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert all(len(line) <= 80 for line in text.splitlines())
    as_json = json.loads(bhubctl(live, path, "runs", "show", good["id"], "--json").stdout)
    assert as_json["run"]["id"] == good["id"] and len(as_json["results"]) == 4
    assert [e["to_state"] for e in as_json["events"]] == ["running", "finished"]
    machine = as_json["run"]["machine"]  # the state of the machine that ran it, from start to end
    assert machine["kernel"] == os.uname().release and machine["cpus"] == os.cpu_count()
    assert machine["load_start"] >= 0 and machine["load_end"] >= 0
    assert f"kernel {os.uname().release}" in text

    failed_shown = bhubctl(live, path, "runs", "show", failed["id"][:12])
    assert "failed" in failed_shown.stdout and "exit code 3" in failed_shown.stdout
    logs = bhubctl(live, path, "runs", "logs", failed["id"][:12])
    assert logs.returncode == 0 and logs.stdout == "before the crash\n" and logs.stderr == ""
    # the runner's count and checksum of the whole output came with its end, and match
    closed = json.loads(bhubctl(live, path, "runs", "show", failed["id"], "--json").stdout)["run"]
    assert closed["output_chars"] == len(logs.stdout)
    assert closed["output_sha256"] == hashlib.sha256(logs.stdout.encode()).hexdigest()


def test_pages_past_the_first_and_prefixes(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, _ = repo
    made = []
    for number in range(40):  # enough runs that two ids share a first hex digit (16 choices)
        body = {"project": "paged", "target": "t", "commit": f"c{number}", "branch": "main", "host": "h",
                "parser": "command"}  # fmt: skip
        made.append(httpx.post(f"{live.central}/api/v1/runs", json=body, headers=live.auth).json()["id"])
    paged = listed(live, path, "--project", "paged", "--page-size", "7", "--limit", "100")
    assert [r["id"] for r in paged] == list(reversed(made))  # all 40 over 6 pages, newest first
    assert len(listed(live, path, "--project", "paged", "--limit", "15", "--page-size", "4")) == 15

    first = {}
    for run_id in made:
        first.setdefault(run_id[0], []).append(run_id)
    shared = next(ids for ids in first.values() if len(ids) > 1)
    ambiguous = bhubctl(live, path, "runs", "show", shared[0][0])
    assert ambiguous.returncode == 2
    assert f"'{shared[0][0]}' starts several run ids" in ambiguous.stderr and "type more" in ambiguous.stderr
    unknown = bhubctl(live, path, "runs", "show", "ffffffff-0000")
    assert (
        unknown.returncode == 2
        and "no run of your org has an id starting with 'ffffffff-0000'" in unknown.stderr
    )
    assert bhubctl(live, path, "runs", "show", "not-hex!").returncode == 2


def test_bhubctl_finds_the_stack_of_its_home_on_any_port(live: LiveStack, repo: tuple[Path, str]) -> None:
    # before: without BENCHHUB_CENTRAL_URL bhubctl sent the home's token to whatever listened on 8090
    import subprocess
    import sys

    path, commit = repo
    env = {k: v for k, v in live.env().items() if k not in ("BENCHHUB_CENTRAL_URL", "BENCHHUB_AGENT_URL")}
    assert live.stack.settings.central_port != 8090 and "BENCHHUB_CENTRAL_URL" not in env
    recorded = json.loads((live.stack.home / "stack.json").read_text())
    assert recorded["central_url"] == live.central and recorded["agent_url"] == live.agent

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    ran = run("run", "readable", "--quiet")
    assert ran.returncode == 0, ran.stderr
    assert f"on central {live.central}" in ran.stderr  # the run says which central it went to
    assert "CPU and memory are not recorded" not in ran.stderr  # the agent was found too
    runs = json.loads(run("runs", "list", "--json", "--target", "readable").stdout)
    assert runs[0]["commit"] == commit and runs[0]["state"] == "finished"
