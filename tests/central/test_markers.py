"""Run markers reach a real VictoriaMetrics; a failed write is tried again."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

from central.markers import RunMarkers, marker_text
from central.schemas import RunPublic, RunState
from tests.conftest import free_port

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

    markers = RunMarkers(f"http://127.0.0.1:{port}", retry_delays=(0.3, 0.3, 0.3))
    markers.start()
    markers.run_ended(run())  # nothing listens yet: the first write fails
    time.sleep(0.1)
    assert received == [] and markers.written == 0
    server = HTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while markers.written == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert markers.written == 1 and received[0].decode() == marker_text(run())
    finally:
        markers.stop()
        server.shutdown()
        server.server_close()
