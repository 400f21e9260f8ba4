"""Remote jobs under faults: two real agent processes and a real central on a stack of their own
(a 4 s lease, a sweeper every 0.5 s), killed, frozen and restarted mid-job."""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import psutil
import psycopg
import pytest

from cli.stack import Stack
from tests.e2e.conftest import LiveStack, bhubctl, git, make_repo
from tests.job_agents import AgentProcess, of_job
from tests.podman import podman_service
from tests.postgres import postgres_cluster
from tests.servers import stack_settings

pytestmark = pytest.mark.e2e

LEASE = 4.0
BHUB_YAML = """version: 1
project: faults
targets:
  slow:
    command: sleep 40.25; cat out.txt
    framework: go
  medium:
    command: sleep 15.25; cat out.txt
    framework: go
  restart:
    command: echo first; sleep 2.25; echo second; cat out.txt
    framework: go
  short:
    command: sleep 1.5; cat out.txt
    framework: go
  late:
    command: sleep 30.75
    framework: command
    timeout: 1
  boxed:
    command: echo started; sleep 300
    framework: command
    image: localhost/bhub-test:latest
    cpuset: "0"
  stubborn:
    command: >-
      trap 'echo ignoring TERM' TERM;
      setsid sh -c 'trap "" TERM; sleep 64.75' > /dev/null 2>&1 < /dev/null &
      sh -c 'trap "" TERM; sleep 63.75' &
      while :; do sleep 0.2; done
    framework: command
"""
GO_OUTPUT = "BenchmarkFault-2   1000   2500 ns/op\nPASS\n"


def _kill_job_processes(run_id: str) -> None:
    """What a killed agent left of its job (a real lost machine takes them with it)."""
    for proc in of_job(psutil.process_iter(), run_id):
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


def _up(live: LiveStack) -> None:
    """Start what of the stack is not running, central with a short lease and sweep interval."""
    with _central_env({"BENCHHUB_CENTRAL_JOB_LEASE_SECONDS": str(LEASE),
                       "BENCHHUB_CENTRAL_ABANDON_SWEEP_SECONDS": "0.5"}):  # fmt: skip
        live.stack.up()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def faults(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveStack, Path, Path]]:
    """The stack, the repository, a folder for agents; central on SQLite, then on PostgreSQL."""
    with contextlib.ExitStack() as cleanup:
        if request.param == "postgresql":
            server = cleanup.enter_context(postgres_cluster())
            with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
                conn.execute("CREATE DATABASE bhub_faults")
            cleanup.enter_context(_central_env({"BENCHHUB_CENTRAL_DATABASE_URL": f"{server}/bhub_faults"}))
        yield from _faults(tmp_path_factory)


@contextlib.contextmanager
def _central_env(values: dict[str, str]) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as env:
        for key, value in values.items():
            env.setenv(key, value)
        yield


def _faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveStack, Path, Path]]:
    root = tmp_path_factory.mktemp("faults")
    origin = root / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    path = root / "work"
    path.mkdir()
    make_repo(path, {"bhub.yaml": BHUB_YAML, "out.txt": GO_OUTPUT}, str(origin))
    git(path, "push", "-q", "origin", "main")
    live = LiveStack(Stack(stack_settings(root / "stack", org="faults-org")))
    _up(live)
    try:
        yield live, path, root
    finally:
        live.stack.down()


@pytest.fixture
def agents(faults: tuple[LiveStack, Path, Path]) -> Iterator[Callable[..., AgentProcess]]:
    live, _, root = faults
    started: list[AgentProcess] = []

    def start(name: str, **env: str) -> AgentProcess:
        started.append(AgentProcess(live.stack.home, live.central, root, name, {"pool": "faults"}, env=env))
        return started[-1]

    yield start
    for agent in started:
        agent.stop()


def _run(live: LiveStack, path: Path, run_id: str) -> dict[str, Any]:
    proc = bhubctl(live, path, "runs", "show", run_id, "--json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def _submit(live: LiveStack, path: Path, target: str, *flags: str) -> str:
    proc = bhubctl(live, path, "submit", target, "--requires", "pool=faults", *flags)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[0]


def _until(live: LiveStack, path: Path, run_id: str, done: Callable[[dict[str, Any]], bool],
           seconds: float = 60) -> dict[str, Any]:  # fmt: skip
    deadline = time.monotonic() + seconds
    while not done(shown := _run(live, path, run_id)):
        assert time.monotonic() < deadline, shown["run"]
        time.sleep(0.3)
    return shown


def test_an_agent_killed_mid_job_fails_it_as_node_lost(
    faults: tuple[LiveStack, Path, Path], agents: Callable[[str], AgentProcess]
) -> None:
    live, path, _ = faults
    a = agents("agent-a")
    run_id = _submit(live, path, "slow")
    _until(live, path, run_id, lambda s: s["run"]["state"] == "running" and s["run"]["host"] == "agent-a")
    a.proc.kill()
    try:
        shown = _until(live, path, run_id, lambda s: s["run"]["state"] != "running", LEASE * 4)
    finally:
        _kill_job_processes(run_id)
    assert (shown["run"]["state"], shown["run"]["reason"]) == ("failed", "node_lost")
    last = shown["events"][-1]
    assert (last["from_state"], last["to_state"], last["actor"]) == ("running", "failed", "central")
    assert shown["results"] == []


def test_an_agent_frozen_past_its_lease_loses_the_job_to_the_other_and_kills_its_copy(
    faults: tuple[LiveStack, Path, Path], agents: Callable[[str], AgentProcess]
) -> None:
    live, path, _ = faults
    a = agents("agent-a")
    run_id = _submit(live, path, "medium", "--retries", "1")
    _until(live, path, run_id, lambda s: s["run"]["state"] == "running" and s["run"]["host"] == "agent-a")
    assert a.job_processes(run_id), "agent-a runs the job"
    b = agents("agent-b")
    a.proc.send_signal(signal.SIGSTOP)  # its job's processes go on; its heartbeats stop
    try:
        _until(live, path, run_id, lambda s: s["run"]["state"] == "running" and s["run"]["host"] == "agent-b",
               LEASE * 6)  # fmt: skip
    finally:
        a.proc.send_signal(signal.SIGCONT)
    assert b.job_processes(run_id), "agent-b runs the second attempt"
    # agent-a comes back: central refuses its attempt, and it stops its copy within seconds
    deadline = time.monotonic() + 15
    while a.job_processes(run_id):
        assert time.monotonic() < deadline, "agent-a's copy still runs"
        time.sleep(0.3)
    shown = _until(live, path, run_id, lambda s: s["run"]["state"] != "running", 60)
    assert shown["run"]["state"] == "finished" and shown["run"]["host"] == "agent-b", json.dumps(shown)
    assert [(r["benchmark"], r["value"]) for r in shown["results"]] == [("BenchmarkFault", 2500.0)]
    moves = [(e["from_state"], e["to_state"]) for e in shown["events"] if e["subject"] == "run"]
    assert moves == [(None, "queued"), ("queued", "claimed"), ("queued", "running"), ("running", "queued"),
                     ("queued", "claimed"), ("queued", "running"), ("running", "finished")]  # fmt: skip
    claims = [e["actor"] for e in shown["events"] if e["to_state"] == "claimed"]
    assert len(set(claims)) == 2, claims
    assert a.proc.poll() is None, "agent-a lives on and takes jobs again"


def test_central_killed_and_restarted_mid_job_loses_nothing(
    faults: tuple[LiveStack, Path, Path], agents: Callable[[str], AgentProcess]
) -> None:
    live, path, _ = faults
    agents("agent-a")
    run_id = _submit(live, path, "restart")
    _until(live, path, run_id, lambda s: s["run"]["state"] == "running")
    central = psutil.Process(json.loads((live.stack.run_dir / "central.pid").read_text())["pid"])
    for proc in [central, *central.children(recursive=True)]:
        proc.kill()
    central.wait(10)
    # down longer than the lease (no agent could renew it) and as the job ends: its agent keeps
    # the results and delivers them once central is back
    time.sleep(LEASE * 1.5)
    _up(live)
    shown = _until(live, path, run_id, lambda s: s["run"]["state"] != "running", 60)
    assert shown["run"]["state"] == "finished", json.dumps(shown)
    assert [r["benchmark"] for r in shown["results"]] == ["BenchmarkFault"]
    logs = bhubctl(live, path, "runs", "logs", run_id)
    assert logs.stdout == "first\nsecond\n" + GO_OUTPUT


def test_exclusive_jobs_run_one_at_a_time_on_each_agent(
    faults: tuple[LiveStack, Path, Path], agents: Callable[[str], AgentProcess]
) -> None:
    """Both agents have two job slots; an exclusive job still has its machine to itself."""
    live, path, _ = faults
    agents("agent-a"), agents("agent-b")
    run_ids = [_submit(live, path, "short") for _ in range(3)]
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for run_id in run_ids:
        run = _until(live, path, run_id, lambda s: s["run"]["state"] == "finished", 60)["run"]
        spans.setdefault(run["host"], []).append(
            (datetime.fromisoformat(run["started_at"]), datetime.fromisoformat(run["finished_at"]))
        )
    assert sorted(spans) == ["agent-a", "agent-b"], spans
    for host, runs in spans.items():
        runs.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(runs)), (host, runs)


def test_cancel_reaches_a_task_that_traps_or_ignores_sigterm_and_a_setsid_daemon(
    faults: tuple[LiveStack, Path, Path], agents: Callable[[str], AgentProcess]
) -> None:
    live, path, _ = faults
    agents("agent-a")
    run_id = _submit(live, path, "stubborn")
    _until(live, path, run_id, lambda s: s["run"]["state"] == "running")
    deadline = time.monotonic() + 10
    while not (_alive("sleep 64.75") and _alive("sleep 63.75")):
        assert time.monotonic() < deadline, "the job's processes did not start"
        time.sleep(0.2)
    asked = bhubctl(live, path, "runs", "cancel", run_id)
    assert asked.returncode == 0, asked.stderr
    shown = _until(live, path, run_id, lambda s: s["run"]["state"] != "running", 30)
    assert shown["run"]["state"] == "cancelled", json.dumps(shown)
    deadline = time.monotonic() + 10  # the sweep for escaped processes follows the run's end
    while _alive("sleep 64.75") or _alive("sleep 63.75"):
        assert time.monotonic() < deadline, "a process of the cancelled job survived"
        time.sleep(0.2)


def test_a_docker_runtime_job_runs_in_its_container_on_its_cpu_set_and_cancel_removes_it(
    faults: tuple[LiveStack, Path, Path], agents: Callable[..., AgentProcess]
) -> None:
    live, path, _ = faults
    with podman_service() as docker_host:  # Podman's Docker API, the agent's docker socket
        agents("agent-a", BENCHHUB_AGENT_DOCKER_SOCKET=docker_host)
        client = docker.DockerClient(base_url=docker_host)
        run_id = _submit(live, path, "boxed")
        shown = _until(live, path, run_id, lambda s: s["run"]["state"] != "queued")
        output = bhubctl(live, path, "runs", "logs", run_id).stdout
        assert shown["run"]["state"] == "running", (shown["run"]["message"], output)
        assert shown["run"]["machine"]["cpu_set"] == "0", "the machine state names the container's CPUs"
        deadline = time.monotonic() + 60
        while not (found := client.containers.list(filters={"label": f"benchhub.run={run_id}"})):
            assert time.monotonic() < deadline, bhubctl(live, path, "runs", "logs", run_id).stdout
            time.sleep(0.3)
        assert found[0].attrs["HostConfig"]["CpusetCpus"] == "0"
        assert bhubctl(live, path, "runs", "cancel", run_id).returncode == 0
        shown = _until(live, path, run_id, lambda s: s["run"]["state"] != "running", 30)
        assert shown["run"]["state"] == "cancelled", shown["run"]
        deadline = time.monotonic() + 20
        while client.containers.list(all=True, filters={"label": f"benchhub.run={run_id}"}):
            assert time.monotonic() < deadline, "the job's container outlived the cancel"
            time.sleep(0.3)
        client.close()


def test_a_job_past_its_timeout_is_stopped_and_failed(
    faults: tuple[LiveStack, Path, Path], agents: Callable[..., AgentProcess]
) -> None:
    live, path, _ = faults
    agents("agent-a")
    run_id = _submit(live, path, "late")
    shown = _until(live, path, run_id, lambda s: s["run"]["state"] not in ("queued", "running"), 30)
    assert (shown["run"]["state"], shown["run"]["message"]) == (
        "failed",
        "timed out after 1 s; the command was stopped",
    ), shown["run"]
    assert not _alive("sleep 30.75")


def _alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0
