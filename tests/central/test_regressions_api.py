"""Regressions opened, fixed and acknowledged from run histories (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from central import regression_repository, regressions
from central.app import create_app
from central.models import Regression, Run
from central.settings import CentralSettings
from tests.central.conftest import ADMIN, org_token
from tests.central.test_compare_api import record
from tests.servers import victoria_metrics


def history(client: TestClient, levels: list[float], branch: str = "main", seed: int = 1,
            headers: dict[str, str] | None = None, start: int = 0) -> list[str]:  # fmt: skip
    """One run per level (commits c<start>, c<start+1>, ...), 1% noise; the commits, oldest first."""
    rng = np.random.default_rng(seed)
    commits = []
    for i, level in enumerate(levels, start):
        commit = f"c{i:03d}" + "0" * 36
        value = float(level * (1 + rng.normal(0, 0.01)))
        record(client, commit, [{"benchmark": "Parse", "measure": "time", "unit": "ns", "value": value}],
               branch=branch, headers=headers)  # fmt: skip
        commits.append(commit)
    return commits


def test_a_slowdown_opens_one_regression_naming_its_commit_and_a_fix_closes_it(client: TestClient) -> None:
    commits = history(client, [100.0] * 30 + [115.0] * 20)
    (regression,) = client.get("/api/v1/regressions").json()["data"]
    assert regression["state"] == "open" and regression["commit"] == commits[30]
    assert regression["previous_commit"] == commits[29]
    assert (
        regression["benchmark"] == "Parse"
        and regression["measure"] == "time"
        and regression["branch"] == "main"
    )
    assert 0.12 < regression["change"] < 0.18
    assert regression["change_low"] < regression["change"] < regression["change_high"]
    assert regression["before"] < regression["after"] and regression["p_value"] < 1e-6
    # the fix: back to 100 from commit c050 on
    fix = history(client, [100.0] * 20, seed=2, start=50)
    listed = client.get("/api/v1/regressions").json()["data"]
    assert len(listed) == 1 and listed[0]["state"] == "fixed" and listed[0]["fixed_commit"] == fix[0]
    events = client.get(f"/api/v1/regressions/{regression['id']}/events").json()["data"]
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (None, "open", "central"), ("open", "fixed", "central")
    ]  # fmt: skip


def test_history_of_one_series_oldest_first(client: TestClient) -> None:
    commits = history(client, [100.0] * 5)
    params = {"project": "shop", "target": "strings", "benchmark": "Parse", "measure": "time"}
    found = client.get("/api/v1/history", params=params).json()
    assert [p["commit"] for p in found["data"]] == commits and found["labels"] == {}
    assert client.get("/api/v1/history", params={**params, "limit": 2}).json()["count"] == 2
    record(client, "d" * 40, [{"benchmark": "Parse", "measure": "time", "unit": "ns", "value": 1.0,
                               "labels": {"procs": "8"}}])  # fmt: skip
    several = client.get("/api/v1/history", params=params)
    assert several.status_code == 409 and "several label sets" in several.json()["detail"]
    one = client.get("/api/v1/history", params={**params, "labels": "procs=8"}).json()
    assert one["count"] == 1 and one["labels"] == {"procs": "8"}
    missing = client.get("/api/v1/history", params={**params, "benchmark": "Nope"})
    assert missing.status_code == 404 and "bhubctl runs list" in missing.json()["detail"]
    assert client.get("/api/v1/history", params={**params, "labels": "procs"}).status_code == 400


def test_an_unwatched_branch_opens_none_and_noise_opens_none(client: TestClient) -> None:
    history(client, [100.0] * 30 + [115.0] * 20, branch="feature-x")
    history(client, [100.0] * 60, seed=3)
    assert client.get("/api/v1/regressions").json()["count"] == 0


def test_acknowledge_is_an_event_with_who_and_why(client: TestClient) -> None:
    history(client, [100.0] * 30 + [80.0] * 5 + [130.0] * 20)  # faster first (no regression), then slower
    (regression,) = client.get("/api/v1/regressions", params={"state": "open"}).json()["data"]
    acked = client.post(
        f"/api/v1/regressions/{regression['id']}/ack", json={"reason": "expected: new feature"}
    )
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    again = client.post(f"/api/v1/regressions/{regression['id']}/ack", json={"reason": "twice"})
    assert again.status_code == 409
    assert client.get("/api/v1/regressions", params={"state": "open"}).json()["count"] == 0
    events = client.get(f"/api/v1/regressions/{regression['id']}/events").json()["data"]
    assert events[-1]["to_state"] == "acknowledged" and events[-1]["reason"] == "expected: new feature"
    assert events[-1]["actor"] == "token:test"
    metrics = client.get("/metrics", headers=ADMIN).text
    assert "benchhub_regressions_open" in metrics and 'benchmark="Parse"' not in metrics


def test_open_regressions_are_on_metrics_and_other_orgs_see_none(client: TestClient) -> None:
    other = org_token(client, "globex")
    history(client, [100.0] * 30 + [115.0] * 20, headers=other)
    theirs = client.get("/api/v1/regressions", headers=other).json()["data"]
    assert len(theirs) == 1
    assert client.get("/api/v1/regressions").json()["count"] == 0
    assert client.get(f"/api/v1/regressions/{theirs[0]['id']}").status_code == 404
    assert client.post(f"/api/v1/regressions/{theirs[0]['id']}/ack", json={"reason": "x"}).status_code == 404
    assert client.get(f"/api/v1/regressions/{theirs[0]['id']}/events").status_code == 404
    metrics = client.get("/metrics", headers=ADMIN).text
    line = next(x for x in metrics.splitlines() if x.startswith("benchhub_regressions_open{"))
    assert 'org="globex"' in line and 'benchmark="Parse"' in line and line.endswith(" 1.0")


def test_a_regression_placed_again_moves_its_marker(settings: CentralSettings, tmp_path: Path) -> None:
    # a half step at c030 (108 between 100 and 115): with few runs after it the change point is
    # placed at c030, with more at c031 (seed 3); VictoriaMetrics must then hold one marker, at c031
    with victoria_metrics(tmp_path) as vm:
        app = create_app(settings.model_copy(update={"vm_url": vm}))
        with TestClient(app) as client:
            client.headers.update(org_token(client, "acme"))
            commits = history(client, [100.0] * 30 + [108.0] + [115.0] * 10, seed=3)
            (first,) = client.get("/api/v1/regressions").json()["data"]
            assert first["commit"] == commits[30] and _markers(vm, [commits[30]]) == [commits[30]]
            commits += history(client, [115.0] * 15, seed=4, start=41)
            (moved,) = client.get("/api/v1/regressions").json()["data"]
            assert moved["id"] == first["id"] and moved["commit"] == commits[31], (
                "placed again, one run later"
            )
            assert _markers(vm, [commits[31]]) == [commits[31]], "the marker at c030 is gone"
        app.state.engine.dispose()


def _markers(vm: str, expected: list[str]) -> list[str]:
    """The commits of the regression markers VictoriaMetrics holds, once they are ``expected``
    or after 10 s (a new series becomes searchable within about a second)."""
    deadline = time.monotonic() + 10
    while True:
        httpx.get(f"{vm}/internal/force_flush")
        exported = httpx.get(
            f"{vm}/api/v1/export", params={"match[]": 'benchhub_change_point{kind="regression"}'}
        )
        found = sorted(json.loads(line)["metric"]["commit"] for line in exported.text.splitlines())
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_two_runs_finishing_together_open_one_regression(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their scans both looked for the regression before either opened it, and opened it twice."""
    history(client, [100.0] * 30 + [115.0] * 15)
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:  # as if their scans had not run yet
        session.execute(delete(Regression))
        session.commit()
        last = session.scalars(select(Run).order_by(Run.created_at.desc())).first()
    looked = threading.Barrier(2, timeout=2)
    of_series = regression_repository.of_series

    def look_together(*args: Any) -> Any:
        found = of_series(*args)
        with contextlib.suppress(threading.BrokenBarrierError):  # a scan that waited finds it broken
            looked.wait()
        return found

    monkeypatch.setattr(regression_repository, "of_series", look_together)

    def scan() -> None:
        with sessions() as session:
            regressions.scan(session, session.get(Run, last.id), 100)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(client.get("/api/v1/regressions").json()["data"]) == 1
