"""A real VictoriaMetrics holding seeded host, container, run and benchmark history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dashboards import seed
from tests.servers import victoria_metrics


def load(vm: str, lines: list[str]) -> None:
    """Import Prometheus text lines and wait until the last one's series is searchable (new series
    become visible a second or so after a flush)."""
    for start in range(0, len(lines), 50_000):
        httpx.post(f"{vm}/api/v1/import/prometheus", content="".join(lines[start : start + 50_000]),
                   timeout=60).raise_for_status()  # fmt: skip
    httpx.get(f"{vm}/internal/force_flush", timeout=30).raise_for_status()
    head, tail = lines[-1].rsplit("}", 1)
    selector, sample = head + "}", tail.split()  # value, and the timestamp in ms when it has one
    stamp = int(sample[1]) // 1000 if len(sample) > 1 else int(time.time())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # around the sample's own time: without a start the series API looks at the last day only
        span = {"match[]": selector, "start": stamp - 3600, "end": stamp + 3600}
        found = httpx.get(f"{vm}/api/v1/series", params=span, timeout=10).json()
        if found["data"]:
            return
        time.sleep(0.2)
    raise AssertionError(f"{selector} not searchable 30 s after the import")


@pytest.fixture(scope="session")
def seeded_vm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with victoria_metrics(tmp_path_factory.mktemp("dashboards-vm")) as vm:
        now = int(time.time())
        first = seed.benchmark_lines(seed.runs(now - 3600, count=1), org="zeta")  # an org with one run
        load(vm, first + seed.benchmark_lines(seed.runs(now)) + seed.catalog_lines(now))
        yield vm


@pytest.fixture
def vm_dir(tmp_path: Path) -> Path:
    return tmp_path
