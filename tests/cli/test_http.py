"""bhubctl's stdlib HTTP client (cli/http.py) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.client as http_client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from cli.client import CentralClient
from cli.errors import ServiceError
from cli.http import HttpClient


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    connections: ClassVar[set[int]] = set()
    vanished: ClassVar[bool] = False

    def log_message(self, *_args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        type(self).connections.add(self.client_address[1])
        if self.path.startswith("/prefix/echo"):
            self._reply(200, json.dumps({"path": self.path, "auth": self.headers["Authorization"]}).encode())
        elif self.path == "/prefix/idle-close":
            self._reply(200, b"bye")
            self.close_connection = True  # closed without saying so: an idle keep-alive timing out
        elif self.path == "/prefix/vanish" or (self.path == "/prefix/vanish-once" and not self.vanished):
            type(self).vanished = True
            self.close_connection = True  # no answer at all: closed as the request came in
        elif self.path == "/prefix/lines":
            body = b'{"n": 1}\n\n{"n": 2}\n'
            self._reply(200, body)
        else:
            self._reply(404, b'{"detail": "no such thing"}')

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"] or 0)
        self._reply(200, self.rfile.read(length))


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.connections, _Handler.vanished = set(), False
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/prefix/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_requests_share_one_connection_and_carry_params_headers_and_body(server: str) -> None:
    http = HttpClient(server, 5, {"Authorization": "Bearer t"})
    first = http.request("GET", "/echo", params={"a": "1", "b": ["x", "y z"]}).json()
    assert first == {"path": "/prefix/echo?a=1&b=x&b=y+z", "auth": "Bearer t"}
    assert http.request("POST", "/anything", content=b"\x00body").content == b"\x00body"
    http.request("GET", "/echo")
    assert len(_Handler.connections) == 1, "keep-alive: one connection for all three"
    http.close()


def test_a_connection_the_server_closed_while_idle_is_replaced_not_an_error(server: str) -> None:
    http = HttpClient(server, 5)
    assert http.request("GET", "/idle-close").text == "bye"
    assert http.request("GET", "/echo").status_code == 200
    assert len(_Handler.connections) == 2
    http.close()


def test_a_request_dropped_on_a_reused_connection_is_sent_once_more_on_a_new_one(server: str) -> None:
    http = HttpClient(server, 5)
    http.request("GET", "/echo")
    assert http.request("GET", "/vanish-once").status_code == 404, "answered on the second connection"
    assert len(_Handler.connections) == 2
    with pytest.raises(http_client.RemoteDisconnected):  # a new connection dropped: not sent again
        HttpClient(server, 5).request("GET", "/vanish")
    http.close()


def test_stream_yields_lines_as_sent(server: str) -> None:
    with HttpClient(server, 5).stream("GET", "/lines") as (status, lines):
        assert status == 200
        assert [json.loads(line) for line in lines if line.strip()] == [{"n": 1}, {"n": 2}]


def test_refusals_and_an_absent_server_are_one_line_service_errors(server: str) -> None:
    central = CentralClient(server, 5, token="t")
    with pytest.raises(ServiceError, match=r"central refused GET /nothing \(404\): no such thing$"):
        central._request("GET", "/nothing")
    central.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(
            ServiceError, match=rf"central is not reachable at http://127.0.0.1:{port} .*stack up"
        ):
            CentralClient(f"http://127.0.0.1:{port}", 2, token="t").health()


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        HttpClient("ftp://example.org", 1)
