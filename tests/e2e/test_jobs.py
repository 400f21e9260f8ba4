"""Remote jobs on the real stack (issue 20): bhubctl submit queues, the stack's agent claims the
job, checks out the pushed commit and runs it as bhubctl run would; results reach central and
VictoriaMetrics; the exit code comes back through --wait."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stack import Stack, agent_token_file
from exporter.jobs import JobWorker
from exporter.node import registration
from tests.e2e.conftest import LiveStack, bhubctl, git, make_repo
from tests.servers import stack_settings

pytestmark = pytest.mark.e2e

BHUB_YAML = """version: 1
project: jobsdemo
targets:
  bench:
    command: cat out.txt
    framework: go
    cwd: sub
  broken:
    command: "echo 'before the crash'; exit 3"
    framework: command
"""
GO_OUTPUT = "BenchmarkQueued-2   1000   2500 ns/op\nPASS\n"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("jobs")
    origin = root / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    path = root / "work"
    (path / "sub").mkdir(parents=True)
    commit = make_repo(path, {"bhub.yaml": BHUB_YAML, "sub/out.txt": GO_OUTPUT}, str(origin))
    git(path, "push", "-q", "origin", "main")
    return path, commit


def show(live: LiveStack, path: Path, run_id: str, **env: str) -> dict[str, Any]:
    proc = bhubctl(live, path, "runs", "show", run_id, "--json", **env)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_a_submitted_target_runs_on_the_agent_with_its_results_everywhere(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, commit = repo
    proc = bhubctl(live, path, "submit", "bench", "--wait")
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.split()[0]
    assert f"queued e2e-org/jobsdemo bench @ {commit[:12]}" in proc.stderr and "finished on" in proc.stderr
    shown = show(live, path, run_id)
    run = shown["run"]
    assert (run["state"], run["commit"], run["target"], run["project"]) == (
        "finished",
        commit,
        "bench",
        "jobsdemo",
    )
    assert run["host"] != "-", "the claiming node's host"
    # the machine is the agent's, told when the job started (the submitter sent none)
    assert run["machine"]["kernel"] == os.uname().release and run["machine"]["load_end"] >= 0
    assert [(r["benchmark"], r["value"]) for r in shown["results"]] == [("BenchmarkQueued", 2500.0)]
    states = [(e["from_state"], e["to_state"]) for e in shown["events"]]
    assert states == [(None, "queued"), ("queued", "claimed"), ("queued", "running"), ("running", "finished")]
    assert [
        s["metric"]["benchmark"]
        for s in live.wait_for_series(f'benchhub_benchmark_value{{run_id="{run_id}"}}', 1)
    ] == ["BenchmarkQueued"]


def test_the_exit_code_comes_back_and_an_unpushed_commit_fails_clearly(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, _ = repo
    broken = bhubctl(live, path, "submit", "broken", "--wait")
    assert broken.returncode == 3, broken.stderr
    assert "the command exited with code 3" in broken.stderr
    (path / "sub" / "out.txt").write_text(GO_OUTPUT.replace("2500", "2600"))
    git(path, "commit", "-qam", "not pushed")
    unpushed = bhubctl(live, path, "submit", "bench", "--wait")
    assert unpushed.returncode == 1
    assert (
        "the job could not start: commit" in unpushed.stderr
        and "push it before submitting" in unpushed.stderr
    )


def test_a_bad_requirement_is_one_line_and_a_queued_job_can_be_cancelled(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, commit = repo
    bad = bhubctl(live, path, "submit", "bench", "--requires", "gpu")
    assert bad.returncode != 0 and "--requires 'gpu': write KEY=VALUE" in bad.stderr
    # no node has gpu=a100: the job waits in the queue until cancelled
    queued = bhubctl(live, path, "submit", "bench", "--ref", commit, "--requires", "gpu=a100")
    assert queued.returncode == 0, queued.stderr
    run_id = queued.stdout.split()[0]
    assert show(live, path, run_id)["run"]["state"] == "queued"
    # and says why, where it is listed (the stack's agent takes jobs, but has no such label)
    listed = bhubctl(live, path, "runs", "list", "--state", "queued", COLUMNS="200")
    assert f"{run_id[:8]} queued: none of the 1 node(s) taking jobs has the labels gpu=a100" in listed.stdout
    cancelled = bhubctl(live, path, "runs", "cancel", run_id[:8])
    assert cancelled.returncode == 0, cancelled.stderr
    assert show(live, path, run_id)["run"]["state"] == "cancelled"


def test_cancel_stops_a_running_job_on_its_agent(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, _ = repo
    (path / "bhub.yaml").write_text(BHUB_YAML + "  slow:\n    command: sleep 61.25\n    framework: command\n")
    git(path, "commit", "-qam", "a slow target")
    git(path, "push", "-q", "origin", "HEAD:main")
    submitted = bhubctl(live, path, "submit", "slow")
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.split()[0]
    deadline = time.monotonic() + 60
    while show(live, path, run_id)["run"]["state"] != "running":
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.3)
    assert _sleeping(), "the command runs on the agent"
    asked = bhubctl(live, path, "runs", "cancel", run_id)
    assert asked.returncode == 0 and "asked to stop" in asked.stderr
    while (run := show(live, path, run_id)["run"])["state"] == "running":
        assert time.monotonic() < deadline + 15, "not stopped within seconds"
        time.sleep(0.3)
    assert run["state"] == "cancelled" and "sleep 61.25" in run["message"]
    assert not _sleeping(), "its process is gone"


def _sleeping() -> bool:
    return subprocess.run(["pgrep", "-f", "sleep 61.25"], capture_output=True).returncode == 0


def test_a_jobs_output_streams_while_it_runs_and_follow_prints_it_once(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, _ = repo
    slow = "  chatty:\n    command: for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.5; done\n    framework: command\n"
    (path / "bhub.yaml").write_text(BHUB_YAML + slow)
    git(path, "commit", "-qam", "a chatty target")
    git(path, "push", "-q", "origin", "HEAD:main")
    run_id = bhubctl(live, path, "submit", "chatty").stdout.split()[0]
    deadline = time.monotonic() + 60
    while True:  # seen in central while the command still runs
        logs = bhubctl(live, path, "runs", "logs", run_id).stdout
        state = show(live, path, run_id)["run"]["state"]
        if "line 2" in logs and state == "running":
            assert "line 8" not in logs
            break
        assert time.monotonic() < deadline and state in ("queued", "running"), (state, logs)
        time.sleep(0.2)
    followed = bhubctl(live, path, "runs", "logs", run_id, "--follow")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines() == [f"line {i}" for i in range(1, 9)]
    assert show(live, path, run_id)["run"]["state"] == "finished"
    submitted = bhubctl(live, path, "submit", "chatty", "--follow")
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.splitlines()[1:] == [f"line {i}" for i in range(1, 9)]


def test_a_drained_node_holds_jobs_back_until_resumed(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, commit = repo
    listed = bhubctl(live, path, "nodes", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (node,) = json.loads(listed.stdout)["data"]
    assert node["state"] == "up" and node["drained"] is False
    table = bhubctl(live, path, "nodes", "list")
    assert node["id"] in table.stdout and "taking" in table.stdout
    assert bhubctl(live, path, "nodes", "drain", node["id"]).returncode == 0
    try:
        run_id = bhubctl(live, path, "submit", "bench", "--ref", commit).stdout.split()[0]
        time.sleep(3)  # the agent long-polls all along: a drained node is given nothing
        assert show(live, path, run_id)["run"]["state"] == "queued"
    finally:
        assert bhubctl(live, path, "nodes", "resume", node["id"]).returncode == 0
    done = bhubctl(live, path, "runs", "logs", run_id, "--follow")
    assert done.returncode == 0 and show(live, path, run_id)["run"]["state"] == "finished"


SERVED = """  served:
    framework: go
    command: python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/').read(); print('BenchmarkServed-2 1000 1234 ns/op')"
    stages:
      - name: web
        command: exec python3 -m http.server {port} --bind 127.0.0.1
        ready: {{tcp: {port}, timeout: 20}}
  unready:
    command: 'true'
    stages:
      - name: db
        command: "echo 'db: cannot open data dir'; exit 2"
        ready: {{log: accepting}}
"""


def test_a_target_with_a_background_stage_runs_locally_and_as_a_job(
    live: LiveStack, repo: tuple[Path, str]
) -> None:
    path, _ = repo
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (path / "bhub.yaml").write_text(BHUB_YAML + SERVED.format(port=port))
    git(path, "commit", "-qam", "a served target")
    git(path, "push", "-q", "origin", "HEAD:main")
    local = bhubctl(live, path, "run", "served")
    assert local.returncode == 0, local.stderr
    assert "BenchmarkServed" in local.stdout and "[stage web]" in local.stdout  # its log, shown
    job = bhubctl(live, path, "submit", "served", "--wait")
    assert job.returncode == 0, job.stderr
    shown = show(live, path, job.stdout.split()[0])
    assert [r["benchmark"] for r in shown["results"]] == ["BenchmarkServed"]
    history = [(e["subject"], e["to_state"], e["reason"]) for e in shown["events"]]
    assert [h[:2] for h in history[-7:]] == [
        ("run", "running"), ("stage", "starting"), ("stage", "ready"),
        ("stage", "starting"), ("stage", "exited"),  # the foreground task, between its stage's changes
        ("stage", "stopped"), ("run", "finished"),
    ]  # fmt: skip
    assert history[-5][2] == f"stage web: port 127.0.0.1:{port} accepting"
    assert history[-4][2].startswith("stage served: ") and history[-3][2] == "stage served: exit code 0"
    unready = bhubctl(live, path, "submit", "unready", "--wait")
    assert unready.returncode == 1
    assert "stage 'db' exited with code 2 before it was ready: db: cannot open data dir" in unready.stderr
    events = show(live, path, unready.stdout.split()[0])["events"]
    assert [e["to_state"] for e in events if e["subject"] == "stage"] == ["starting", "failed", "stopped"]


def test_a_dirty_tree_is_sent_as_a_bundle_of_its_changes(live: LiveStack, repo: tuple[Path, str]) -> None:
    path, _ = repo
    git(path, "push", "-q", "origin", "HEAD:main")
    head = git(path, "rev-parse", "HEAD")
    (path / "sub" / "out.txt").write_text(GO_OUTPUT.replace("2500", "2700"))  # not committed
    try:
        proc = bhubctl(live, path, "submit", "bench", "--wait")
    finally:
        git(path, "checkout", "--", "sub/out.txt")
    assert proc.returncode == 0, proc.stderr
    assert "sending the local changes" in proc.stderr
    shown = show(live, path, proc.stdout.split()[0])
    assert (shown["run"]["commit"], shown["run"]["dirty"]) == (head, True)
    assert [(r["benchmark"], r["value"]) for r in shown["results"]] == [("BenchmarkQueued", 2700.0)]
    assert git(path, "stash", "list") == "", "the user's stash list is not touched"


def test_a_second_agent_stopping_cancels_its_job_and_takes_no_other(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    """A second agent (in this process, labelled pool=second: the stack's agent never matches)
    takes the job that requires it; stopping that agent stops the job, closed cancelled.
    On a stack of its own: the shared one's nodes and scraped series stay as its tests know them."""
    path, _ = repo
    (path / "bhub.yaml").write_text(
        BHUB_YAML + "  slowest:\n    command: sleep 62.75\n    framework: command\n"
    )
    git(path, "commit", "-qam", "a slowest target")
    git(path, "push", "-q", "origin", "HEAD:main")
    own = LiveStack(Stack(stack_settings(tmp_path / "stack", org="second-org")))
    own.stack.up()
    try:
        agent_token = agent_token_file(own.stack.home).read_text().strip()
        facts = registration(None, "second", "127.0.0.1:1", None, 10.0, "local", "runner").model_dump(
            mode="json"
        )
        registered = httpx.put(f"{own.central}/api/v1/nodes/second-node", json=facts,
                               headers={"Authorization": f"Bearer {agent_token}"})  # fmt: skip
        assert registered.status_code == 200, registered.text
        worker = JobWorker(own.central, "second-node", lambda: agent_token, tmp_path / "ws", own.agent,
                           {"pool": "second"}, 1, ready=lambda: True, wait_seconds=2)  # fmt: skip
        worker.start()
        try:
            submitted = bhubctl(own, path, "submit", "slowest", "--requires", "pool=second")
            assert submitted.returncode == 0, submitted.stderr
            run_id = submitted.stdout.split()[0]
            deadline = time.monotonic() + 60
            while (run := show(own, path, run_id)["run"])["state"] != "running":
                assert time.monotonic() < deadline, run
                time.sleep(0.3)
            assert run["host"] == "second" and _alive("sleep 62.75")
        finally:
            worker.stop()
        run = show(own, path, run_id)["run"]
        assert run["state"] == "cancelled" and not _alive("sleep 62.75")
    finally:
        own.stack.down()


def _alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0
