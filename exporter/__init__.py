"""The BenchHub agent: /metrics with the host, its containers and the process trees of runs."""

__version__ = "0.1.0"
