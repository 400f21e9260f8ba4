import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.app import create_app
from exporter.metrics import BENCHMARK_LABELS, CATALOG
from exporter.settings import AgentSettings
from tests.exporter.test_store import run
from tests.servers import serve_app


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[str]:
    settings = AgentSettings(hostname="bench-1", state_dir=tmp_path)
    with serve_app(create_app(settings)) as url:
        yield url


def test_results_are_exposed_in_base_units_with_run_timestamp(agent: str) -> None:
    payload = run("r1", 1052.0).model_dump(mode="json")
    assert httpx.post(f"{agent}/api/v1/results", json=payload).status_code == 202
    text = httpx.get(f"{agent}/metrics").text
    line = next(ln for ln in text.splitlines() if ln.startswith("benchhub_benchmark_value{"))
    assert 'host="bench-1"' in line and 'unit="seconds"' in line and 'run_id="r1"' in line
    value, timestamp_ms = line.rsplit(" ", 2)[1:]
    assert float(value) == pytest.approx(1.052e-6)
    assert timestamp_ms == "1767225600000"  # 2026-01-01T00:00:00Z, the run's own time
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families["benchhub_benchmark_value"].samples[0].labels) == set(BENCHMARK_LABELS)
    assert families["benchhub_agent_collector_success"].samples[0].value == 1.0


def watch_self(agent: str) -> None:
    """A run whose 'command' is this test process, so the run series are in the scrape."""
    body = {"run_id": "w1", "project": "p", "target": "t", "commit": "c", "pid": os.getpid()}
    assert httpx.post(f"{agent}/api/v1/watches", json=body).status_code == 201


def test_exposed_names_are_all_in_the_catalog(agent: str) -> None:
    httpx.post(f"{agent}/api/v1/results", json=run("r1").model_dump(mode="json"))
    watch_self(agent)
    names = {
        s.name for f in text_string_to_metric_families(httpx.get(f"{agent}/metrics").text) for s in f.samples
    }
    assert names <= {spec.name for spec in CATALOG}, names - {spec.name for spec in CATALOG}


def test_bad_payload_is_422_naming_the_field(agent: str) -> None:
    payload = run("r1").model_dump(mode="json")
    payload["timestamp"] = "2026-01-01T00:00:00"  # no zone
    response = httpx.post(f"{agent}/api/v1/results", json=payload)
    assert response.status_code == 422
    assert "timestamp" in response.text


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool: apt-get install prometheus")
def test_promtool_check_metrics_passes_on_a_real_scrape(agent: str) -> None:
    httpx.post(f"{agent}/api/v1/results", json=run("r1").model_dump(mode="json"))
    watch_self(agent)
    text = httpx.get(f"{agent}/metrics").text
    assert "benchhub_run_memory_rss_bytes{" in text
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
