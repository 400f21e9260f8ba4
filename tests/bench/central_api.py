"""make bench-central: run creation + a 20-result upload, on SQLite and on PostgreSQL.

central runs as its own server (``bhub-central serve``, with 1 and with 2 worker processes)
on this 2-core machine; the load comes from this process over loopback.
1. throughput: CLIENTS concurrent clients each create a run and upload 20 results, as fast
   as they can, for SECONDS; reports runs/s and result writes/s;
2. latency at a fixed rate: RATE requests/s (alternating run creation and 20-result
   uploads), open loop for SECONDS after WARMUP; reports p50/p99 and how many missed their slot.
Goals (issue 5): >= 1,000 result writes/s; p99 < 50 ms at 200 req/s. Prints a table.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

import aiohttp
import psutil

from tests.conftest import free_port
from tests.postgres import postgres_cluster
from tests.servers import seed_token, wait_for_workers, wait_until_up

CLIENTS, SECONDS, RATE, RESULTS, SENDERS, WARMUP = 8, 10, 200, 20, 32, 1
RUN = {"project": "api", "target": "t", "commit": "c0ffee", "branch": "main", "host": "h",
       "parser": "go"}  # fmt: skip
RUN_BODY = json.dumps(RUN).encode()
BATCH = {"results": [{"benchmark": f"BenchmarkCase{i}", "measure": "time", "unit": "ns/op", "value": 1000.0 + i,
                      "iterations": 1000, "samples": [1000.0, 1001.0, 999.0]} for i in range(RESULTS)]}  # fmt: skip
BATCH_BODY = json.dumps(BATCH).encode()


@contextmanager
def central(database_url: str, workers: int) -> Iterator[tuple[str, Callable[[], float]]]:
    """central serving ``database_url`` (its URL, and the CPU seconds its processes used so
    far); a writer token of org 'bench' goes in AUTH."""
    AUTH["Authorization"] = f"Bearer {seed_token(database_url, 'bench', 'writer')}"
    port = free_port()
    env = {
        **os.environ,
        "BENCHHUB_CENTRAL_DATABASE_URL": database_url,
        "BENCHHUB_CENTRAL_WORKERS": str(workers),
    }
    proc = subprocess.Popen([sys.executable, "-m", "central.main", "serve", "--listen", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", proc, "central")
        wait_for_workers(port, workers, proc)
        processes = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        yield url, lambda: sum(sum(p.cpu_times()[:2]) for p in processes)
    finally:
        proc.terminate()
        proc.wait(10)


AUTH: dict[str, str] = {}


def _session(url: str, connections: int) -> aiohttp.ClientSession:
    """The load generator's client: aiohttp, which spends a third of httpx's CPU per request
    (on this 2-core box the generator's CPU is CPU central does not get)."""
    return aiohttp.ClientSession(
        base_url=url, headers={**AUTH, "Content-Type": "application/json"},
        connector=aiohttp.TCPConnector(limit=connections), timeout=aiohttp.ClientTimeout(total=60),
    )  # fmt: skip


async def _post(client: aiohttp.ClientSession, path: str, body: bytes) -> tuple[int, Any]:
    async with client.post(path, data=body) as response:
        return response.status, await response.json() if response.status < 400 else None


async def _create(client: aiohttp.ClientSession) -> str:
    status, run = await _post(client, "/api/v1/runs", RUN_BODY)
    if status != 201:
        raise RuntimeError(f"creating a run: HTTP {status}")
    return str(run["id"])


async def throughput(url: str) -> float:
    done = 0
    deadline = time.monotonic() + SECONDS

    async def worker(client: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            try:
                run_id = await _create(client)
                status, _ = await _post(client, f"/api/v1/runs/{run_id}/results", BATCH_BODY)
            except aiohttp.ClientConnectionError:  # a keep-alive connection the server closed: next run
                continue
            if status != 200:
                raise RuntimeError(f"uploading results: HTTP {status}")
            done += 1

    start = time.monotonic()
    async with _session(url, CLIENTS) as client:
        await asyncio.gather(*(worker(client) for _ in range(CLIENTS)))
    return done / (time.monotonic() - start)


async def fixed_rate(url: str, cpu: Callable[[], float]) -> tuple[float, float, float, int, int]:
    """Open loop: request i is due at start + i/RATE whatever came before; its latency runs from
    that moment, so time spent waiting for a free sender counts (no coordinated omission).
    SENDERS clients with a connection each take the due requests in turn (like many agents,
    each with its own connection; one pool would send nearly all through the few connections
    freed last, on whichever worker holds them). A fixed set, not a task per request: a client
    juggling hundreds of pending requests burns the CPU central needs (httpx so took 18 s of
    CPU to central's 15 s). The first WARMUP seconds open the connections and are not counted.
    Also returns central's CPU milliseconds per request over the phase."""
    latencies: list[float] = []
    late = failed = 0
    total, first_counted = RATE * (WARMUP + SECONDS), RATE * WARMUP
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_session(url, 1)) for _ in range(SENDERS)]
        run_ids = [await _create(clients[0]) for _ in range(total)]
        due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

        async def sender(client: aiohttp.ClientSession) -> None:
            nonlocal failed
            while (item := await due.get()) is not None:
                index, slot = item
                try:
                    if index % 2:
                        status, _ = await _post(client, f"/api/v1/runs/{run_ids[index]}/results", BATCH_BODY)
                    else:
                        status, _ = await _post(client, "/api/v1/runs", RUN_BODY)
                    failed += status >= 400
                except aiohttp.ClientError:
                    failed += 1
                if index >= first_counted:
                    latencies.append(time.monotonic() - slot)

        senders = [asyncio.create_task(sender(client)) for client in clients]
        cpu_before = cpu()
        begin = time.monotonic()
        for index in range(total):
            slot = begin + index / RATE
            now = time.monotonic()
            if now < slot:
                await asyncio.sleep(slot - now)
            elif now - slot > 0.01 and index >= first_counted:
                late += 1  # this generator fell behind its schedule (its latency still counts from the slot)
            due.put_nowait((index, slot))
        for _ in senders:
            due.put_nowait(None)
        await asyncio.gather(*senders)
        cpu_per_request = (cpu() - cpu_before) / total * 1e3
    latencies.sort()
    p50, p99 = statistics.median(latencies) * 1e3, latencies[int(0.99 * len(latencies)) - 1] * 1e3
    return p50, p99, cpu_per_request, late, failed


@contextmanager
def database(name: str, tmp: str, workers: int) -> Iterator[str]:
    """A fresh database for each row: no row runs beside another's autovacuum or checkpoint."""
    if name == "sqlite":
        yield f"sqlite:///{tmp}/central{workers}.db"
        return
    import psycopg

    with postgres_cluster() as pg:
        with psycopg.connect(pg.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        yield f"{pg}/bench"


def measure_one(name: str, workers: int) -> None:
    """Child process: one row (a fresh load generator each, no garbage of earlier rows)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(name, tmp, workers) as url,
        central(url, workers) as (api, cpu),
    ):
        runs_per_s = asyncio.run(throughput(api))
        print(f"{name}, {workers} worker(s): {RATE} req/s for {SECONDS} s ...", file=sys.stderr, flush=True)
        p50, p99, cpu_ms, late, failed = asyncio.run(fixed_rate(api, cpu))
    print(json.dumps([name, workers, runs_per_s, p50, p99, cpu_ms, late, failed]))


def main() -> None:
    rows = []
    for workers in (1, 2):
        for name in ("sqlite", "postgresql"):
            print(f"{name}, {workers} worker(s): throughput ...", file=sys.stderr, flush=True)
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.central_api", "--one", name, str(workers)],
                check=True, stdout=subprocess.PIPE, text=True,
            ).stdout  # fmt: skip
            rows.append(json.loads(out.splitlines()[-1]))
    print(f"central on {os.cpu_count()} cores; {CLIENTS} clients; a run = create + {RESULTS}-result upload")
    print(f"{'database':<12}{'workers':>8}{'runs/s':>9}{'results/s':>11}{f'p50 ms @{RATE}/s':>16}"
          f"{f'p99 ms @{RATE}/s':>16}{'CPU ms/req':>12}{'late':>6}{'errors':>8}")  # fmt: skip
    for name, workers, runs_per_s, p50, p99, cpu_ms, late, failed in rows:
        print(
            f"{name:<12}{workers:>8}{runs_per_s:>9.1f}{runs_per_s * RESULTS:>11.0f}{p50:>16.1f}{p99:>16.1f}"
            f"{cpu_ms:>12.2f}{late:>6}{failed:>8}"
        )
    print("CPU ms/req: central's processes, at the fixed rate (PostgreSQL's own CPU not included)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        measure_one(sys.argv[2], int(sys.argv[3]))
    else:
        main()
