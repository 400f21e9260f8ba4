"""Real servers for tests: an ASGI app under uvicorn, and the settings of a throwaway stack."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from cli.stack import StackSettings
from tests.conftest import free_port


def wait_until_up(url: str, proc: subprocess.Popen[Any], what: str, timeout: float = 30) -> None:
    """Until ``url`` answers 200; RuntimeError if ``proc`` exits or ``timeout`` passes first."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def wait_for_workers(port: int, workers: int, proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    """Until ``workers`` sockets listen on ``port`` (central's workers each have their own; a
    connection made before the last one listens stays with the others)."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        listening = sum(
            c.status == psutil.CONN_LISTEN and getattr(c.laddr, "port", None) == port
            for c in psutil.net_connections("tcp")
        )
        if listening >= workers:
            return
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{listening} of central's {workers} workers listen on port {port}")
        time.sleep(0.1)


@contextmanager
def serve_app(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def stack_settings(home: Path, **overrides: Any) -> StackSettings:
    """All four services on free ports, scraping every second, points queryable at once."""
    return StackSettings(
        home=home, vm_port=free_port(), vmagent_port=free_port(), central_port=free_port(),
        agent_port=free_port(), vmalert_port=free_port(), scrape_interval="1s", latency_offset="0s",
        evaluation_interval="1s", **overrides,
    )  # fmt: skip


def stack_env(settings: StackSettings) -> dict[str, str]:
    """The BENCHHUB_STACK_* variables that make a child bhubctl see this very stack."""
    return {f"BENCHHUB_STACK_{k.upper()}": str(v) for k, v in settings.model_dump().items() if k != "home"}


def seed_token(database_url: str, org: str, role: str = "admin") -> str:
    """A new token of ``org`` (created if new), written straight into central's database."""
    from central import auth, db
    from central.errors import Conflict
    from central.schemas import Role

    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        try:
            org_id = auth.create_org(session, org).id
        except Conflict:
            org_id = auth.org_by_name(session, org).id
        _, secret = auth.create_token(session, org_id, "test", Role(role), None, "test")
    engine.dispose()
    return secret


@contextmanager
def victoria_metrics(root: Path, *flags: str) -> Iterator[str]:
    """A real single-node VictoriaMetrics on a free port, its data under ``root``."""
    import shutil
    import subprocess

    if shutil.which("victoria-metrics") is None:
        raise RuntimeError("victoria-metrics missing: run 'make setup' (apt-get install victoria-metrics)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "vm.log").open("w")
    proc = subprocess.Popen(
        ["victoria-metrics", f"-storageDataPath={root / 'vm-data'}", f"-httpListenAddr=127.0.0.1:{port}",
         "-search.latencyOffset=0s", "-dedup.minScrapeInterval=1s", "-retentionPeriod=10y", *flags],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_up(f"{url}/health", proc, f"victoria-metrics (see {root / 'vm.log'})")
        yield url
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


# Runs a command as its child and prints the child's peak RSS: ru_maxrss of a process forked
# from a big one (pytest) would count the parent's memory too (a child inherits its parent's
# high-water mark), so the command is forked from this small interpreter instead.
_PEAK = """
import os, resource, signal, sys
if sys.argv[1] != "-":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\npeak-rss-kib {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_with_peak_rss(
    argv: list[str], cwd: Path, env: dict[str, str], file_size_limit: int | None = None
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``argv`` (output captured); its peak RSS in bytes. ``file_size_limit``: writes past
    that many bytes fail with EFBIG, as on a full disk."""
    import sys

    limit = "-" if file_size_limit is None else str(file_size_limit)
    proc = subprocess.run(
        [sys.executable, "-S", "-c", _PEAK, limit, *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    peak = int(proc.stderr.rsplit("peak-rss-kib ", 1)[1].split()[0]) * 1024
    return proc, peak
