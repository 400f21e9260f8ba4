"""make bench-detect (second part): the change-point scan after a run of 1,000 benchmarks on a
branch with 500 runs of history each, and what it adds to the run's own API calls.

A central on SQLite in a temp dir; the history is inserted directly (500 runs x 1,000
results, one 12% step in a tenth of the benchmarks at run 400); then, median of N:
1. scan(newest run) in-process, with the default window (100 runs) and with all 500;
2. over HTTP (uvicorn): POST /runs/{id}/state -> finished of a new run (the runner waits for
   this answer), on a watched branch (the scan runs after the answer) and on an unwatched one.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert

from central.app import create_app
from central.models import Result, Run, utcnow
from central.regressions import scan
from central.settings import CentralSettings
from tests.servers import seed_token, serve_app

BENCHMARKS, RUNS, STEP_AT, TIMES = 1_000, 500, 400, 5
ADMIN = "bench-detect-admin-token"


def seed(sessions, project_id: int, branch: str) -> list[str]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    start = utcnow() - timedelta(days=30)
    ids = []
    with sessions() as session:
        for i in range(RUNS):
            run_id = str(uuid.uuid4())
            at = start + timedelta(minutes=i)
            session.execute(insert(Run), [{
                "id": run_id, "project_id": project_id, "target": "big", "commit": f"{i:040x}", "branch": branch,
                "dirty": False, "host": "bench", "parser": "json", "labels": {}, "state": "finished",
                "created_at": at, "started_at": at, "finished_at": at,
            }])  # fmt: skip
            levels = np.where((np.arange(BENCHMARKS) % 10 == 0) & (i >= STEP_AT), 112.0, 100.0)
            values = levels * (1 + rng.normal(0, 0.01, BENCHMARKS))
            session.execute(insert(Result), [
                {"run_id": run_id, "key": f"B{b:04d}", "benchmark": f"B{b:04d}", "measure": "time", "unit": "ns",
                 "value": float(v), "labels": {}, "context": {}}
                for b, v in enumerate(values)
            ])  # fmt: skip
            ids.append(run_id)
        session.commit()
    return ids


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'central.db'}"
        token = seed_token(db, "acme", "writer")
        app = create_app(CentralSettings(database_url=db, admin_token=ADMIN))
        headers = {"Authorization": f"Bearer {token}"}
        with (
            serve_app(app) as central,
            httpx.Client(base_url=central, headers=headers, timeout=120) as client,
        ):
            body = {
                "project": "bench",
                "target": "big",
                "commit": "0" * 40,
                "branch": "seed",
                "host": "b",
                "parser": "json",
            }
            first = client.post("/api/v1/runs", json=body).raise_for_status().json()["id"]
            sessions = app.state.sessions
            with sessions() as session:
                project_id = session.get(Run, first).project_id
            started = time.perf_counter()
            ids = seed(sessions, project_id, "main")
            print(f"seeded {RUNS} runs x {BENCHMARKS:,} results in {time.perf_counter() - started:.1f} s")
            rows = []
            for window in (100, 500):
                took = []
                for _ in range(TIMES):
                    with sessions() as session:
                        newest = session.get(Run, ids[-1])
                        assert newest is not None
                        begin = time.perf_counter()
                        scan(session, newest, window)
                        took.append(time.perf_counter() - begin)
                rows.append((f"scan after a run, window {window} runs (goal < 2 s)", took))
            with sessions() as session:
                from central.models import Regression

                opened = session.query(Regression).count()
            for branch in ("main", "unwatched"):
                took = []
                for i in range(TIMES):
                    body = {**body, "branch": branch, "commit": f"{RUNS + i:040x}"}
                    run_id = client.post("/api/v1/runs", json=body).raise_for_status().json()["id"]
                    results = [{"benchmark": f"B{b:04d}", "measure": "time", "unit": "ns", "value": 100.0}
                               for b in range(BENCHMARKS)]  # fmt: skip
                    client.post(
                        f"/api/v1/runs/{run_id}/results", json={"results": results}
                    ).raise_for_status()
                    begin = time.perf_counter()
                    client.post(f"/api/v1/runs/{run_id}/state", json={"state": "finished"}).raise_for_status()
                    took.append(time.perf_counter() - begin)
                    time.sleep(3)  # the background scan of a watched branch ends before the next run
                rows.append((f"POST state=finished, {branch} branch (the runner's wait)", took))
        app.state.engine.dispose()
    print(f"{'what':58} {'median':>8} {'min':>8} {'max':>8}")
    for name, took in rows:
        print(f"{name:58} {statistics.median(took):7.3f}s {min(took):7.3f}s {max(took):7.3f}s")
    print(f"regressions opened: {opened} (a 12% step in {BENCHMARKS // 10} of {BENCHMARKS} benchmarks)")


if __name__ == "__main__":
    main()
