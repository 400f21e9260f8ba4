"""A real vmalert evaluates the provisioned rules over seeded history and notifies a real central."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.app import create_app
from central.settings import CentralSettings
from cli.stack import PROVISIONING, fill
from tests.conftest import free_port
from tests.dashboards import seed
from tests.dashboards.conftest import load
from tests.servers import seed_token, serve_app, victoria_metrics

ADMIN_TOKEN = "vmalert-test-bootstrap-token"


def rules(path: Path) -> Path:
    text = fill((PROVISIONING / "vmalert" / "rules.yml").read_text(), {
        "threshold": "0.1", "threshold_percent": "10", "watched_branches": "main|master", "evaluation_interval": "1s",
    })  # fmt: skip
    path.write_text(text)
    return path


def firing(vmalert: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = httpx.get(f"{vmalert}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


def test_a_25_percent_regression_fires_for_that_benchmark_only(tmp_path: Path) -> None:
    now = int(time.time())
    history = seed.runs(now, newest={
        ("BenchmarkB", "time"): 1.25,  # 25% slower: a regression
        ("BenchmarkB", "throughput"): 1.25,  # 25% more throughput: an improvement, no alert
        ("BenchmarkA", "alloc_bytes"): 1.05,  # 5% more: within the 10% threshold
    })  # fmt: skip
    feature = seed.runs(now, newest={("BenchmarkA", "time"): 1.5})  # unwatched branch: no alert
    db = f"sqlite:///{tmp_path / 'central.db'}"
    reader = {"Authorization": f"Bearer {seed_token(db, 'acme', 'reader')}"}
    (tmp_path / "admin-token").write_text(ADMIN_TOKEN + "\n")
    central_app = create_app(CentralSettings(database_url=db, admin_token=ADMIN_TOKEN))
    with victoria_metrics(tmp_path) as vm, serve_app(central_app) as central:
        load(vm, seed.benchmark_lines(history) + seed.benchmark_lines(feature, branch="feature"))
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
                    stored = httpx.get(f"{central}/api/v1/alerts?state=firing", headers=reader).json()["data"]
                except httpx.HTTPError:
                    continue
            time.sleep(3)  # a few more evaluations: nothing else may fire
            seen = firing(vmalert)
            alerts_series: list[dict[str, str]] = []
            until = time.monotonic() + 20  # vmalert writes ALERTS; new series show after a moment
            while not alerts_series and time.monotonic() < until:
                httpx.get(f"{vm}/internal/force_flush")
                params = {"match[]": "ALERTS", "start": 0}
                alerts_series = httpx.get(f"{vm}/api/v1/series", params=params).json()["data"]
                time.sleep(0.5)
            stored = httpx.get(f"{central}/api/v1/alerts?state=firing", headers=reader).json()["data"]
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()
        cli = subprocess.run([sys.executable, "-m", "cli.main", "alerts"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "BENCHHUB_CENTRAL_URL": central, "BENCHHUB_TOKEN": reader["Authorization"][7:],
                                  "COLUMNS": "200"})  # fmt: skip
    central_app.state.engine.dispose()
    vmalert_log = (tmp_path / "vmalert.log").read_text()
    assert [(a["labels"]["benchmark"], a["labels"]["measure"]) for a in seen] == [("BenchmarkB", "time")], (
        vmalert_log[-2000:]
    )
    (alert,) = stored
    assert alert["labels"]["alertname"] == "BenchmarkRegression" and alert["labels"]["branch"] == "main"
    assert (alert["labels"]["benchmark"], alert["labels"]["org"]) == ("BenchmarkB", "acme")
    assert "regressed" in alert["annotations"]["summary"] and "10%" in alert["annotations"]["description"]
    # vmalert's ALERTS series, as the catalog says
    assert {s["benchmark"] for s in alerts_series} == {"BenchmarkB"}
    assert cli.returncode == 0, cli.stderr
    assert "BenchmarkB" in cli.stdout and "BenchmarkA" not in cli.stdout


def test_every_placeholder_of_the_rules_has_a_value(tmp_path: Path) -> None:
    from cli.errors import StackError

    text = rules(tmp_path / "rules.yml").read_text()
    assert "${" not in text and "$labels" in text  # vmalert's own template variables stay
    with pytest.raises(StackError, match=r"placeholder \$\{threshold\} has no value"):
        fill("x ${threshold}", {})
    check = subprocess.run(["vmalert", f"-rule={tmp_path / 'rules.yml'}", "-dryRun"], capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("topk by", "topk byy", 1))
    bad = subprocess.run(
        ["vmalert", f"-rule={broken}", "-dryRun"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode != 0  # the check can fail
