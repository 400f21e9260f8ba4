"""make bench-run-memory: what `bhubctl run` holds in memory for huge outputs (issue 15).

Starts its own stack in a temp dir, then runs, each as a real `bhubctl run` of a go target:
1. a 200 MB output (1,000 benchmark lines among verbose test logs), goal: peak RSS <= 200 MiB;
2. 1,000,000 results (one line each), goal: refused early with a clear limit, not GBs;
3. the 200 MB command bare, its output to a file (`cmd > bare.log`), the anchor for time.
Peak RSS is the bhubctl process's own (forked from a small launcher). Median of RUNS each;
prints a table, no assertion: the numbers go into the issue note.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from tests.bench.common import bench_stack
from tests.generated import FLOOD
from tests.servers import run_with_peak_rss

RUNS = 3
MANY = """import sys
out = sys.stdout
for i in range(1_000_000):
    out.write(f"BenchmarkMany{i}-2 \\t 1000\\t {1000 + i} ns/op\\n")
"""
BHUB_YAML = """targets:
  flood:
    command: python3 flood.py 200
    framework: go
  many:
    command: python3 many.py
    framework: go
"""


def main() -> None:
    rows: list[tuple[str, list[float], list[float], str]] = []
    with bench_stack({"flood.py": FLOOD, "many.py": MANY, "bhub.yaml": BHUB_YAML}) as (_, repo, env):
        for target in ("flood", "many"):
            walls, peaks, outcome = [], [], ""
            for i in range(RUNS):
                argv = [sys.executable, "-m", "cli.main", "run", target, "-q", "--commit", f"c{i}",
                        "--branch", "main", "--project", "memory"]  # fmt: skip
                start = time.perf_counter()
                proc, peak = run_with_peak_rss(argv, repo, env)
                walls.append(time.perf_counter() - start)
                peaks.append(peak / 2**20)
                last = [ln for ln in proc.stderr.splitlines() if ln.strip() and "peak-rss" not in ln][-3:]
                outcome = f"exit {proc.returncode}: {' | '.join(last)[:150]}"
            rows.append((f"bhubctl run {target}", walls, peaks, outcome))
        walls = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run("python3 flood.py 200 > bare.log", shell=True, cwd=repo, check=True)
            walls.append(time.perf_counter() - start)
        rows.append(("bare flood > file", walls, [], ""))
    print(f"median of {RUNS} runs each, on {os.cpu_count()} cores")
    print(f"{'what':<24}{'wall s':>9}{'peak RSS MiB':>14}  outcome")
    for name, walls, peaks, outcome in rows:
        peak = f"{statistics.median(peaks):.0f}" if peaks else "-"
        print(f"{name:<24}{statistics.median(walls):>9.2f}{peak:>14}  {outcome}")


if __name__ == "__main__":
    main()
