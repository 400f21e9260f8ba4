"""make bench: how long results take to reach PromQL, and what `bhubctl run` adds to a command.

Starts its own stack (scrape interval 1 s) in a temp dir, then:
1. visibility: seconds from `bhubctl run` exiting to the run's series answering in
   /api/v1/query, over N runs (median, max);
2. overhead: wall time of `bhubctl run` minus the same command run bare (median of N);
3. start-up (issue 16): `bhubctl --help` and `bhubctl run` of a target whose command is `true`,
   wall time and peak RSS (the process's own, forked from a small launcher), beside `true`.
Prints a table; no assertion: the numbers go into the issue note.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import httpx

from tests.bench.common import bench_stack
from tests.servers import run_with_peak_rss

RUNS = 7
GO_OUTPUT = "BenchmarkX-2  1000  1500 ns/op\nBenchmarkY-2  1000  2500 ns/op\nPASS\n"
BHUB_YAML = (
    "targets:\n  bench:\n    command: sleep 0.2 && cat out.txt\n    framework: go\n"
    "  nothing:\n    command: 'true'\n    framework: command\n"
)


def main() -> None:
    with bench_stack({"out.txt": GO_OUTPUT, "bhub.yaml": BHUB_YAML}) as (settings, repo, env):
        vm = f"http://127.0.0.1:{settings.vm_port}"
        visible: list[float] = []
        wrapped: list[float] = []
        for i in range(RUNS):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cli.main", "run", "bench", "-q", "--commit", f"c{i}",
                 "--branch", "main", "--project", "overhead", "--config", str(repo / "bhub.yaml")],
                cwd=repo, env=env, check=True, capture_output=True,
            )  # fmt: skip
            ended = time.perf_counter()
            wrapped.append(ended - start)
            query = f'benchhub_benchmark_value{{commit="c{i}"}}'
            while True:
                httpx.get(f"{vm}/internal/force_flush")
                got = httpx.get(f"{vm}/api/v1/query", params={"query": query}).json()
                if len(got["data"]["result"]) == 2:
                    break
                if time.perf_counter() - ended > 60:
                    raise SystemExit("results not visible after 60 s")
                time.sleep(0.05)
            visible.append(time.perf_counter() - ended)
        bare: list[float] = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run("sleep 0.2 && cat out.txt", shell=True, cwd=repo, check=True, capture_output=True)
            bare.append(time.perf_counter() - start)
        startup: dict[str, list[tuple[float, float]]] = {"bhubctl --help": [], "bhubctl run nothing": [],
                                                         "true": []}  # fmt: skip
        for i in range(RUNS):
            for name, argv in (
                ("bhubctl --help", [sys.executable, "-m", "cli.main", "--help"]),
                ("bhubctl run nothing", [sys.executable, "-m", "cli.main", "run", "nothing", "-q", "--commit",
                                         f"n{i}", "--branch", "main", "--project", "overhead"]),
                ("true", ["/bin/true"]),
            ):  # fmt: skip
                start = time.perf_counter()
                proc, peak = run_with_peak_rss(argv, repo, env)
                assert proc.returncode == 0, proc.stderr
                startup[name].append((time.perf_counter() - start, peak / 2**20))
    print(f"{'start-up (median of ' + str(RUNS) + ')':<28}{'wall ms':>9}{'peak RSS MiB':>14}")
    for name, rows in startup.items():
        wall = statistics.median(r[0] for r in rows) * 1e3
        print(f"{name:<28}{wall:>9.0f}{statistics.median(r[1] for r in rows):>14.0f}")
    fixed = [r[0] - t[0] for r, t in zip(startup["bhubctl run nothing"], startup["true"], strict=True)]
    print(
        f"fixed overhead (a run of a 'true' target minus 'true', pairwise): median {statistics.median(fixed) * 1e3:.0f} ms"
    )
    overhead = [w - b for w, b in zip(wrapped, bare, strict=True)]
    print(f"runs: {RUNS}, scrape interval 1 s")
    print(
        f"end of run -> visible in PromQL: median {statistics.median(visible):.2f} s, max {max(visible):.2f} s"
    )
    print(
        f"bhubctl run wall: median {statistics.median(wrapped):.3f} s; bare command: median {statistics.median(bare):.3f} s"
    )
    print(
        f"bhubctl run overhead on a Go target (its output parsed): median {statistics.median(overhead):.3f} s"
    )


if __name__ == "__main__":
    main()
