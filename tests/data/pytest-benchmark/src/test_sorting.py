"""Benchmarks that made the pytest-benchmark outputs in this folder (see ../README.md)."""

import pytest


@pytest.mark.parametrize("n", [10, 1000])
def test_sort(benchmark, n):
    data = list(range(n, 0, -1))
    benchmark(sorted, data)


@pytest.mark.benchmark(group="strings")
def test_join(benchmark):
    benchmark(",".join, [str(i) for i in range(100)])


@pytest.mark.benchmark(group="strings")
def test_format(benchmark):
    benchmark.extra_info["note"] = "f-string"
    benchmark(lambda: f"{1}-{2}-{3}")
