"""Helpers shared by every test folder."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def meminfo_total_bytes() -> int:
    """MemTotal from /proc/meminfo, the number node_exporter and psutil both report."""
    with open("/proc/meminfo") as fh:
        return int(next(line for line in fh if line.startswith("MemTotal:")).split()[1]) * 1024


@pytest.fixture
def data_dir() -> Path:
    return DATA


# tests/data holds the benchmarks that made the recorded outputs, not tests of BenchHub.
collect_ignore_glob = ["data/*"]
