"""A real local stack (VictoriaMetrics, central, agent, vmagent) for the whole session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.settings import admin_token_file, token_file
from cli.stack import Stack
from tests.servers import run_with_peak_rss, stack_settings

pytestmark = pytest.mark.e2e


def require_binaries() -> None:
    for name in ("victoria-metrics", "vmagent", "vmalert"):
        if shutil.which(name) is None:
            pytest.fail(f"{name} missing: run 'make setup' (apt-get install victoria-metrics)")


@dataclass
class LiveStack:
    stack: Stack

    @property
    def vm(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.vm_port}"

    @property
    def central(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.central_port}"

    @property
    def auth(self) -> dict[str, str]:
        """The org token 'bhubctl stack up' wrote for the user."""
        return {"Authorization": f"Bearer {token_file(self.stack.home).read_text().strip()}"}

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {admin_token_file(self.stack.home).read_text().strip()}"}

    @property
    def agent(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.agent_port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "BENCHHUB_HOME": str(self.stack.home),
            "BENCHHUB_CENTRAL_URL": self.central,
            "BENCHHUB_AGENT_URL": self.agent,
            "COLUMNS": "200",
            **extra,
        }

    def export(self, match: str) -> list[dict[str, Any]]:
        httpx.get(f"{self.vm}/internal/force_flush", timeout=10)
        response = httpx.post(f"{self.vm}/api/v1/export", data={"match[]": match}, timeout=10)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def wait_for_series(self, match: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        series: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            series = self.export(match)
            if len(series) >= count:
                return series
            time.sleep(0.25)
        raise AssertionError(f"{match}: {len(series)} series after {timeout} s, expected {count}")

    def query(self, promql: str) -> list[dict[str, Any]]:
        httpx.get(f"{self.vm}/internal/force_flush", timeout=10)
        response = httpx.get(f"{self.vm}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    require_binaries()
    stack = Stack(stack_settings(tmp_path_factory.mktemp("stack"), org="e2e-org"))
    try:
        stack.up()
        yield LiveStack(stack)
    finally:
        stack.down()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(path: Path, files: dict[str, str], remote: str | None) -> str:
    """A throwaway git repository with ``files`` committed; returns the commit SHA."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "e2e@example.com")
    git(path, "config", "user.name", "e2e")
    for name, text in files.items():
        (path / name).write_text(text)
    git(path, "add", ".")
    git(path, "commit", "-qm", "benchmarks")
    if remote:
        git(path, "remote", "add", "origin", remote)
    return git(path, "rev-parse", "HEAD")


def bhubctl(live: LiveStack, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd, env=live.env(**env), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def bhubctl_measured(
    live: LiveStack, cwd: Path, *args: str, file_size_limit: int | None = None
) -> tuple[subprocess.CompletedProcess[str], int]:
    """bhubctl and its peak RSS in bytes; ``file_size_limit`` makes bigger writes fail (a full disk)."""
    argv = [sys.executable, "-m", "cli.main", *args]
    return run_with_peak_rss(argv, cwd, live.env(), file_size_limit)
