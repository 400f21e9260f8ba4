"""make bench-agent: the agent's scrape cost beside Debian's prometheus-node-exporter.

Both run as real processes on this machine and are scraped one after the other, SCRAPES
times each: idle, then loaded with WATCHED runs whose process trees the agent follows (runs
registered in a real central, which the agent asks before it follows one), then CONTAINERS
real containers behind Podman's Docker API. Benchmark results are not the agent's to expose
any more: central writes them. Reports
median and p99 scrape latency, CPU seconds per scrape (the server process's own CPU, from
psutil), and what that is at a 10 s scrape interval as a share of one core, plus the run
sampler's CPU between scrapes. Goals (issue 4): agent median <= 2x node_exporter's, CPU at
a 10 s interval < 0.5% of one core. Prints a table; the numbers go into the issue note.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import docker
import httpx
import psutil

from central.app import create_app as create_central
from central.settings import CentralSettings
from tests.conftest import free_port
from tests.podman import IMAGE, podman_service
from tests.servers import serve_app, wait_until_up

SCRAPES = 300
WATCHED, CONTAINERS = (1, 20), 10
NODE_EXPORTER = "prometheus-node-exporter"


@contextmanager
def server(argv: list[str], url: str, env: dict[str, str] | None = None) -> Iterator[psutil.Process]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_until_up(url, proc, argv[0])
        yield psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(process: psutil.Process, url: str) -> dict[str, float]:
    client = httpx.Client(timeout=10)
    for _ in range(5):  # warm up
        client.get(url)
    latencies = []
    before = cpu(process)
    for _ in range(SCRAPES):
        start = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - start)
        response.raise_for_status()
    per_scrape = (cpu(process) - before) / SCRAPES
    time.sleep(1)  # let the last responses settle
    idle_before = cpu(process)
    time.sleep(6)
    background = (cpu(process) - idle_before) / 6  # CPU seconds per second between scrapes
    latencies.sort()
    return {
        "median_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(0.99 * len(latencies)) - 1] * 1e3,
        "cpu_ms": per_scrape * 1e3,
        "core_pct_10s": (per_scrape / 10 + background) * 100,
        "bytes": len(response.content),
    }


def register_runs(central: str, writer: dict[str, str], count: int) -> list[str]:
    body = {"project": "p", "target": "t", "commit": "c", "branch": "main", "host": "h", "parser": "command"}
    return [
        httpx.post(f"{central}/api/v1/runs", json=body, headers=writer).json()["id"] for _ in range(count)
    ]


def watch(
    agent: str, writer: dict[str, str], runs: list[str], sleepers: list[subprocess.Popen[bytes]]
) -> None:
    for run_id, sleeper in zip(runs, sleepers, strict=True):
        body = {"run_id": run_id, "project": "p", "target": "t", "commit": "c", "pid": sleeper.pid}
        httpx.post(f"{agent}/api/v1/watches", json=body, headers=writer).raise_for_status()


def main() -> None:
    exporter = shutil.which(NODE_EXPORTER)
    if exporter is None:
        sys.exit(f"{NODE_EXPORTER} is missing: apt-get install -y {NODE_EXPORTER} (make bench-agent does)")
    rows: list[tuple[str, str, dict[str, float]]] = []
    admin = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as home, podman_service() as api, ExitStack() as stack:
        app = create_central(CentralSettings(database_url=f"sqlite:///{home}/central.db", admin_token=admin))
        central = stack.enter_context(serve_app(app))
        with httpx.Client(base_url=central, headers={"Authorization": f"Bearer {admin}"}) as http:
            http.post("/api/v1/admin/orgs", json={"name": "o"})
            tokens = [http.post("/api/v1/admin/orgs/o/tokens", json={"name": role, "role": role}).json()["token"]
                      for role in ("agent", "writer")]  # fmt: skip
        writer = {"Authorization": f"Bearer {tokens[1]}"}
        runs = register_runs(central, writer, max(WATCHED))
        node_url = f"http://127.0.0.1:{free_port()}/metrics"
        agent_port = free_port()
        agent_url = f"http://127.0.0.1:{agent_port}"
        env = {**os.environ, "BENCHHUB_HOME": home, "BENCHHUB_AGENT_DOCKER_SOCKET": api,
               "BENCHHUB_AGENT_CENTRAL_URL": central, "BENCHHUB_AGENT_CENTRAL_TOKEN": tokens[0]}  # fmt: skip
        node_argv = [exporter, f"--web.listen-address={node_url.split('/')[2]}", "--no-collector.systemd"]
        agent_argv = [sys.executable, "-m", "exporter.main", "--listen", f"127.0.0.1:{agent_port}"]
        sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(max(WATCHED))]
        try:
            with (
                server(node_argv, node_url) as node,
                server(agent_argv, f"{agent_url}/healthz", env) as agent,
            ):
                rows.append(("node_exporter", "-", measure(node, node_url)))
                rows.append(("bhub-agent", "idle", measure(agent, f"{agent_url}/metrics")))
                watched = 0
                for count in WATCHED:
                    watch(agent_url, writer, runs[watched:count], sleepers[watched:count])
                    watched = count
                    loaded = f"{count} runs followed"
                    rows.append(("bhub-agent", loaded, measure(agent, f"{agent_url}/metrics")))
                client = docker.DockerClient(base_url=api)
                for i in range(CONTAINERS):
                    client.containers.run(
                        IMAGE, ["sleep", "600"], detach=True, name=f"bench-{i}", network_mode="none"
                    )
                loaded = f"+ {CONTAINERS} containers"
                rows.append(("bhub-agent", loaded, measure(agent, f"{agent_url}/metrics")))
                client.close()
        finally:
            for sleeper in sleepers:
                sleeper.kill()
                sleeper.wait()
    print(f"{SCRAPES} scrapes each, one after the other, on {os.cpu_count()} cores")
    print(f"{'server':<15}{'state':<28}{'median ms':>10}{'p99 ms':>9}{'CPU ms/scrape':>15}"
          f"{'% core @10s':>13}{'bytes':>9}")  # fmt: skip
    for name, state, r in rows:
        print(f"{name:<15}{state:<28}{r['median_ms']:>10.2f}{r['p99_ms']:>9.2f}{r['cpu_ms']:>15.2f}"
              f"{r['core_pct_10s']:>13.3f}{r['bytes']:>9.0f}")  # fmt: skip
    node_median = rows[0][2]["median_ms"]
    for name, state, r in rows[1:]:
        print(f"{name} ({state}): median {r['median_ms'] / node_median:.2f}x node_exporter's")


if __name__ == "__main__":
    main()
