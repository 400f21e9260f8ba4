"""Tokens, roles and organization isolation, checked over central's whole route table."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.auth import BOOTSTRAP, TokenCache
from central.settings import CentralSettings
from tests.central.conftest import ADMIN, org_token
from tests.central.test_jobs_api import job
from tests.central.test_nodes_api import body as node_body
from tests.central.test_runs_api import RESULT, RUN
from tests.servers import serve_app

PUBLIC = {"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# A valid body per write route: a request must get past validation to reach the org check.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/runs"): {**RUN, "org": None},
    ("POST", "/api/v1/runs/{run_id}/state"): {"state": "finished"},
    ("POST", "/api/v1/runs/{run_id}/results"): {"results": [RESULT]},
    ("POST", "/api/v1/runs/{run_id}/reexport"): None,
    ("PUT", "/api/v1/nodes/{node_id}"): node_body(org=None),
    ("POST", "/api/v1/nodes/{node_id}/heartbeat"): None,
    ("POST", "/api/v1/users"): {"name": "mallory"},
    ("POST", "/api/v1/tokens"): {"name": "x", "role": "reader"},
    ("DELETE", "/api/v1/tokens/{token_id}"): None,
    ("POST", "/api/v1/admin/orgs"): {"name": "neworg"},
    ("PUT", "/api/v1/backup/target"): {"bucket": "acme-bucket"},
    ("POST", "/api/v1/backups"): None,
    ("POST", "/api/v1/backups/{timestamp}/restore"): None,
    ("POST", "/api/v1/alertmanager/api/v2/alerts"): [{"labels": {"alertname": "BenchmarkRegression"}}],
    ("POST", "/api/v1/admin/orgs/{org}/tokens"): {"name": "x"},
    ("POST", "/api/v1/regressions/{regression_id}/ack"): {"reason": "mine now"},
    ("POST", "/api/v1/jobs"): job(),
    ("POST", "/api/v1/runs/{run_id}/events"): {"stage": "db", "state": "ready"},
    ("POST", "/api/v1/nodes/{node_id}/drain"): None,
    ("POST", "/api/v1/nodes/{node_id}/resume"): None,
    ("POST", "/api/v1/jobs/claim"): {"node_id": "other-node"},
    ("POST", "/api/v1/jobs/{run_id}/heartbeat"): None,
    ("POST", "/api/v1/runs/{run_id}/cancel"): None,
    ("POST", "/api/v1/runs/{run_id}/output"): None,  # text, at ?offset=
}


def routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every operation central serves (its OpenAPI document)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(m.upper(), path) for path, ops in paths.items() if path not in PUBLIC for m in sorted(ops)]


def call(client: TestClient, method: str, path: str, ids: dict[str, str], **kw: Any) -> Any:
    url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
    body = BODIES.get((method, path))
    return client.request(method, url, json=body, **kw)


@pytest.fixture
def other(client: TestClient) -> dict[str, str]:
    """Org 'other' with one of everything; returns the ids of its objects."""
    token = org_token(client, "other")
    run = client.post("/api/v1/runs", json={**RUN, "org": None}, headers=token).json()
    client.post(f"/api/v1/runs/{run['id']}/results", json={"results": [RESULT]}, headers=token)
    registered = client.put(
        "/api/v1/nodes/other-node", json=node_body(org=None), headers=org_token(client, "other", "agent")
    )
    assert registered.status_code == 200, registered.text
    listed = client.get("/api/v1/tokens", headers=token).json()["data"]
    regression = _regression_of(client, run["id"])
    return {"run_id": run["id"], "node_id": "other-node", "token_id": str(listed[0]["id"]), "org": "other",
            "timestamp": "20260101T000000Z", "regression_id": str(regression)}  # fmt: skip


def _regression_of(client: TestClient, run_id: str) -> int:
    """An open regression of the run's org, stored directly (a real one takes a history of runs:
    tests/central/test_regressions_api.py)."""
    from central.models import Regression, Run

    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        run = session.get(Run, run_id)
        assert run is not None
        row = Regression(
            org_id=run.project.org_id, project_id=run.project_id, target=run.target, branch="main",
            benchmark="Parse", measure="time", labels={}, series_key="k", unit="ns", direction="lower",
            state="open", commit=run.commit, previous_commit=None, run_id=run.id, before=1.0, after=1.2,
            change=0.2, change_low=0.1, change_high=0.3, p_value=0.001, runs_before=10, runs_after=10,
        )  # fmt: skip
        session.add(row)
        session.commit()
        return row.id


def test_every_route_but_health_needs_a_token(client: TestClient) -> None:
    table = routes(client)
    assert len(table) >= 20  # the table is really read
    for method, path in table:
        ids = {"run_id": "r", "node_id": "n", "token_id": "1", "org": "acme", "timestamp": "20260101T000000Z",
               "regression_id": "1"}  # fmt: skip
        for headers in (
            {"Authorization": ""},
            {"Authorization": "Bearer bhub_forged"},
            {"Authorization": "Basic x"},
        ):
            response = call(client, method, path, ids, headers=headers)
            assert response.status_code == 401, f"{method} {path} with {headers}: {response.status_code}"
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/healthz", headers={"Authorization": ""}).status_code == 200


def test_a_token_never_reaches_another_orgs_objects(client: TestClient, other: dict[str, str]) -> None:
    checked = 0
    agent = org_token(client, "acme", "agent")  # node writes take an agent token (acme's here)
    for method, path in routes(client):
        assert path.startswith("/api/v1/admin/") or (method, path) in BODIES or method == "GET", (
            f"{method} {path}: add a valid body to BODIES so the isolation test reaches it"
        )
        if path.startswith(("/api/v1/backup", "/api/v1/backups")):  # another org's backups: ?org=other
            response = call(client, method, path, other, params={"org": "other"})
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
        elif path == "/api/v1/history":  # other's series, named by acme (other's run is still running)
            params = {"project": RUN["project"], "target": RUN["target"], "benchmark": RESULT["benchmark"],
                      "measure": RESULT["measure"], "branch": RUN["branch"]}  # fmt: skip
            response = call(client, method, path, other, params=params)
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
        elif path == "/api/v1/compare":  # other's run named as base and head
            params = {"base": other["run_id"], "head": f"run:{other['run_id']}"}
            response = call(client, method, path, other, params=params)
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
        elif path == "/api/v1/jobs/claim":  # acme's agent claiming as other's node
            response = call(client, method, path, other, headers=agent)
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
        elif path.startswith("/api/v1/admin/"):
            response = call(client, method, path, other)  # acme's admin token is no bootstrap token
            assert response.status_code == 403, f"{method} {path}: {response.status_code}"
        elif "{" in path:  # an object of org 'other', addressed with acme's admin (or agent) token
            node_write = path.startswith("/api/v1/nodes/") and method != "GET" and "drain" not in path
            node_write = node_write and not path.endswith("/resume")  # drain and resume: an org admin's
            extra: dict[str, Any] = {"headers": agent} if node_write else {}
            if path.endswith("/output") and method == "POST":
                extra["params"] = {"offset": "0"}
            response = call(client, method, path, other, **extra)
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
        else:  # lists and creations: acme's own, never other's
            response = call(client, method, path, other)
            assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
            text = response.text
            assert other["run_id"] not in text and "other-node" not in text and '"other"' not in text, (
                f"{method} {path} shows org 'other': {text[:300]}"
            )
        checked += 1
    assert checked == len(routes(client))
    # and other's objects are still there, untouched, for other
    token = org_token(client, "other", role="reader")
    run = client.get(f"/api/v1/runs/{other['run_id']}", headers=token).json()
    assert run["state"] == "running" and run["org"] == "other"
    assert client.get(f"/api/v1/runs/{other['run_id']}/results", headers=token).json()["count"] == 1


def test_roles(client: TestClient) -> None:
    reader, writer = org_token(client, "acme", "reader"), org_token(client, "acme", "writer")
    denied = client.post("/api/v1/runs", json=RUN, headers=reader)
    assert denied.status_code == 403 and denied.json()["detail"] == (
        "this needs a writer token of the org; yours is a reader token"
    )
    run = client.post("/api/v1/runs", json=RUN, headers=writer).json()
    assert client.get(f"/api/v1/runs/{run['id']}", headers=reader).status_code == 200
    assert client.post("/api/v1/tokens", json={"name": "x"}, headers=writer).status_code == 403
    assert client.get("/api/v1/runs", headers=ADMIN).status_code == 403  # bootstrap: orgs and tokens only
    # a node is a scrape target stored as the org's: only an agent token registers one, and it
    # does nothing else (before: any writer token registered any address)
    agent = org_token(client, "acme", "agent")
    for token in (writer, org_token(client, "acme", "admin")):
        refused = client.put("/api/v1/nodes/n1", json=node_body(org=None), headers=token)
        assert refused.status_code == 403 and "needs an agent token" in refused.json()["detail"]
    assert client.put("/api/v1/nodes/n1", json=node_body(org=None), headers=agent).status_code == 200
    assert client.post("/api/v1/runs", json=RUN, headers=agent).status_code == 403
    assert client.get("/api/v1/runs", headers=agent).status_code == 403
    events = client.get(f"/api/v1/runs/{run['id']}/events").json()["data"]
    assert events[0]["actor"] == "token:test"


def test_tokens_are_stored_hashed_shown_once_and_revocable(client: TestClient) -> None:
    created = client.post("/api/v1/tokens", json={"name": "ci", "role": "writer", "user": "alice"}).json()
    secret = created["token"]
    assert secret.startswith("bhub_") and len(secret) > 40 and secret.startswith(created["prefix"])
    assert created["user"] == "alice" and created["created_by"] == "token:test"
    listed = client.get("/api/v1/tokens").json()["data"]
    assert secret not in str(listed) and all("token" not in t for t in listed)
    assert [u["name"] for u in client.get("/api/v1/users").json()["data"]] == ["alice"]
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        from central.models import ApiToken

        stored = [row.token_hash for row in session.query(ApiToken)]
    assert secret not in stored and len(stored) == 2 and all(len(h) == 64 for h in stored)
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/whoami", headers=mine).json() == {
        "org": "acme", "role": "writer", "actor": "user:alice",
    }  # fmt: skip
    assert client.post("/api/v1/runs", json=RUN, headers=mine).status_code == 201
    revoked = client.delete(f"/api/v1/tokens/{created['id']}").json()
    assert revoked["revoked_at"] is not None
    refused = client.get("/api/v1/whoami", headers=mine)
    assert refused.status_code == 401 and "unknown or revoked" in refused.json()["detail"]


def test_bootstrap_token_manages_orgs(client: TestClient) -> None:
    assert client.post("/api/v1/admin/orgs", json={"name": "beta"}, headers=ADMIN).status_code == 201
    again = client.post("/api/v1/admin/orgs", json={"name": "beta"}, headers=ADMIN)
    assert again.status_code == 409 and again.json()["detail"] == "organization 'beta' exists already"
    names = [o["name"] for o in client.get("/api/v1/admin/orgs", headers=ADMIN).json()["data"]]
    assert names == ["acme", "beta"]
    missing = client.post("/api/v1/admin/orgs/nope/tokens", json={"name": "x"}, headers=ADMIN)
    assert missing.status_code == 404 and "bhubctl admin orgs create nope" in missing.json()["detail"]
    assert client.get("/api/v1/whoami", headers=ADMIN).json() == {
        "org": None, "role": "admin", "actor": "admin-token",
    }  # fmt: skip


def test_run_body_naming_another_org_is_refused(client: TestClient) -> None:
    refused = client.post("/api/v1/runs", json={**RUN, "org": "other"})
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("org: this token belongs to organization 'acme', not 'other'")


def test_without_a_bootstrap_token_admin_routes_are_closed(database_url: str) -> None:
    from central.app import create_app
    from central.settings import CentralSettings

    app = create_app(CentralSettings(database_url=database_url))
    with TestClient(app) as bare:
        response = bare.get("/api/v1/admin/orgs", headers=ADMIN)
        assert response.status_code == 401
    app.state.engine.dispose()


def test_token_cache_expires_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("central.auth.time.monotonic", lambda: now[0])
    cache = TokenCache(ttl=10, size=2)
    cache.put("a", BOOTSTRAP)
    assert cache.get("a") is BOOTSTRAP
    now[0] += 10.5
    assert cache.get("a") is None
    cache.put("b", BOOTSTRAP)
    cache.put("c", BOOTSTRAP)
    cache.put("d", BOOTSTRAP)  # {a (expired), b} was full when c came: emptied first
    assert [cache.get(k) for k in "bcd"] == [None, BOOTSTRAP, BOOTSTRAP]


def test_many_concurrent_requests_do_not_exhaust_the_pool(settings: CentralSettings) -> None:
    # 120 requests at once on a real server: more than worker threads and pooled connections.
    app = create_app(settings)
    with serve_app(app) as url:
        with httpx.Client(base_url=url) as setup:
            token = org_token(setup, "acme", role="writer")

        async def burst() -> list[int]:
            limits = httpx.Limits(max_connections=120)
            async with httpx.AsyncClient(base_url=url, timeout=60, headers=token, limits=limits) as client:
                calls = [client.get("/api/v1/runs") if i % 2 else client.post("/api/v1/runs", json=RUN)
                         for i in range(120)]  # fmt: skip
                return [r.status_code for r in await asyncio.gather(*calls)]

        codes = asyncio.run(burst())
    app.state.engine.dispose()
    assert sorted(set(codes)) == [200, 201] and len(codes) == 120
