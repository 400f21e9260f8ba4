"""Run markers reach a real VictoriaMetrics; a failed write is tried again."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.markers import GrafanaSink, RunMarkers, marker_text
from central.schemas import RunPublic, RunState
from central.series import VictoriaMetricsSink
from central.settings import CentralSettings
from tests.central.conftest import org_token
from tests.conftest import free_port
from tests.grafana_fake import FakeGrafana, fake_grafana

START = datetime(2026, 11, 24, 6, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 24, 6, 0, 42, 500000, tzinfo=UTC)


def run(**overrides: object) -> RunPublic:
    fields = dict(id="r-1", org="acme", project="shop", target="bench", commit="abc", branch='fe"at\\x',
                  dirty=False, host="h", parser="go", labels={}, state=RunState.finished, exit_code=0,
                  message=None, raw_output_ref=None, created_at=START, started_at=START, finished_at=END)  # fmt: skip
    return RunPublic.model_validate(fields | overrides)


def test_marker_text_has_both_times_and_escaped_labels() -> None:
    lines = marker_text(run()).splitlines()
    assert lines == [
        'benchhub_run_info{org="acme",project="shop",target="bench",commit="abc",branch="fe\\"at\\\\x",'
        f'run_id="r-1",state="finished",edge="{edge}"}} 1 {ms}'
        for edge, ms in (("start", int(START.timestamp() * 1000)), ("end", int(END.timestamp() * 1000)))
    ]


def test_a_failed_write_is_retried_until_it_lands() -> None:
    port = free_port()
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    markers = RunMarkers([VictoriaMetricsSink(f"http://127.0.0.1:{port}")], retry_delays=(0.3, 0.3, 0.3))
    markers.start()
    markers.run_ended(run())  # nothing listens yet: the first write fails
    time.sleep(0.1)
    assert received == [] and markers.written == {"victoriametrics": 0}
    server = HTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while markers.written["victoriametrics"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert markers.written["victoriametrics"] == 1 and received[0].decode() == marker_text(run())
    finally:
        markers.stop()
        server.shutdown()
        server.server_close()


def test_grafana_annotation_is_posted_once_with_tags_even_when_retried() -> None:
    # Grafana cannot be installed here: a fake of its HTTP API stands in (tests/grafana_fake.py).
    with fake_grafana() as url:
        FakeGrafana.fail_next, FakeGrafana.lose_next = 2, 1
        markers = RunMarkers([GrafanaSink(url, "glsa_test")], retry_delays=(0.1, 0.1, 0.1, 0.1))
        markers.start()
        try:
            markers.run_ended(run())
            deadline = time.monotonic() + 10
            while markers.written["grafana"] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            markers.stop()
    assert markers.written == {"grafana": 1}
    assert FakeGrafana.annotations == [{
        "panelId": None, "time": int(START.timestamp() * 1000), "timeEnd": int(END.timestamp() * 1000),
        "tags": ["benchhub", "org:acme", "project:shop", "target:bench", 'branch:fe"at\\x', "commit:abc", "run:r-1"],
        "text": 'shop bench @ abc on fe"at\\x: finished',
    }]  # fmt: skip
    assert len(FakeGrafana.auth) == 3 and set(FakeGrafana.auth) == {"Bearer glsa_test"}


def test_an_unreachable_grafana_never_fails_a_run(
    settings: CentralSettings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings.model_copy(update={"grafana_url": f"http://127.0.0.1:{free_port()}"}))
    with TestClient(app) as client:
        client.headers.update(org_token(client, "acme", "writer"))
        made = client.post("/api/v1/runs", json={"project": "p", "target": "t", "commit": "c", "branch": "b",
                                                 "host": "h", "parser": "go"}).json()  # fmt: skip
        done = client.post(f"/api/v1/runs/{made['id']}/state", json={"state": "finished"})
        assert done.status_code == 200 and done.json()["state"] == "finished"
        deadline = time.monotonic() + 10
        while "not delivered to grafana" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert f"run {made['id']}: not delivered to grafana" in caplog.text and "trying again" in caplog.text
    app.state.engine.dispose()
