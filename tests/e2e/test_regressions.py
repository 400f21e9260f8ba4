"""Regressions on the real stack: central finds the step, vmagent scrapes the open regression,
vmalert fires on it, bhubctl lists and acknowledges it (issue 18)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.e2e.conftest import LiveStack, bhubctl

pytestmark = pytest.mark.e2e


def record(live: LiveStack, branch: str, levels: list[float], benchmark: str) -> list[str]:
    """One run per level, as bhubctl records them; the commits, oldest first."""
    rng = np.random.default_rng(8)
    commits = []
    with httpx.Client(base_url=live.central, headers=live.auth, timeout=30) as client:
        for i, level in enumerate(levels):
            commit = f"{branch[:1]}{i:039d}"
            body = {"project": "regress", "target": "bench", "commit": commit, "branch": branch, "host": "ci",
                    "parser": "json"}  # fmt: skip
            run_id = client.post("/api/v1/runs", json=body).raise_for_status().json()["id"]
            value = float(level * (1 + rng.normal(0, 0.01)))
            result = {"benchmark": benchmark, "measure": "time", "unit": "ns", "value": value}
            client.post(f"/api/v1/runs/{run_id}/results", json={"results": [result]}).raise_for_status()
            client.post(f"/api/v1/runs/{run_id}/state", json={"state": "finished"}).raise_for_status()
            commits.append(commit)
    return commits


def firing_alerts(live: LiveStack, benchmark: str, timeout: float = 60) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alerts = httpx.get(f"{live.central}/api/v1/alerts?state=firing", headers=live.auth).json()["data"]
        mine = [a for a in alerts if a["labels"].get("benchmark") == benchmark]
        if mine:
            return mine
        time.sleep(1)
    return []


def test_a_slowdown_on_main_alerts_and_is_acknowledged(live: LiveStack, tmp_path: Path) -> None:
    commits = record(live, "main", [100.0] * 30 + [115.0] * 15, "BenchmarkStep")
    record(live, "topic", [100.0] * 30 + [150.0] * 15, "BenchmarkTopic")  # an unwatched branch
    listed = bhubctl(live, tmp_path, "regressions", "--project", "regress", "--json")
    assert listed.returncode == 0, listed.stderr
    (regression,) = json.loads(listed.stdout)["data"]
    assert (regression["benchmark"], regression["commit"], regression["state"]) == (
        "BenchmarkStep",
        commits[30],
        "open",
    )
    assert regression["previous_commit"] == commits[29] and 0.12 < regression["change"] < 0.18
    table = bhubctl(live, tmp_path, "regressions", "--project", "regress")
    assert "BenchmarkStep" in table.stdout and commits[30][:8] in table.stdout and "open" in table.stdout
    # scraped from central into VictoriaMetrics, and a real vmalert fires on it
    series = live.wait_for_series('benchhub_regressions_open{project="regress"}', 1)
    assert series[0]["metric"]["benchmark"] == "BenchmarkStep" and series[0]["metric"]["branch"] == "main"
    # the change point, written by central for the trends dashboard's annotations
    (marker,) = live.wait_for_series('benchhub_change_point{project="regress"}', 1)
    assert (marker["metric"]["commit"], marker["metric"]["kind"]) == (commits[30], "regression")
    assert 0.12 < marker["values"][0] < 0.18
    (alert,) = firing_alerts(live, "BenchmarkStep")
    assert alert["labels"]["alertname"] == "BenchmarkRegression"  # type: ignore[index]
    assert firing_alerts(live, "BenchmarkTopic", timeout=2) == []
    analyzed = bhubctl(live, tmp_path, "analyze", "--project", "regress", "--target", "bench",
                       "--benchmark", "BenchmarkStep", "--json")  # fmt: skip
    assert analyzed.returncode == 0, analyzed.stderr
    (point,) = json.loads(analyzed.stdout)["change_points"]
    assert (point["index"], point["commit"]) == (30, commits[30])
    acked = bhubctl(
        live, tmp_path, "regressions", "ack", str(regression["id"]), "--reason", "expected: new parser"
    )
    assert acked.returncode == 0, acked.stderr
    events = httpx.get(
        f"{live.central}/api/v1/regressions/{regression['id']}/events", headers=live.auth
    ).json()
    assert [e["to_state"] for e in events["data"]] == ["open", "acknowledged"]
    assert events["data"][-1]["reason"] == "expected: new parser"
    still_open = bhubctl(live, tmp_path, "regressions", "--project", "regress", "--state", "open")
    assert "BenchmarkStep" not in still_open.stdout and "no regressions in state open" in still_open.stderr
