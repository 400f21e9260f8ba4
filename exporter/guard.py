"""Who may ask this agent to follow a run: checked with central, never taken on trust.

A watch request carries the caller's central token. Central says who that is (whoami) and
whether the run exists in the caller's org (GET /api/v1/runs/{id}); the agent follows only
runs of its own org (the org of its own token), running, whose process started after the
run was registered (a watch of pid 1 or of another user's long-lived process is refused).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import psutil

from central.schemas import RunPublic, RunState, WhoAmI

# clocks of central and this machine may differ a little; a process from before the run's
# registration by more than this is not the run's
CLOCK_SLACK_SECONDS = 5.0
_CACHE_SECONDS = 30.0
_WATCHED_KEPT = 10_000


class Refused(Exception):
    """A request the agent will not act on; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Caller:
    org: str
    actor: str


class CentralGuard:
    """Checks callers and runs with central; ``own_token`` is the agent's own credential."""

    def __init__(self, central_url: str | None, own_token: Callable[[], str | None], timeout: float = 5.0,
                 org: str | None = None) -> None:  # fmt: skip
        self._base = central_url.rstrip("/") if central_url else None
        self._own_token = own_token
        self._org = org
        self._http = httpx.Client(timeout=timeout)
        self._lock = threading.Lock()
        self._callers: dict[str, tuple[float, Caller]] = {}
        # runs a watch was granted for, with their org: a run's org never changes, so the unwatch
        # that ends them needs no second question to central (oldest forgotten past the bound)
        self._watched: OrderedDict[str, str] = OrderedDict()

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, token: str) -> httpx.Response:
        if self._base is None:
            raise Refused(503, "this agent is not connected to central (set BENCHHUB_AGENT_CENTRAL_URL); "
                               "it follows no runs")  # fmt: skip
        try:
            return self._http.get(f"{self._base}{path}", headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise Refused(
                503, f"central at {self._base} is not reachable to check the request ({exc})"
            ) from None

    def own_org(self) -> str:
        """The org of the agent's own token (asked once), or BENCHHUB_AGENT_ORG."""
        if self._org is not None:
            return self._org
        token = self._own_token()
        if not token:
            raise Refused(503, "this agent has no central token (BENCHHUB_AGENT_CENTRAL_TOKEN): "
                               "it follows no runs")  # fmt: skip
        response = self._get("/api/v1/whoami", token)
        if response.status_code != 200:
            raise Refused(503, f"central refused this agent's own token ({response.status_code})")
        org = WhoAmI.model_validate_json(response.content).org
        if org is None:
            raise Refused(
                503, "this agent's token is central's bootstrap token: give it an org's agent token"
            )
        self._org = org
        return org

    def caller(self, authorization: str | None) -> tuple[Caller, str]:
        """Who sent the request (a writer of this agent's org), and their token."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(401, "send a central token of this agent's org: Authorization: Bearer <token>")
        token = token.strip()
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            known = self._callers.get(digest)
        if known is not None and known[0] > now:
            return known[1], token
        response = self._get("/api/v1/whoami", token)
        if response.status_code == 401:
            raise Refused(401, "central does not know this token")
        if response.status_code != 200:
            raise Refused(403, f"central refused this token ({response.status_code})")
        who = WhoAmI.model_validate_json(response.content)
        if who.org != self.own_org():
            raise Refused(403, "this agent belongs to another organization")
        if who.role.value not in ("writer", "admin"):
            raise Refused(403, f"following a run needs a writer token; this is a {who.role.value} token")
        caller = Caller(org=who.org, actor=who.actor)
        with self._lock:
            self._callers[digest] = (now + _CACHE_SECONDS, caller)
        return caller, token

    def run(self, token: str, run_id: str) -> RunPublic:
        """The caller's run, as central holds it (404 when it is not the caller's org's)."""
        response = self._get(f"/api/v1/runs/{run_id}", token)
        if response.status_code == 404:
            raise Refused(404, f"central has no run {run_id} in this org")
        if response.status_code != 200:
            raise Refused(403, f"central refused to show run {run_id} ({response.status_code})")
        return RunPublic.model_validate_json(response.content)

    def may_watch(self, authorization: str | None, run_id: str, pid: int) -> None:
        """Refuse unless the run is the caller's, running, and ``pid`` was started for it."""
        _, token = self.caller(authorization)
        run = self.run(token, run_id)
        if run.state != RunState.running:
            raise Refused(409, f"run {run_id} is {run.state.value}; only a running run is followed")
        started = process_start(pid)
        if started is None:
            raise Refused(404, f"no process {pid} on this machine")
        registered = run.started_at or run.created_at
        if started < registered.timestamp() - CLOCK_SLACK_SECONDS:
            raise Refused(
                403, f"process {pid} started before run {run_id} was registered: it is not the run's"
            )
        with self._lock:
            self._watched[run_id] = run.org
            while len(self._watched) > _WATCHED_KEPT:
                self._watched.popitem(last=False)

    def may_unwatch(self, authorization: str | None, run_id: str) -> None:
        """Refuse unless the run is of the caller's org (known from its watch, else asked)."""
        caller, token = self.caller(authorization)
        with self._lock:
            org = self._watched.get(run_id)
        if org is None:
            org = self.run(token, run_id).org
        if org != caller.org:
            raise Refused(404, f"central has no run {run_id} in this org")


def process_start(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None
