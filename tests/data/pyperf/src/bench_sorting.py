"""Made the pyperf suite in this folder (see ../README.md)."""

import pyperf

runner = pyperf.Runner()
runner.bench_func("sort_100", sorted, list(range(100, 0, -1)))
runner.bench_func("join_100", ",".join, [str(i) for i in range(100)])
