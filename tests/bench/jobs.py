"""make bench-jobs: tiny jobs through 4 agent processes on this machine (issue 20).

A real stack (central on SQLite, VictoriaMetrics, vmagent, its own agent) and 4 more bhub-agent
processes, one job slot each, taking jobs that require pool=bench; each job is a checkout of
a commit of a local git repository and a command printing one Go benchmark line, run as
`bhubctl run` would run it (results in central and VictoriaMetrics).
1. latency with a free agent: LATENCY_JOBS jobs submitted one at a time, each after the one
   before finished: submit-to-start (the run's created_at to its started_at, both central's
   clock) p50/p99. Goal: p99 < 1.5 s.
2. throughput: JOBS jobs submitted at once (the org's queue cap raised for it): jobs/s from the
   first submit to the last end, and how long jobs waited in the queue.
Then every job is checked: finished, one result, claimed once and started once (zero double
claims), none lost. BENCH_JOBS sets JOBS (default 1,000).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from central.job_schemas import JobSubmit
from central.schemas import RunCreate, RunState
from cli.config import load_config
from cli.settings import token_file
from cli.stack import Stack
from tests.e2e.conftest import git, make_repo
from tests.job_agents import AgentProcess
from tests.servers import stack_settings

JOBS = int(os.environ.get("BENCH_JOBS", "1000"))
AGENTS, LATENCY_JOBS, PROJECT = 4, 40, "benchjobs"
BHUB_YAML = f"""version: 1
project: {PROJECT}
targets:
  tiny:
    command: echo 'BenchmarkTiny-2   1000   100 ns/op'
    framework: go
"""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _runs(http: httpx.Client) -> list[dict[str, Any]]:
    """Every run of the project (pages of 1,000)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"project": PROJECT, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = http.get("/api/v1/runs", params=params).json()
        found += page["data"]
        if not (cursor := page["next_cursor"]):
            return found


def _wait_all_ended(http: httpx.Client, count: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        runs = _runs(http)
        over = [r for r in runs if r["state"] not in (RunState.queued.value, RunState.running.value)]
        print(f"\r  {len(over)}/{count} jobs over", end="", flush=True)
        if len(over) >= count:
            print()
            return runs
        if time.monotonic() > deadline:
            raise SystemExit(f"\nonly {len(over)} of {count} jobs ended within {timeout:g} s")
        time.sleep(2)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bhub-bench-jobs-") as tmp:
        root = Path(tmp)
        origin = root / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
        repo = root / "repo"
        commit = make_repo(repo, {"bhub.yaml": BHUB_YAML}, str(origin))
        git(repo, "push", "-q", "origin", "main")
        target = load_config(repo / "bhub.yaml").target("tiny", repo / "bhub.yaml")
        definition = target.replace(cwd=".").to_json()
        body = JobSubmit(
            run=RunCreate(project=PROJECT, target="tiny", commit=commit, branch="main", host="bench",
                          parser="go", state=RunState.queued, timeout_seconds=120),
            repository_url=str(origin), definition=definition, requirements={"pool": "bench"}, exclusive=True,
        ).model_dump_json()  # fmt: skip

        settings = stack_settings(root / "home", org="benchjobs-org")
        stack = Stack(settings)
        os.environ["BENCHHUB_CENTRAL_MAX_QUEUED_JOBS"] = str(JOBS + 10)  # all at once, for phase 2
        print(f"starting a stack and {AGENTS} agents ...", flush=True)
        stack.up()
        agents: list[AgentProcess] = []
        try:
            central = f"http://127.0.0.1:{settings.central_port}"
            for i in range(AGENTS):
                agents.append(
                    AgentProcess(stack.home, central, root, f"bench-{i}", {"pool": "bench"}, jobs=1)
                )
            token = token_file(stack.home).read_text().strip()
            with httpx.Client(base_url=central, headers={"Authorization": f"Bearer {token}",
                                                         "Content-Type": "application/json"},
                              timeout=60) as http:  # fmt: skip

                def submit(_: int = 0) -> str:
                    answer = http.post("/api/v1/jobs", content=body)
                    answer.raise_for_status()
                    return str(answer.json()["id"])

                print(f"1. {LATENCY_JOBS} jobs one at a time, an agent free for each", flush=True)
                waits = []
                for _ in range(LATENCY_JOBS):
                    run_id = submit()
                    while (run := http.get(f"/api/v1/runs/{run_id}").json())["state"] in (
                        "queued",
                        "running",
                    ):
                        time.sleep(0.02)
                    waits.append((_at(run["started_at"]) - _at(run["created_at"])).total_seconds())
                print(f"2. {JOBS} jobs submitted at once", flush=True)
                started = time.monotonic()
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(submit, range(JOBS)))
                submitted = time.monotonic() - started
                runs = _wait_all_ended(http, LATENCY_JOBS + JOBS, 60 + JOBS * 2.0)
                batch = sorted(runs, key=lambda r: r["created_at"])[LATENCY_JOBS:]
                span = max(_at(r["finished_at"]) for r in batch) - min(_at(r["created_at"]) for r in batch)
                queued = [(_at(r["started_at"]) - _at(r["created_at"])).total_seconds() for r in batch]
                print("checking every job's results and history ...", flush=True)
                problems = _check(http, runs)
        finally:
            for agent in agents:
                agent.stop()
            stack.down()
    print()
    print(f"| {AGENTS} agents, 1 slot each, SQLite | value |")
    print("|---|--:|")
    print(f"| submit-to-start, agent free: p50 | {statistics.median(waits) * 1000:.0f} ms |")
    print(f"| submit-to-start, agent free: p99 | {_percentile(waits, 0.99) * 1000:.0f} ms |")
    print(f"| {JOBS} jobs at once: submitted in | {submitted:.1f} s |")
    print(f"| {JOBS} jobs at once: first submit to last end | {span.total_seconds():.1f} s |")
    print(f"| throughput | {JOBS / span.total_seconds():.2f} jobs/s |")
    print(f"| queue wait p50 / max | {statistics.median(queued):.1f} s / {max(queued):.1f} s |")
    print(f"| double claims, lost or failed jobs | {len(problems)} |")
    for problem in problems[:20]:
        print(f"  {problem}")
    print(f"goal p99 < 1.5 s: {'met' if _percentile(waits, 0.99) < 1.5 else 'NOT met'}")
    if problems:
        raise SystemExit(1)


def _check(http: httpx.Client, runs: list[dict[str, Any]]) -> list[str]:
    def one(run: dict[str, Any]) -> str | None:
        if run["state"] != "finished":
            return f"run {run['id']}: {run['state']} ({run['message']})"
        results = http.get(f"/api/v1/runs/{run['id']}/results").json()["data"]
        events = http.get(f"/api/v1/runs/{run['id']}/events").json()["data"]
        claims = sum(1 for e in events if e["to_state"] == "claimed")
        starts = sum(1 for e in events if e["to_state"] == "running")
        if (len(results), claims, starts) != (1, 1, 1):
            return f"run {run['id']}: {len(results)} results, claimed {claims}x, started {starts}x"
        return None

    with ThreadPoolExecutor(4) as pool:
        return [p for p in pool.map(one, runs) if p is not None]


if __name__ == "__main__":
    main()
