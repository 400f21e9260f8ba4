"""The agent registers its node with a real central (under uvicorn) and keeps it up."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
import pytest

from central.app import create_app as create_central
from central.schemas import NodeRegister
from central.settings import CentralSettings
from exporter.node import NodeReporter, node_id, registration
from tests.conftest import free_port
from tests.servers import seed_token, serve_app


def facts() -> NodeRegister:
    return registration("acme", "bench-1", "127.0.0.1:9465", None, 10.0, "local", "runner")


def test_node_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = node_id(tmp_path / "agent")
    assert node_id(tmp_path / "agent") == first and len(first) == 36


def test_registers_heartbeats_and_registers_again_when_central_forgot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    token = seed_token(url, "acme", "agent")
    auth = {"Authorization": f"Bearer {seed_token(url, 'acme', 'reader')}"}
    app = create_central(CentralSettings(database_url=url))
    with serve_app(app) as central, httpx.Client() as client:
        reporter = NodeReporter(central, "node-1", facts(), token=lambda: token)
        reporter.beat(client)
        reporter.beat(client)
        (node,) = httpx.get(f"{central}/api/v1/nodes", headers=auth).json()["data"]
        assert (node["id"], node["org"], node["state"], reporter.heartbeats) == ("node-1", "acme", "up", 1)
        assert node["memory_bytes"] == psutil.virtual_memory().total
        with app.state.engine.begin() as conn:  # central loses its records
            conn.exec_driver_sql("DELETE FROM nodes")
        reporter.beat(client)
        assert [n["id"] for n in httpx.get(f"{central}/api/v1/nodes", headers=auth).json()["data"]] == [
            "node-1"
        ]
    app.state.engine.dispose()


def test_a_refused_token_is_logged_saying_what_to_set(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    reader = seed_token(url, "acme", "reader")
    app = create_central(CentralSettings(database_url=url))
    with serve_app(app) as central, httpx.Client() as client:
        for token in (None, "bhub_wrong", reader):
            caplog.clear()
            reporter = NodeReporter(central, "node-3", facts(), token=lambda t=token: t)
            reporter.beat(client)
            assert not reporter.registered
            assert "BENCHHUB_AGENT_CENTRAL_TOKEN" in caplog.text
    app.state.engine.dispose()


def test_central_down_is_logged_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    reporter = NodeReporter(f"http://127.0.0.1:{free_port()}", "node-2", facts())
    with httpx.Client() as client:
        reporter.beat(client)
    assert not reporter.registered
    assert "not reached" in caplog.text
