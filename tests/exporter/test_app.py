"""The agent's HTTP API against a real central: it follows only runs central vouches for."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from central.app import create_app as create_central
from central.settings import CentralSettings
from exporter.app import create_app
from exporter.metrics import CATALOG
from exporter.settings import AgentSettings
from tests.central.conftest import ADMIN_TOKEN, org_token
from tests.servers import serve_app

RUN = {"project": "p", "target": "t", "commit": "c0ffee", "branch": "main", "host": "h", "parser": "command"}


@dataclass
class Agent:
    url: str
    central: str
    writer: dict[str, str]  # a writer token of the agent's org
    other: dict[str, str]  # a writer token of another org

    def run(self, headers: dict[str, str] | None = None) -> str:
        made = httpx.post(f"{self.central}/api/v1/runs", json=RUN, headers=headers or self.writer)
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    central_app = create_central(
        CentralSettings(database_url=f"sqlite:///{tmp_path / 'central.db'}", admin_token=ADMIN_TOKEN)
    )
    with serve_app(central_app) as central, httpx.Client(base_url=central) as http:
        own = org_token(http, "acme", role="agent")["Authorization"].removeprefix("Bearer ")
        writer, other = org_token(http, "acme", role="writer"), org_token(http, "rival", role="writer")
        settings = AgentSettings(
            hostname="bench-1", state_dir=tmp_path / "agent", central_url=central, central_token=own
        )  # type: ignore[arg-type]
        with serve_app(create_app(settings)) as url:
            yield Agent(url, central, writer, other)
    central_app.state.engine.dispose()


def watch(agent: Agent, run_id: str, pid: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"run_id": run_id, "project": "p", "target": "t", "commit": "c0ffee", "pid": pid}
    return httpx.post(f"{agent.url}/api/v1/watches", json=body, headers=headers or {})


def test_the_caller_s_own_running_run_is_followed_and_its_totals_returned(agent: Agent) -> None:
    run_id = agent.run()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert watch(agent, run_id, proc.pid, agent.writer).status_code == 201
        scrape = httpx.get(f"{agent.url}/metrics").text
        assert f'run_id="{run_id}"' in scrape
        totals = httpx.delete(f"{agent.url}/api/v1/watches/{run_id}", headers=agent.writer)
        assert totals.status_code == 200 and totals.json()["max_processes"] >= 1
        assert totals.json()["max_rss_bytes"] > 0
        assert f'run_id="{run_id}"' not in httpx.get(f"{agent.url}/metrics").text
        missing = httpx.delete(f"{agent.url}/api/v1/watches/{run_id}", headers=agent.writer)
        assert missing.status_code == 404 and "not watched" in missing.text
        bad = watch(agent, run_id, 0, agent.writer)
        assert bad.status_code == 422 and "pid" in bad.text
    finally:
        proc.kill()
        proc.wait()


def test_forged_and_foreign_watch_requests_are_refused(agent: Agent) -> None:
    # before: no authentication; a watch of pid 1 then its DELETE returned the whole machine's
    # totals, and anyone could delete another run's watch
    run_id = agent.run()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        no_token = watch(agent, run_id, proc.pid)
        assert no_token.status_code == 401 and "Bearer" in no_token.json()["detail"]
        bad_token = watch(agent, run_id, proc.pid, {"Authorization": "Bearer bhub_nonsense"})
        assert bad_token.status_code == 401
        pid1 = watch(agent, run_id, 1, agent.writer)
        assert pid1.status_code == 403 and "started before run" in pid1.json()["detail"]
        foreign = watch(agent, run_id, proc.pid, agent.other)
        assert foreign.status_code == 403 and "another organization" in foreign.json()["detail"]
        rival_run = agent.run(agent.other)  # the rival's own run is not this agent's org's either
        assert watch(agent, rival_run, proc.pid, agent.other).status_code == 403
        with httpx.Client(base_url=agent.central) as http:
            reader = watch(agent, run_id, proc.pid, org_token(http, "acme", "reader"))
        assert reader.status_code == 403 and "writer" in reader.json()["detail"]
        assert watch(agent, "no-such-run", proc.pid, agent.writer).status_code == 404
        # the real watch, then others try to end it
        assert watch(agent, run_id, proc.pid, agent.writer).status_code == 201
        assert httpx.delete(f"{agent.url}/api/v1/watches/{run_id}").status_code == 401
        assert httpx.delete(f"{agent.url}/api/v1/watches/{run_id}", headers=agent.other).status_code == 403
        assert httpx.delete(f"{agent.url}/api/v1/watches/{run_id}", headers=agent.writer).status_code == 200
        # a finished run is not followed any more
        httpx.post(
            f"{agent.central}/api/v1/runs/{run_id}/state", json={"state": "finished"}, headers=agent.writer
        )
        over = watch(agent, run_id, proc.pid, agent.writer)
        assert over.status_code == 409 and "finished" in over.json()["detail"]
    finally:
        proc.kill()
        proc.wait()


def test_results_cannot_be_posted_to_the_agent_and_bodies_are_bounded(agent: Agent) -> None:
    # before: POST /api/v1/results took any org's results at any timestamp into VictoriaMetrics
    forged = {"run_id": "x", "org": "rival", "results": [{"benchmark": "B", "measure": "time", "unit": "s",
                                                          "value": 1}]}  # fmt: skip
    assert httpx.post(f"{agent.url}/api/v1/results", json=forged).status_code in (404, 405)
    huge = b'{"run_id": "' + b"x" * (200 * 1024) + b'"}'
    response = httpx.post(
        f"{agent.url}/api/v1/watches",
        content=huge,
        headers={**agent.writer, "content-type": "application/json"},
    )
    assert response.status_code == 413 and "over 65536 bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b" " * 4096

    chunked = httpx.post(f"{agent.url}/api/v1/watches", content=chunks(), headers=agent.writer)
    assert chunked.status_code == 413


def test_an_agent_without_central_follows_nothing(tmp_path: Path) -> None:
    with serve_app(create_app(AgentSettings(hostname="solo", state_dir=tmp_path))) as url:
        body = {"run_id": "r", "project": "p", "target": "t", "commit": "c", "pid": os.getpid()}
        response = httpx.post(f"{url}/api/v1/watches", json=body, headers={"Authorization": "Bearer x"})
        assert response.status_code == 503 and "BENCHHUB_AGENT_CENTRAL_URL" in response.json()["detail"]
        assert httpx.get(f"{url}/metrics").status_code == 200


def _watched_scrape(agent: Agent) -> str:
    run_id = agent.run()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert watch(agent, run_id, proc.pid, agent.writer).status_code == 201
        return httpx.get(f"{agent.url}/metrics").text
    finally:
        proc.kill()
        proc.wait()


def test_exposed_names_are_all_in_the_catalog(agent: Agent) -> None:
    text = _watched_scrape(agent)
    names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert "benchhub_run_memory_rss_bytes" in names
    assert names <= {spec.name for spec in CATALOG}, names - {spec.name for spec in CATALOG}
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["benchhub_agent_collector_success"].samples[0].value == 1.0


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool: apt-get install prometheus")
def test_promtool_check_metrics_passes_on_a_real_scrape(agent: Agent) -> None:
    text = _watched_scrape(agent)
    assert "benchhub_run_memory_rss_bytes{" in text
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
