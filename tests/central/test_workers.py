"""bhub-central serve --workers N: real worker processes sharing one port, their metrics
and the parent's one backup schedule."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from central.main import listening_socket, main, worker_app
from tests.backup.test_org_backup import BOOTSTRAP, Stack, configure
from tests.conftest import free_port
from tests.s3 import s3_server
from tests.servers import victoria_metrics, wait_for_workers, wait_until_up


def _metric(text: str, name: str) -> float:
    return next(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " "))


def _connections(worker: psutil.Process, port: int) -> int:
    return sum(
        1
        for c in worker.net_connections("tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
    )


def test_workers_share_the_port_their_metrics_and_one_backup_schedule(tmp_path: Path) -> None:
    with s3_server(tmp_path) as (endpoint, _), victoria_metrics(tmp_path) as vm:
        port = free_port()
        env = {
            **os.environ, "BENCHHUB_HOME": str(tmp_path), "BENCHHUB_CENTRAL_WORKERS": "2",
            "BENCHHUB_CENTRAL_ADMIN_TOKEN": BOOTSTRAP, "BENCHHUB_CENTRAL_VM_URL": vm,
            "BENCHHUB_CENTRAL_BACKUP_INTERVAL_HOURS": str(1 / 3600),  # every second
        }  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "central.main", "serve", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{url}/healthz", server, "central with two workers", timeout=60)
            wait_for_workers(port, 2, server)
            workers = [
                p for p in psutil.Process(server.pid).children() if "spawn_main" in " ".join(p.cmdline())
            ]
            assert len(workers) == 2
            # 40 keep-alive connections at once are spread over both workers (sharing one socket,
            # the worker woken first accepted nearly all of them)
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
            try:
                held, deadline = [0, 0], time.monotonic() + 10
                while sum(held) < 40 and time.monotonic() < deadline:
                    held = [_connections(w, port) for w in workers]
                assert sum(held) == 40 and min(held) >= 8, held
            finally:
                for client in clients:
                    client.close()

            stack = Stack(vm, url, None)
            broken = stack.token("broken")
            configure(stack, broken, endpoint, "no-such-bucket")  # every scheduled backup fails
            for _ in range(30):  # a new connection each: the kernel hands them to either worker
                assert httpx.get(f"{url}/api/v1/backup/target", headers=broken).status_code == 200
            text, deadline = "", time.monotonic() + 60
            while time.monotonic() < deadline:
                text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {BOOTSTRAP}"}).text
                if _metric(text, 'benchhub_backup_failures_total{org="broken"}') >= 2:
                    break
                time.sleep(0.5)
            # whichever worker answered /metrics, it counts the requests both served
            route = 'benchhub_central_requests_total{method="GET",route="/api/v1/backup/target",status="200"}'
            assert _metric(text, route) == 30
            # failures are counted in the database by the parent's schedule, read by any worker
            assert _metric(text, 'benchhub_backup_failures_total{org="broken"}') >= 2
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 0
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers)


def test_workers_leave_the_backup_schedule_to_their_parent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BENCHHUB_HOME", str(tmp_path))
    monkeypatch.setenv("BENCHHUB_CENTRAL_VM_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BENCHHUB_CENTRAL_BACKUP_INTERVAL_HOURS", "1")
    app = worker_app()
    assert app.state.backups is None
    app.state.engine.dispose()


def test_the_shared_socket_gives_every_connection_tcp_nodelay() -> None:
    """Without it each keep-alive response waits ~40 ms for the client's delayed ACK."""

    async def accepted_nodelay() -> int:
        sock = listening_socket("127.0.0.1", 0)
        sock.listen()
        got: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            got.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accept, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(got, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(accepted_nodelay()) != 0


def test_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit, match=r"cannot listen on 127.0.0.1:\d+: Address already in use"):
            listening_socket("127.0.0.1", taken.getsockname()[1])


def test_a_port_where_a_server_answers_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SO_REUSEPORT would let the workers bind beside another central's: they check first."""
    monkeypatch.setenv("BENCHHUB_HOME", str(tmp_path))
    monkeypatch.setenv("BENCHHUB_CENTRAL_WORKERS", "2")
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(
            SystemExit, match=rf"cannot listen on 127.0.0.1:{port}: another server answers there"
        ):
            main(["serve", "--listen", f"127.0.0.1:{port}"])
