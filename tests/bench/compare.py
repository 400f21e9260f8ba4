"""make bench-compare: central compares two runs of 10,000 results of 100 samples each.

Starts its own stack, records the two runs through the API (the second 3% slower on a tenth
of its benchmarks), then times, median of N:
1. GET /api/v1/compare of the two runs (central's whole work: resolve, read 2,000,000
   samples, test 10,000 pairs, adjust, answer), goal < 1 s;
2. `bhubctl compare A B --format json`, the whole process, goal < 2 s, with its peak RSS.
Prints a table; no assertion: the numbers go into the issue note.
"""

from __future__ import annotations

import statistics
import sys
import time

import httpx
import numpy as np

from cli.settings import token_file
from tests.bench.common import bench_stack
from tests.servers import run_with_peak_rss

RESULTS, SAMPLES, BATCH, TIMES, SETTLE = 10_000, 100, 1_000, 7, 20


def record(client: httpx.Client, commit: str, slower: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    body = {"project": "bench", "target": "big", "commit": commit, "branch": "main", "host": "bench",
            "parser": "json"}  # fmt: skip
    run_id: str = client.post("/api/v1/runs", json=body).raise_for_status().json()["id"]
    for start in range(0, RESULTS, BATCH):
        results = []
        for i in range(start, start + BATCH):
            centre = 1000.0 * (1 + slower if i % 10 == 0 else 1)
            samples = rng.normal(centre, centre * 0.01, SAMPLES).round(3).tolist()
            results.append({"benchmark": f"Benchmark{i:05d}", "measure": "time", "unit": "ns",
                            "value": float(np.median(samples)), "samples": samples})  # fmt: skip
        client.post(f"/api/v1/runs/{run_id}/results", json={"results": results}).raise_for_status()
    client.post(f"/api/v1/runs/{run_id}/state", json={"state": "finished"}).raise_for_status()
    return run_id


def main() -> None:
    with bench_stack({}) as (settings, repo, env):
        token = token_file(settings.home).read_text().strip()
        central = f"http://127.0.0.1:{settings.central_port}"
        with httpx.Client(
            base_url=central, headers={"Authorization": f"Bearer {token}"}, timeout=300
        ) as client:
            started = time.perf_counter()
            base, head = record(client, "a" * 40, 0.0, 1), record(client, "b" * 40, 0.03, 2)
            print(
                f"recorded 2 runs x {RESULTS:,} results x {SAMPLES} samples in {time.perf_counter() - started:.1f} s"
            )
            time.sleep(SETTLE)  # central writes the runs' series after they finish: not what is timed
            api: list[float] = []
            for _ in range(TIMES):
                start = time.perf_counter()
                response = client.get("/api/v1/compare", params={"base": base, "head": head})
                api.append(time.perf_counter() - start)
                print(
                    f"  GET /api/v1/compare {api[-1]:.3f} s (headers after {response.elapsed.total_seconds():.3f} s)"
                )
            body = response.raise_for_status().json()
        regressed = body["counts"]["regressed"]
        cli: list[float] = []
        peaks: list[int] = []
        for _ in range(TIMES):
            start = time.perf_counter()
            argv = [
                sys.executable,
                "-m",
                "cli.main",
                "compare",
                base,
                head,
                "--format",
                "json",
                "--project",
                "bench",
            ]
            proc, peak = run_with_peak_rss(argv, repo, env)
            cli.append(time.perf_counter() - start)
            peaks.append(peak)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
    print(f"{'what':48} {'median':>9} {'min':>9} {'max':>9}")
    print(
        f"{'GET /api/v1/compare (goal < 1 s)':48} {statistics.median(api):8.3f}s {min(api):8.3f}s {max(api):8.3f}s"
    )
    print(
        f"{'bhubctl compare --format json (goal < 2 s)':48} {statistics.median(cli):8.3f}s {min(cli):8.3f}s {max(cli):8.3f}s"
    )
    print(f"{'bhubctl compare peak RSS':48} {statistics.median(peaks) / 2**20:7.1f}MiB")
    print(f"verdicts: {regressed} regressed of {RESULTS // 10} slowed by 3%; counts {body['counts']}")


if __name__ == "__main__":
    main()
