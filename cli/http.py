"""A small HTTP/1.1 client on the standard library, for bhubctl's calls to central and the agent.

Written by hand on purpose (issue 16): ``import httpx`` costs bhubctl ~130 ms (its own CLI
pulls click, rich and pygments) and each ``httpx.Client`` builds a TLS context from certifi's
bundle (~40 ms) even for ``http://``, so a ``bhubctl run`` of nothing spent a quarter of its
time on its HTTP library. This keeps one keep-alive connection per service, a timeout, query
parameters, and a streamed response; TLS is set up only for ``https://`` URLs.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

Params = dict[str, str | list[str]]
# what a failed exchange raises: refused, reset, timed out, a reply that is not HTTP
TransportError = (OSError, http.client.HTTPException)
_DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True)
class Response:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class HttpClient:
    """Requests to one base URL over one reused connection (not thread-safe, as bhubctl needs)."""

    def __init__(self, base_url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"User-Agent": "bhubctl", **(headers or {})}
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        conn = self._conn
        if conn is not None and conn.sock is not None and _closed_by_peer(conn.sock):
            conn.close()  # the server ended an idle keep-alive connection: a fresh one, not an error
        if conn is None:
            if self._https:
                import ssl  # a context reads the CA bundle (~20 ms): only for https

                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._conn = conn
        return conn

    def _send(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: Params | None,
        headers: dict[str, str] | None,
    ) -> http.client.HTTPResponse:
        url = self._prefix + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        for attempt in (1, 2):
            reused = self._conn is not None and self._conn.sock is not None
            conn = self._connection()
            try:
                conn.request(method, url, body=content, headers={**self._headers, **(headers or {})})
                return conn.getresponse()
            except _DROPPED:
                self.close()
                # the server closed a kept-alive connection just as the request went out (its idle
                # timeout): it never answered, so the request goes again, once, on a new connection
                if not reused or attempt == 2:
                    raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    def request(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        params: Params | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send and read the whole answer; raises one of TransportError when the exchange fails."""
        response = self._send(method, path, content, params, headers)
        try:
            body = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return Response(response.status, body, {k.lower(): v for k, v in response.getheaders()})

    @contextmanager
    def stream(
        self, method: str, path: str, params: Params | None = None, read_timeout: float | None = None
    ) -> Iterator[tuple[int, Iterator[bytes]]]:
        """The status and the answer's lines as they arrive (waiting up to ``read_timeout`` each)."""
        response = self._send(method, path, None, params, None)
        sock = self._conn.sock if self._conn is not None else None
        if isinstance(sock, socket.socket):
            sock.settimeout(read_timeout)
        try:
            yield response.status, iter(response.readline, b"")
        finally:
            self.close()  # a stream is read to its end or abandoned: its connection is not reused


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle connection with something to read has been closed (or broken) by the server."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
