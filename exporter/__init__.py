"""The BenchHub agent: /metrics with benchmark results (and, later, host and container data)."""

__version__ = "0.1.0"
