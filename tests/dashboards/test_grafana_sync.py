"""bhubctl grafana sync: Grafana orgs, datasources and dashboards through grafana-client."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from central.app import create_app
from central.settings import CentralSettings
from cli.grafana import DASHBOARDS
from tests.dashboards.conftest import load
from tests.grafana_fake import FakeGrafana, fake_grafana
from tests.servers import serve_app

ADMIN_TOKEN = "grafana-sync-test-bootstrap"


def sync(central: str, grafana: str, auth: str = "admin:s3cret") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCHHUB_CENTRAL_URL": central, "BENCHHUB_ADMIN_TOKEN": ADMIN_TOKEN,
           "BENCHHUB_GRAFANA_URL": grafana, "BENCHHUB_GRAFANA_AUTH": auth,
           "BENCHHUB_GRAFANA_VM_URL": "http://vm:8428", "COLUMNS": "200"}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "cli.main", "grafana", "sync"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_sync_makes_an_org_per_benchhub_org_and_is_idempotent(tmp_path: Path) -> None:
    app = create_app(CentralSettings(database_url=f"sqlite:///{tmp_path / 'c.db'}", admin_token=ADMIN_TOKEN))
    admin = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    try:
        # Grafana cannot be installed here: a fake of its HTTP API stands in (tests/grafana_fake.py).
        with fake_grafana(expected_auth=admin) as grafana, serve_app(app) as central:
            for name in ("acme", "beta"):
                httpx.post(f"{central}/api/v1/admin/orgs", json={"name": name},
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).raise_for_status()  # fmt: skip
            first = sync(central, grafana)
            assert first.returncode == 0, first.stderr
            assert (
                "synced 2 organizations (created: acme, beta): 2 datasources, 10 dashboards" in first.stdout
            )
            again = sync(central, grafana)
            assert again.returncode == 0 and "synced 2 organizations: 2 datasources" in again.stdout
            refused = sync(central, grafana, auth="admin:wrong")
            unreachable = sync(central, "http://127.0.0.1:1")
    finally:
        app.state.engine.dispose()
    assert FakeGrafana.orgs == {"acme": 2, "beta": 3}
    uids = sorted(p.stem for p in DASHBOARDS.glob("*.json"))
    for org, org_id in FakeGrafana.orgs.items():
        state = FakeGrafana.state[org_id]
        source = state["datasources"]["benchhub-vm"]
        assert source["jsonData"]["customQueryParameters"] == f"extra_label=org={org}"
        assert source["url"] == "http://vm:8428" and source["type"] == "prometheus"
        assert sorted(state["dashboards"]) == uids and list(state["folders"]) == ["benchhub"]
    assert (
        sum(c.startswith("PUT /api/datasources/uid/") for c in FakeGrafana.calls) == 2
    )  # the 2nd run updates
    assert refused.returncode != 0 and "(401)" in refused.stderr and "server admin" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert unreachable.returncode != 0 and "not reachable" in unreachable.stderr


def test_the_datasources_extra_label_keeps_an_org_to_its_series(seeded_vm: str) -> None:
    load(seeded_vm, [f'benchhub_host_load1{{org="beta",instance="b:9465"}} 3 {int(time.time()) * 1000}\n'])

    def orgs(extra: str) -> set[str]:
        response = httpx.get(
            f"{seeded_vm}/api/v1/query", params={"query": "benchhub_host_load1", "extra_label": extra}
        )
        return {s["metric"]["org"] for s in response.json()["data"]["result"]}

    deadline = time.monotonic() + 30  # a new series can take VictoriaMetrics' caches a moment
    while not orgs("org=beta") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert orgs("org=acme") == {"acme"} and orgs("org=beta") == {"beta"}
