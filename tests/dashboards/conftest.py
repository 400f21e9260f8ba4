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
    for start in range(0, len(lines), 50_000):
        httpx.post(f"{vm}/api/v1/import/prometheus", content="".join(lines[start : start + 50_000]),
                   timeout=60).raise_for_status()  # fmt: skip
    httpx.get(f"{vm}/internal/force_flush", timeout=30).raise_for_status()


@pytest.fixture(scope="session")
def seeded_vm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with victoria_metrics(tmp_path_factory.mktemp("dashboards-vm")) as vm:
        now = int(time.time())
        load(vm, seed.benchmark_lines(seed.runs(now)) + seed.catalog_lines(now))
        yield vm


@pytest.fixture
def vm_dir(tmp_path: Path) -> Path:
    return tmp_path
