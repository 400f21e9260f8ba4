"""HTTP clients for central and the agent; failures become ServiceError saying what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from cli.errors import ServiceError
from cli.http import HttpClient, Params, Response, TransportError
from cli.wire import Resources, Run, RunCreate, RunTransition, Watch

if TYPE_CHECKING:
    from pydantic import BaseModel

    from central.compare_schemas import ComparisonPublic
    from central.regression_schemas import HistoryPublic, RegressionPublic, RegressionsPublic
    from central.schemas import (
        AlertsPublic,
        AlertState,
        BackupsPublic,
        BackupTargetIn,
        BackupTargetPublic,
        EventsPublic,
        NodePublic,
        NodesPublic,
        NodeState,
        OrgPublic,
        OrgsPublic,
        ReexportPublic,
        ResultsPublic,
        RunPublic,
        RunsPublic,
        TokenCreate,
        TokenCreated,
        TokenPublic,
        TokensPublic,
        UserPublic,
        UsersPublic,
        WhoAmI,
    )

M = TypeVar("M", bound="BaseModel")
S = TypeVar("S", bound=msgspec.Struct)
_START_HINT = "start the stack with 'bhubctl stack up' or set {var}"
_AUTH_HINTS = {
    401: " (set BENCHHUB_TOKEN to a token of your org, or 'bhubctl stack up' for the local one)",
    403: " (ask an admin of your org for a token with that role: 'bhubctl admin tokens create')",
}


class _Service:
    name = "service"
    url_var = "BENCHHUB_URL"

    def __init__(self, base_url: str, timeout: float, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = HttpClient(self.base_url, timeout, headers)

    def close(self) -> None:
        self._http.close()

    def _request(
        self,
        method: str,
        path: str,
        body: BaseModel | msgspec.Struct | bytes | None = None,
        params: Params | None = None,
    ) -> Response:
        if isinstance(body, msgspec.Struct):
            content: bytes | None = msgspec.json.encode(body)
        elif body is None or isinstance(body, bytes):
            content = body
        else:  # a pydantic model (imported only by the commands that send one)
            content = body.model_dump_json().encode()
        try:
            response = self._http.request(
                method, path, content=content, params=params,
                headers={"content-type": "application/json"} if body is not None else None,
            )  # fmt: skip
        except TransportError as exc:
            hint = _START_HINT.format(var=self.url_var)
            raise ServiceError(
                f"{self.name} is not reachable at {self.base_url} ({exc}): {hint}", retryable=True
            ) from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text[:500]
            hint = _AUTH_HINTS.get(response.status_code, "") if self.name == "central" else ""
            raise ServiceError(
                f"{self.name} refused {method} {path} ({response.status_code}): {detail}{hint}",
                retryable=response.status_code >= 500 or response.status_code == 429,
                status=response.status_code,
            )
        return response

    def _call(self, model: type[M], method: str, path: str, body: BaseModel | None = None) -> M:
        return model.model_validate_json(self._request(method, path, body).content)

    def _decode(self, struct: type[S], method: str, path: str, body: msgspec.Struct | None = None) -> S:
        """The answer as one of cli.wire's Structs (the run path's: no pydantic)."""
        response = self._request(method, path, body)
        try:
            return msgspec.json.decode(response.content, type=struct)
        except msgspec.DecodeError as exc:
            raise ServiceError(
                f"{self.name} answered {method} {path} with what bhubctl cannot read: {exc}"
            ) from None

    def health(self) -> None:
        self._request("GET", "/healthz")


class CentralClient(_Service):
    name = "central"
    url_var = "BENCHHUB_CENTRAL_URL"

    def create_run(self, run: RunCreate) -> Run:
        return self._decode(Run, "POST", "/api/v1/runs", run)

    def upload_encoded(self, run_id: str, body: bytes) -> None:
        """A batch already encoded as ResultsIn JSON (see cli.delivery)."""
        self._request("POST", f"/api/v1/runs/{run_id}/results", body)

    def submit_job(self, body: bytes) -> RunPublic:
        """POST /api/v1/jobs (a JobSubmit, encoded by the caller: its schema loads only for submit)."""
        from central.schemas import RunPublic

        return RunPublic.model_validate_json(self._request("POST", "/api/v1/jobs", body).content)

    def list_nodes(self, state: NodeState | None) -> NodesPublic:
        from central.schemas import NodesPublic

        params: Params | None = {"state": state.value} if state else None
        return NodesPublic.model_validate_json(self._request("GET", "/api/v1/nodes", None, params).content)

    def drain_node(self, node_id: str, drained: bool) -> NodePublic:
        from central.schemas import NodePublic

        return self._call(NodePublic, "POST", f"/api/v1/nodes/{node_id}/{'drain' if drained else 'resume'}")

    def stage_event(self, run_id: str, stage: str, state: str, reason: str | None) -> None:
        body = msgspec.json.encode({"stage": stage, "state": state, "reason": reason})  # central checks it
        self._request("POST", f"/api/v1/runs/{run_id}/events", body)

    def cancel_run(self, run_id: str) -> RunPublic:
        from central.schemas import RunPublic

        return self._call(RunPublic, "POST", f"/api/v1/runs/{run_id}/cancel")

    def transition(self, run_id: str, change: RunTransition) -> Run:
        return self._decode(Run, "POST", f"/api/v1/runs/{run_id}/state", change)

    def run_now(self, run_id: str) -> Run:
        """GET /api/v1/runs/{id}, read as the run path reads a run (get_run: all of it)."""
        return self._decode(Run, "GET", f"/api/v1/runs/{run_id}")

    def get_run(self, run_id: str) -> RunPublic:
        from central.schemas import RunPublic

        return self._call(RunPublic, "GET", f"/api/v1/runs/{run_id}")

    def list_runs(self, params: Params) -> RunsPublic:
        from central.schemas import RunsPublic

        return RunsPublic.model_validate_json(self._request("GET", "/api/v1/runs", None, params).content)

    def list_results(self, run_id: str) -> ResultsPublic:
        from central.schemas import ResultsPublic

        return self._call(ResultsPublic, "GET", f"/api/v1/runs/{run_id}/results")

    def list_events(self, run_id: str) -> EventsPublic:
        from central.schemas import EventsPublic

        return self._call(EventsPublic, "GET", f"/api/v1/runs/{run_id}/events")

    def run_output(self, run_id: str) -> str:
        return self._request("GET", f"/api/v1/runs/{run_id}/output").text

    def output_from(self, run_id: str, offset: int) -> tuple[str, int, str]:
        """The run's output from character ``offset``, the characters so far, and the run's state."""
        response = self._request("GET", f"/api/v1/runs/{run_id}/output", None, {"offset": str(offset)})
        return (
            response.text,
            int(response.headers.get("x-output-length", "0")),
            response.headers.get("x-run-state", ""),
        )

    def append_output(self, run_id: str, offset: int, text: str) -> int:
        """Stream a running run's output (text from character ``offset``); the characters central has."""
        path = f"/api/v1/runs/{run_id}/output?offset={offset}"
        length: int = self._request("POST", path, text.encode()).json()["length"]
        return length

    def resolve_run(self, name: str) -> str:
        """The id of the one run whose id starts with ``name`` (what the user typed)."""
        if len(name) == 36:
            return name
        if not name or any(c not in "0123456789abcdef-" for c in name):
            raise ServiceError(f"{name!r} is not a run id or the start of one (hex digits and '-')")
        found = self.list_runs({"id": name, "limit": "2"}).data
        if not found:
            raise ServiceError(
                f"no run of your org has an id starting with {name!r}: see 'bhubctl runs list'"
            )
        if len(found) > 1:
            raise ServiceError(
                f"{name!r} starts several run ids ({found[0].id}, {found[1].id}, ...): type more of it"
            )
        return found[0].id

    def compare_json(self, params: Params) -> str:
        """GET /api/v1/compare as central wrote it (``--format json`` prints it unparsed)."""
        return self._request("GET", "/api/v1/compare", None, params).text

    def compare(self, params: Params) -> ComparisonPublic:
        """GET /api/v1/compare (its schemas load here: only compare and the CI gate need them)."""
        from central.compare_schemas import ComparisonPublic

        return ComparisonPublic.model_validate_json(
            self._request("GET", "/api/v1/compare", None, params).content
        )

    def history(self, params: Params) -> HistoryPublic:
        from central.regression_schemas import HistoryPublic

        return HistoryPublic.model_validate_json(
            self._request("GET", "/api/v1/history", None, params).content
        )

    def list_regressions(self, params: Params) -> RegressionsPublic:
        from central.regression_schemas import RegressionsPublic

        response = self._request("GET", "/api/v1/regressions", None, params)
        return RegressionsPublic.model_validate_json(response.content)

    def acknowledge_regression(self, regression_id: int, reason: str) -> RegressionPublic:
        from central.regression_schemas import RegressionAck, RegressionPublic

        body = RegressionAck(reason=reason)
        return self._call(RegressionPublic, "POST", f"/api/v1/regressions/{regression_id}/ack", body)

    def reexport(self, run_id: str) -> ReexportPublic:
        from central.schemas import ReexportPublic

        return self._call(ReexportPublic, "POST", f"/api/v1/runs/{run_id}/reexport")

    # -- access: orgs (bootstrap token), users and tokens (org admin token) ---------------------

    def whoami(self) -> WhoAmI:
        from central.schemas import WhoAmI

        return self._call(WhoAmI, "GET", "/api/v1/whoami")

    def create_org(self, name: str) -> OrgPublic:
        from central.schemas import OrgCreate, OrgPublic

        return self._call(OrgPublic, "POST", "/api/v1/admin/orgs", OrgCreate(name=name))

    def list_orgs(self) -> OrgsPublic:
        from central.schemas import OrgsPublic

        return self._call(OrgsPublic, "GET", "/api/v1/admin/orgs")

    def create_token(self, token: TokenCreate, org: str | None = None) -> TokenCreated:
        from central.schemas import TokenCreated

        path = f"/api/v1/admin/orgs/{org}/tokens" if org else "/api/v1/tokens"
        return self._call(TokenCreated, "POST", path, token)

    def list_tokens(self, org: str | None = None) -> TokensPublic:
        from central.schemas import TokensPublic

        return self._call(
            TokensPublic, "GET", f"/api/v1/admin/orgs/{org}/tokens" if org else "/api/v1/tokens"
        )

    def revoke_token(self, token_id: int) -> TokenPublic:
        from central.schemas import TokenPublic

        return self._call(TokenPublic, "DELETE", f"/api/v1/tokens/{token_id}")

    def create_user(self, name: str) -> UserPublic:
        from central.schemas import UserCreate, UserPublic

        return self._call(UserPublic, "POST", "/api/v1/users", UserCreate(name=name))

    def list_users(self) -> UsersPublic:
        from central.schemas import UsersPublic

        return self._call(UsersPublic, "GET", "/api/v1/users")

    # -- backups (org admin token, or the bootstrap token with org) --------------------------

    def set_backup_target(self, target: BackupTargetIn, org: str | None) -> BackupTargetPublic:
        from central.schemas import BackupTargetPublic

        return BackupTargetPublic.model_validate_json(
            self._request("PUT", "/api/v1/backup/target", target, _org(org)).content
        )

    def backup_target(self, org: str | None) -> BackupTargetPublic | None:
        """The org's backup bucket; None when it has none."""
        from central.schemas import BackupTargetPublic

        try:
            response = self._http.request("GET", "/api/v1/backup/target", params=_org(org))
        except TransportError as exc:
            raise ServiceError(f"central is not reachable at {self.base_url} ({exc})") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            status = response.status_code
            raise ServiceError(f"central refused GET /api/v1/backup/target ({status}): {response.text}")
        return BackupTargetPublic.model_validate_json(response.content)

    def list_backups(self, org: str | None) -> BackupsPublic:
        from central.schemas import BackupsPublic

        return BackupsPublic.model_validate_json(
            self._request("GET", "/api/v1/backups", None, _org(org)).content
        )

    def stream(self, path: str, org: str | None) -> Iterator[dict[str, Any]]:
        """POST ``path`` and yield its JSON lines (progress, then done or error)."""
        try:
            with self._http.stream("POST", path, params=_org(org), read_timeout=None) as (status, lines):
                if status >= 400:
                    text = b"".join(lines).decode("utf-8", "replace")
                    try:
                        detail = json.loads(text).get("detail", text)
                    except ValueError:
                        detail = text[:500]
                    raise ServiceError(f"central refused POST {path} ({status}): {detail}")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        except TransportError as exc:
            raise ServiceError(f"central at {self.base_url} failed during POST {path}: {exc}") from None

    def list_alerts(self, state: AlertState | None) -> AlertsPublic:
        from central.schemas import AlertsPublic

        return self._call(AlertsPublic, "GET", "/api/v1/alerts" + (f"?state={state.value}" if state else ""))


def _org(org: str | None) -> Params | None:
    return {"org": org} if org else None


class AgentClient(_Service):
    name = "agent"
    url_var = "BENCHHUB_AGENT_URL"

    def watch(self, request: Watch) -> None:
        self._request("POST", "/api/v1/watches", request)

    def unwatch(self, run_id: str) -> Resources:
        return self._decode(Resources, "DELETE", f"/api/v1/watches/{run_id}")
