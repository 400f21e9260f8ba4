"""Nodes: registration, heartbeats, the lost sweep, their history and HTTP service discovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.central.conftest import ADMIN, org_token

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def body(**overrides: object) -> dict[str, object]:
    return {"org": "acme", "hostname": "bench-1", "bind": "0.0.0.0:9465", "started_at": T0.isoformat(),
            "boot_time": (T0 - timedelta(days=1)).isoformat(), "cpus": 2, "memory_bytes": 24 << 30,
            "heartbeat_seconds": 10} | overrides  # fmt: skip


def test_register_is_idempotent_and_heartbeats_keep_a_node_up(client: TestClient) -> None:
    clock = client.app.state.clock = Clock()  # type: ignore[attr-defined]
    first = client.put("/api/v1/nodes/n1", json=body())
    assert first.status_code == 200
    node = first.json()
    assert (node["state"], node["org"], node["remote"], node["memory_bytes"]) == (
        "up",
        "acme",
        "testclient",
        24 << 30,
    )
    again = client.put("/api/v1/nodes/n1", json=body(hostname="bench-1b")).json()
    assert again["hostname"] == "bench-1b" and again["registered_at"] == node["registered_at"]
    assert client.get("/api/v1/nodes").json()["count"] == 1
    clock.now += timedelta(seconds=25)
    assert client.post("/api/v1/nodes/n1/heartbeat").json()["state"] == "up"
    clock.now += timedelta(seconds=29)  # under 3 intervals since the last heartbeat
    assert client.get("/api/v1/nodes").json()["data"][0]["state"] == "up"


def test_a_silent_node_becomes_lost_and_comes_back(client: TestClient) -> None:
    clock = client.app.state.clock = Clock()  # type: ignore[attr-defined]
    client.put("/api/v1/nodes/n2", json=body())
    clock.now += timedelta(seconds=31)
    assert [n["state"] for n in client.get("/api/v1/nodes").json()["data"]] == ["lost"]
    assert client.get("/api/v1/sd/agents").json() == []
    assert client.post("/api/v1/nodes/n2/heartbeat").json()["state"] == "up"
    events = client.get("/api/v1/nodes/n2/events").json()["data"]
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (None, "up", "token:test"), ("up", "lost", "central"), ("lost", "up", "token:test"),
    ]  # fmt: skip


def test_service_discovery_lists_live_agents_with_meta_labels(client: TestClient) -> None:
    client.app.state.clock = Clock()  # type: ignore[attr-defined]
    other = org_token(client, "other", role="writer")
    client.put("/api/v1/nodes/a", json=body(bind="127.0.0.1:9465"))
    client.put("/api/v1/nodes/b", json=body(bind="0.0.0.0:9500", org=None, hostname="bench-2"), headers=other)
    client.put("/api/v1/nodes/c", json=body(bind="0.0.0.0:9600", ip="10.1.2.3", role="monitor"))
    everyone = client.get("/api/v1/sd/agents", headers=ADMIN).json()  # the stack's vmagent: every org
    assert [g["targets"] for g in everyone] == [["127.0.0.1:9465"], ["testclient:9500"], ["10.1.2.3:9600"]]
    assert everyone[1]["labels"] == {
        "__meta_benchhub_org": "other", "__meta_benchhub_node": "b", "__meta_benchhub_hostname": "bench-2",
        "__meta_benchhub_role": "runner", "__meta_benchhub_provider": "local",
    }  # fmt: skip
    assert [g["targets"] for g in client.get("/api/v1/sd/agents").json()] == [
        ["127.0.0.1:9465"],
        ["10.1.2.3:9600"],
    ]
    assert [g["targets"] for g in client.get("/api/v1/sd/agents", headers=other).json()] == [
        ["testclient:9500"]
    ]
    assert client.get("/api/v1/nodes", params={"state": "lost"}).json()["count"] == 0


def test_node_org_comes_from_the_token(client: TestClient) -> None:
    other = org_token(client, "other", role="writer")
    named = client.put("/api/v1/nodes/x", json=body(org="acme"), headers=other)
    assert (
        named.status_code == 400 and "belongs to organization 'other', not 'acme'" in named.json()["detail"]
    )
    assert client.put("/api/v1/nodes/x", json=body(org=None), headers=other).json()["org"] == "other"
    taken = client.put("/api/v1/nodes/x", json=body())  # acme cannot take over other's node
    assert taken.status_code == 404 and "taken" in taken.json()["detail"]
    assert client.post("/api/v1/nodes/x/heartbeat").status_code == 404
    assert client.get("/api/v1/nodes/x/events").status_code == 404
    reader = org_token(client, "other", role="reader")
    assert client.post("/api/v1/nodes/x/heartbeat", headers=reader).status_code == 403


def test_bad_node_requests(client: TestClient) -> None:
    missing = client.post("/api/v1/nodes/ghost/heartbeat")
    assert missing.status_code == 404 and "PUT /api/v1/nodes/ghost" in missing.json()["detail"]
    bad = client.put("/api/v1/nodes/n", json=body(bind="no-port"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("body.bind:")
    naive = client.put("/api/v1/nodes/n", json=body(started_at="2026-11-24T06:00:00"))
    assert naive.status_code == 422 and "started_at" in naive.json()["detail"]
