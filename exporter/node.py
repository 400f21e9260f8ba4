"""The agent tells central about its machine: registers once, then heartbeats.

The node id is made once and kept in the agent's state dir, so a restarted agent is the
same node. Central unreachable: logged, and tried again at the next heartbeat; a central
that forgot the node (404) gets a new registration.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from central.schemas import NodeRegister

log = logging.getLogger("exporter.node")


def node_id(state_dir: Path) -> str:
    """This machine's node id: read from ``state_dir/node-id``, made there the first time."""
    path = state_dir / "node-id"
    if path.exists() and (text := path.read_text().strip()):
        return text
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    new = str(uuid.uuid4())
    path.write_text(new + "\n")
    return new


class NodeReporter:
    """Registers the node with central and sends a heartbeat every ``registration.heartbeat_seconds``."""

    def __init__(
        self, central_url: str, node: str, registration: NodeRegister, timeout: float = 5.0,
        token: Callable[[], str | None] = lambda: None,
    ) -> None:  # fmt: skip
        self._base = central_url.rstrip("/")
        self._token = token
        self._node = node
        self._registration = registration
        self._timeout = timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.registered = False
        self.heartbeats = 0

    def beat(self, client: httpx.Client) -> None:
        """One step: register if needed, else heartbeat; failures are logged, never raised."""
        try:
            secret = self._token()
            client.headers["Authorization"] = f"Bearer {secret}" if secret else ""
            if not self.registered:
                body = self._registration.model_dump(mode="json")
                response = client.put(f"{self._base}/api/v1/nodes/{self._node}", json=body)
                if response.status_code in (400, 401, 403):
                    log.error("central at %s refused to register node %s (%s): %s; set "
                              "BENCHHUB_AGENT_CENTRAL_TOKEN(_FILE) to an agent token of the org "
                              "(bhubctl admin tokens create --role agent)",
                              self._base, self._node, response.status_code, _detail(response))  # fmt: skip
                    return
                response.raise_for_status()
                self.registered = True
                log.info("registered node %s with central at %s", self._node, self._base)
                return
            response = client.post(f"{self._base}/api/v1/nodes/{self._node}/heartbeat")
            if response.status_code == 404:
                self.registered = False  # central lost its records: register again now
                self.beat(client)
                return
            response.raise_for_status()
            self.heartbeats += 1
        except (httpx.HTTPError, OSError) as exc:
            log.warning("central at %s not reached (%s); trying again in %g s", self._base, exc,
                        self._registration.heartbeat_seconds)  # fmt: skip

    def _loop(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            self.beat(client)
            while not self._stop.wait(self._registration.heartbeat_seconds):
                self.beat(client)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="node-reporter", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._timeout + 1)
            self._thread = None


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:300]


def registration(org: str | None, hostname: str, bind: str, ip: str | None, heartbeat_seconds: float,
                 provider: str, role: str) -> NodeRegister:  # fmt: skip
    """What this machine is, from psutil."""
    return NodeRegister(
        org=org, hostname=hostname, ip=ip, bind=bind, provider=provider, role=role,
        started_at=datetime.fromtimestamp(psutil.Process().create_time(), UTC),
        boot_time=datetime.fromtimestamp(psutil.boot_time(), UTC), cpus=psutil.cpu_count() or None,
        memory_bytes=psutil.virtual_memory().total, heartbeat_seconds=heartbeat_seconds,
    )  # fmt: skip
