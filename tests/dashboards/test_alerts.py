"""A real vmalert evaluates the provisioned rules over seeded history and notifies a real central."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from central.app import create_app
from central.settings import CentralSettings
from cli.stack import PROVISIONING, fill
from tests.conftest import free_port
from tests.dashboards.conftest import load
from tests.servers import seed_token, serve_app, victoria_metrics

ADMIN_TOKEN = "vmalert-test-bootstrap-token"


def rules(path: Path) -> Path:
    text = fill((PROVISIONING / "vmalert" / "rules.yml").read_text(), {"evaluation_interval": "1s"})
    path.write_text(text)
    return path


def firing(vmalert: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = httpx.get(f"{vmalert}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


def record_history(central: str, token: str, branch: str, levels: dict[str, list[float]]) -> None:
    """One run per position, each benchmark at its level with 1% noise, as bhubctl records them."""
    rng = np.random.default_rng(5)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=central, headers=headers, timeout=30) as client:
        for i in range(len(next(iter(levels.values())))):
            body = {"project": "shop", "target": "bench", "commit": f"{branch[:1]}{i:039d}", "branch": branch,
                    "host": "ci", "parser": "json"}  # fmt: skip
            run_id = client.post("/api/v1/runs", json=body).raise_for_status().json()["id"]
            results = [{"benchmark": name, "measure": "time", "unit": "ns",
                        "value": float(values[i] * (1 + rng.normal(0, 0.01)))} for name, values in levels.items()]  # fmt: skip
            client.post(f"/api/v1/runs/{run_id}/results", json={"results": results}).raise_for_status()
            client.post(f"/api/v1/runs/{run_id}/state", json={"state": "finished"}).raise_for_status()


def test_a_regression_central_found_fires_for_that_benchmark_only(tmp_path: Path) -> None:
    """Central finds the change point, its /metrics (as vmagent scrapes it) goes to a real
    VictoriaMetrics, a real vmalert fires and notifies central, bhubctl alerts lists it."""
    db = f"sqlite:///{tmp_path / 'central.db'}"
    writer, reader = seed_token(db, "acme", "writer"), seed_token(db, "acme", "reader")
    (tmp_path / "admin-token").write_text(ADMIN_TOKEN + "\n")
    central_app = create_app(CentralSettings(database_url=db, admin_token=ADMIN_TOKEN))
    with victoria_metrics(tmp_path) as vm, serve_app(central_app) as central:
        record_history(central, writer, "main", {
            "BenchmarkB": [100.0] * 30 + [125.0] * 15,  # 25% slower from run 30: a regression
            "BenchmarkA": [100.0] * 45,  # unchanged
        })  # fmt: skip
        record_history(central, writer, "feature", {"BenchmarkA": [100.0] * 30 + [150.0] * 15})  # unwatched
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        exposition = httpx.get(f"{central}/metrics", headers=admin, timeout=10).text
        load(
            vm,
            [
                line + "\n"
                for line in exposition.splitlines()
                if line.startswith("benchhub_regressions_open{")
            ],
        )
        port = free_port()
        vmalert = f"http://127.0.0.1:{port}"
        log = (tmp_path / "vmalert.log").open("w")
        proc = subprocess.Popen(["vmalert", f"-rule={rules(tmp_path / 'rules.yml')}", f"-datasource.url={vm}",
                                 f"-remoteWrite.url={vm}", f"-notifier.url={central}/api/v1/alertmanager",
                                 f"-notifier.bearerTokenFile={tmp_path / 'admin-token'}", "-evaluationInterval=1s",
                                 f"-httpListenAddr=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            stored: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not stored:
                time.sleep(1)
                try:
                    stored = httpx.get(f"{central}/api/v1/alerts?state=firing",
                                       headers={"Authorization": f"Bearer {reader}"}).json()["data"]  # fmt: skip
                except httpx.HTTPError:
                    continue
            time.sleep(3)  # a few more evaluations: nothing else may fire
            seen = firing(vmalert)
            stored = httpx.get(f"{central}/api/v1/alerts?state=firing",
                               headers={"Authorization": f"Bearer {reader}"}).json()["data"]  # fmt: skip
            regressions = httpx.get(f"{central}/api/v1/regressions",
                                    headers={"Authorization": f"Bearer {reader}"}).json()["data"]  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()
        cli = subprocess.run([sys.executable, "-m", "cli.main", "alerts"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "BENCHHUB_CENTRAL_URL": central, "BENCHHUB_TOKEN": reader,
                                  "COLUMNS": "200"})  # fmt: skip
    central_app.state.engine.dispose()
    vmalert_log = (tmp_path / "vmalert.log").read_text()
    assert [(a["labels"]["benchmark"], a["labels"]["measure"]) for a in seen] == [("BenchmarkB", "time")], (
        vmalert_log[-2000:]
    )
    (regression,) = regressions
    assert regression["benchmark"] == "BenchmarkB" and regression["commit"] == f"m{30:039d}"
    (alert,) = stored
    assert alert["labels"]["alertname"] == "BenchmarkRegression" and alert["labels"]["branch"] == "main"
    assert (alert["labels"]["benchmark"], alert["labels"]["org"]) == ("BenchmarkB", "acme")
    assert (
        "regressed" in alert["annotations"]["summary"]
        and "change point" in alert["annotations"]["description"]
    )
    assert cli.returncode == 0, cli.stderr
    assert "BenchmarkB" in cli.stdout and "BenchmarkA" not in cli.stdout


def test_every_placeholder_of_the_rules_has_a_value(tmp_path: Path) -> None:
    from cli.errors import StackError

    text = rules(tmp_path / "rules.yml").read_text()
    assert "${" not in text and "$labels" in text  # vmalert's own template variables stay
    with pytest.raises(StackError, match=r"placeholder \$\{evaluation_interval\} has no value"):
        fill("x ${evaluation_interval}", {})
    check = subprocess.run(["vmalert", f"-rule={tmp_path / 'rules.yml'}", "-dryRun"], capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("max by", "max byy", 1))
    bad = subprocess.run(
        ["vmalert", f"-rule={broken}", "-dryRun"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode != 0  # the check can fail
