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


def agent(client: TestClient, org: str = "acme") -> dict[str, str]:
    """An agent token of ``org``: the only kind that registers nodes and heartbeats."""
    return org_token(client, org, role="agent", name="agent")


def test_register_is_idempotent_and_heartbeats_keep_a_node_up(client: TestClient) -> None:
    clock = client.app.state.clock = Clock()  # type: ignore[attr-defined]
    first = client.put("/api/v1/nodes/n1", json=body(), headers=agent(client))
    assert first.status_code == 200
    node = first.json()
    assert (node["state"], node["org"], node["remote"], node["memory_bytes"]) == (
        "up",
        "acme",
        "testclient",
        24 << 30,
    )
    again = client.put("/api/v1/nodes/n1", json=body(hostname="bench-1b"), headers=agent(client)).json()
    assert again["hostname"] == "bench-1b" and again["registered_at"] == node["registered_at"]
    assert client.get("/api/v1/nodes").json()["count"] == 1
    clock.now += timedelta(seconds=25)
    assert client.post("/api/v1/nodes/n1/heartbeat", headers=agent(client)).json()["state"] == "up"
    clock.now += timedelta(seconds=29)  # under 3 intervals since the last heartbeat
    assert client.get("/api/v1/nodes").json()["data"][0]["state"] == "up"


def test_a_silent_node_becomes_lost_and_comes_back(client: TestClient) -> None:
    clock = client.app.state.clock = Clock()  # type: ignore[attr-defined]
    client.put("/api/v1/nodes/n2", json=body(), headers=agent(client))
    clock.now += timedelta(seconds=31)
    assert [n["state"] for n in client.get("/api/v1/nodes").json()["data"]] == ["lost"]
    assert client.get("/api/v1/sd/agents").json() == []
    assert client.post("/api/v1/nodes/n2/heartbeat", headers=agent(client)).json()["state"] == "up"
    events = client.get("/api/v1/nodes/n2/events").json()["data"]
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (None, "up", "token:agent"), ("up", "lost", "central"), ("lost", "up", "token:agent"),
    ]  # fmt: skip


def test_service_discovery_lists_live_agents_with_meta_labels(client: TestClient) -> None:
    client.app.state.clock = Clock()  # type: ignore[attr-defined]
    other = org_token(client, "other", role="reader")
    client.put("/api/v1/nodes/a", json=body(bind="127.0.0.1:9465"), headers=agent(client))
    client.put(
        "/api/v1/nodes/b",
        json=body(bind="0.0.0.0:9500", org=None, hostname="bench-2"),
        headers=agent(client, "other"),
    )
    client.put(
        "/api/v1/nodes/c",
        json=body(bind="0.0.0.0:9600", ip="10.1.2.3", role="monitor"),
        headers=agent(client),
    )
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
    other = agent(client, "other")
    named = client.put("/api/v1/nodes/x", json=body(org="acme"), headers=other)
    assert (
        named.status_code == 400 and "belongs to organization 'other', not 'acme'" in named.json()["detail"]
    )
    assert client.put("/api/v1/nodes/x", json=body(org=None), headers=other).json()["org"] == "other"
    taken = client.put(
        "/api/v1/nodes/x", json=body(), headers=agent(client)
    )  # acme cannot take over other's node
    assert taken.status_code == 404 and "taken" in taken.json()["detail"]
    assert client.post("/api/v1/nodes/x/heartbeat", headers=agent(client)).status_code == 404
    assert client.get("/api/v1/nodes/x/events").status_code == 404
    reader = org_token(client, "other", role="reader")
    assert client.post("/api/v1/nodes/x/heartbeat", headers=reader).status_code == 403


def test_bad_node_requests(client: TestClient) -> None:
    missing = client.post("/api/v1/nodes/ghost/heartbeat", headers=agent(client))
    assert missing.status_code == 404 and "PUT /api/v1/nodes/ghost" in missing.json()["detail"]
    bad = client.put("/api/v1/nodes/n", json=body(bind="no-port"), headers=agent(client))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("body.bind:")
    naive = client.put("/api/v1/nodes/n", json=body(started_at="2026-11-24T06:00:00"), headers=agent(client))
    assert naive.status_code == 422 and "started_at" in naive.json()["detail"]


def test_node_addresses_are_validated(client: TestClient) -> None:
    # before: any text was stored as the ip and handed to vmagent (an error every 5 s per node)
    token = agent(client)
    for bad in ('10.0.0.1"}', "999.1.1.1", "not an ip", "0.0.0.0", "224.0.0.1", "::"):
        refused = client.put("/api/v1/nodes/n", json=body(ip=bad), headers=token)
        assert refused.status_code == 422 and refused.json()["detail"].startswith("body.ip:"), bad
    for bad in ("host name:9465", "h:0", "h:70000", "bad_host!:1"):
        refused = client.put("/api/v1/nodes/n", json=body(bind=bad), headers=token)
        assert refused.status_code == 422 and refused.json()["detail"].startswith("body.bind:"), bad
    fine = client.put(
        "/api/v1/nodes/n", json=body(ip=" 10.0.0.7 ", bind="bench-1.example.com:9465"), headers=token
    )
    assert fine.status_code == 200 and fine.json()["ip"] == "10.0.0.7"
    assert client.get("/api/v1/sd/agents").json()[0]["targets"] == ["10.0.0.7:9465"]
