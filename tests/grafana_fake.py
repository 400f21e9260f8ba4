"""Grafana cannot be installed here: this fake stands in for the parts of its HTTP API BenchHub
uses (annotations; orgs, datasources, folders, dashboards), keeping state like Grafana does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse


class FakeGrafana(BaseHTTPRequestHandler):
    expected_auth: ClassVar[str | None] = None  # an Authorization header every call must carry
    auth: ClassVar[list[str]] = []  # the Authorization header of every annotation POST
    annotations: ClassVar[list[dict[str, Any]]] = []
    orgs: ClassVar[dict[str, int]] = {}
    state: ClassVar[dict[int, dict[str, dict[str, Any]]]] = {}  # org id -> kind -> uid -> object
    calls: ClassVar[list[str]] = []
    fail_next: ClassVar[int] = 0  # answer 500 to this many annotation POSTs
    lose_next: ClassVar[int] = (
        0  # store, then answer 500 (the reply is lost): a retry must not annotate twice
    )

    @classmethod
    def reset(cls, expected_auth: str | None = None) -> None:
        cls.expected_auth, cls.auth, cls.annotations, cls.orgs, cls.state, cls.calls = (
            expected_auth, [], [], {}, {}, [],
        )  # fmt: skip
        cls.fail_next = cls.lose_next = 0

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"null")

    def _authorized(self) -> bool:
        if self.expected_auth is not None and self.headers.get("authorization") != self.expected_auth:
            self._reply(401, {"message": "invalid username or password"})
            return False
        return True

    def _org(self) -> dict[str, dict[str, Any]]:
        org_id = int(self.headers.get("x-grafana-org-id", "1"))
        return self.state.setdefault(org_id, {"datasources": {}, "folders": {}, "dashboards": {}})

    def do_GET(self) -> None:
        FakeGrafana.calls.append(f"GET {self.path}")
        if not self._authorized():
            return
        url = urlparse(self.path)
        parts = url.path.split("/")
        if url.path == "/api/annotations":
            query = parse_qs(url.query)
            wanted = set(query.get("tags", []))
            found = [a for a in self.annotations if wanted <= set(a["tags"])]
            return self._reply(200, found[: int(query.get("limit", ["100"])[0])])
        if url.path.startswith("/api/orgs/name/"):
            name = parts[-1]
            if name in self.orgs:
                return self._reply(200, {"id": self.orgs[name], "name": name})
            return self._reply(404, {"message": "Organization not found"})
        found = self._org()[parts[2]].get(parts[-1])  # datasources/uid/<uid>, folders/<uid>
        return self._reply(200, found) if found else self._reply(404, {"message": "not found"})

    def do_POST(self) -> None:
        FakeGrafana.calls.append(f"POST {self.path}")
        if not self._authorized():
            return
        body = self._body()
        if self.path == "/api/annotations":
            FakeGrafana.auth.append(self.headers.get("authorization", ""))
            if FakeGrafana.fail_next:
                FakeGrafana.fail_next -= 1
                return self._reply(500, {"message": "database is locked"})
            FakeGrafana.annotations.append(body)
            if FakeGrafana.lose_next:
                FakeGrafana.lose_next -= 1
                return self._reply(500, {"message": "reply lost"})
            return self._reply(200, {"id": len(self.annotations), "message": "Annotation added"})
        if self.path == "/api/orgs":
            FakeGrafana.orgs[body["name"]] = len(self.orgs) + 2  # org 1 is Grafana's Main Org.
            return self._reply(200, {"orgId": self.orgs[body["name"]], "message": "Organization created"})
        org = self._org()
        if self.path == "/api/datasources":
            org["datasources"][body["uid"]] = body
        elif self.path == "/api/folders":
            org["folders"][body["uid"]] = body
        elif self.path == "/api/dashboards/db":
            if not (body["overwrite"] is True and body["folderUid"] in org["folders"]):
                return self._reply(400, {"message": "folder not found or overwrite not set"})
            org["dashboards"][body["dashboard"]["uid"]] = body["dashboard"]
        return self._reply(200, {"status": "success"})

    def do_PUT(self) -> None:
        FakeGrafana.calls.append(f"PUT {self.path}")
        if self._authorized():
            body = self._body()
            self._org()["datasources"][body["uid"]] = body
            self._reply(200, {"message": "Datasource updated"})

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fake_grafana(expected_auth: str | None = None) -> Iterator[str]:
    """A fresh fake on a free port; yields its URL."""
    FakeGrafana.reset(expected_auth)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGrafana)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
