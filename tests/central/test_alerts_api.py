"""Alerts vmalert posts (Alertmanager API v2 format), stored per org and listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.central.conftest import ADMIN, org_token
from tests.central.test_nodes_api import Clock

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
URL = "/api/v1/alertmanager/api/v2/alerts"


def alert(benchmark: str, org: str = "acme", ends: datetime | None = None) -> dict[str, object]:
    return {"labels": {"alertname": "BenchmarkRegression", "org": org, "benchmark": benchmark, "branch": "main"},
            "annotations": {"summary": f"{benchmark} regressed"}, "startsAt": T0.isoformat(),
            "endsAt": (ends or T0 + timedelta(minutes=4)).isoformat(), "generatorURL": "http://vmalert/x"}  # fmt: skip


def test_alerts_are_stored_once_per_label_set_and_resolve(client: TestClient) -> None:
    client.app.state.clock = Clock()  # type: ignore[attr-defined]
    writer = org_token(client, "acme", "writer")
    sent = client.post(
        URL, json=[alert("BenchA"), alert("BenchB"), alert("BenchC", org="other")], headers=writer
    )
    assert sent.json() == {"received": 3, "stored": 2, "refused": 1}
    assert client.post(URL, json=[alert("BenchA")], headers=writer).json()["stored"] == 1  # again: same row
    firing = client.get("/api/v1/alerts", params={"state": "firing"}).json()
    assert firing["count"] == 2 and {a["labels"]["benchmark"] for a in firing["data"]} == {"BenchA", "BenchB"}
    assert firing["data"][0]["annotations"]["summary"].endswith("regressed")
    client.post(URL, json=[alert("BenchA", ends=T0 - timedelta(seconds=1))], headers=writer)  # resolved
    client.app.state.clock.now = T0 + timedelta(minutes=1)  # type: ignore[attr-defined]
    assert [a["labels"]["benchmark"] for a in client.get("/api/v1/alerts?state=firing").json()["data"]] == [
        "BenchB"
    ]
    client.app.state.clock.now = T0 + timedelta(minutes=5)  # type: ignore[attr-defined]
    # vmalert stopped refreshing BenchB: its endsAt passed, so it is resolved too
    assert client.get("/api/v1/alerts?state=firing").json()["count"] == 0
    assert {a["state"] for a in client.get("/api/v1/alerts").json()["data"]} == {"resolved"}


def test_the_bootstrap_token_routes_alerts_by_their_org_label(client: TestClient) -> None:
    client.app.state.clock = Clock()  # type: ignore[attr-defined]
    other = org_token(client, "other", "reader")
    sent = client.post(
        URL, json=[alert("BenchA"), alert("BenchB", org="other"), alert("X", org="nope")], headers=ADMIN
    )
    assert sent.json() == {"received": 3, "stored": 2, "refused": 1}
    assert [a["labels"]["benchmark"] for a in client.get("/api/v1/alerts").json()["data"]] == ["BenchA"]
    assert [a["labels"]["benchmark"] for a in client.get("/api/v1/alerts", headers=other).json()["data"]] == [
        "BenchB"
    ]
    denied = client.post(URL, json=[alert("BenchA")], headers=other)
    assert denied.status_code == 403 and "writer" in denied.json()["detail"]
