"""HTTP clients for central and the agent; failures become ServiceError saying what to do."""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel

from central.schemas import (
    ReexportPublic,
    ResultIn,
    ResultsIn,
    RunCreate,
    RunPublic,
    RunResources,
    RunTransition,
)
from cli.errors import ServiceError
from exporter.schemas import RunResults, WatchRequest

M = TypeVar("M", bound=BaseModel)
_START_HINT = "start the stack with 'bhubctl stack up' or set {var}"


class _Service:
    name = "service"
    url_var = "BENCHHUB_URL"

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, body: BaseModel | None = None) -> httpx.Response:
        try:
            response = self._http.request(
                method, path, content=body.model_dump_json() if body else None,
                headers={"content-type": "application/json"} if body else None,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            hint = _START_HINT.format(var=self.url_var)
            raise ServiceError(f"{self.name} is not reachable at {self.base_url} ({exc}): {hint}") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text[:500]
            raise ServiceError(f"{self.name} refused {method} {path} ({response.status_code}): {detail}")
        return response

    def _call(self, model: type[M], method: str, path: str, body: BaseModel | None = None) -> M:
        return model.model_validate_json(self._request(method, path, body).content)

    def health(self) -> None:
        self._request("GET", "/healthz")


class CentralClient(_Service):
    name = "central"
    url_var = "BENCHHUB_CENTRAL_URL"

    def create_run(self, run: RunCreate) -> RunPublic:
        return self._call(RunPublic, "POST", "/api/v1/runs", run)

    def upload_results(self, run_id: str, results: list[ResultIn]) -> None:
        self._request("POST", f"/api/v1/runs/{run_id}/results", ResultsIn(results=results))

    def transition(self, run_id: str, change: RunTransition) -> RunPublic:
        return self._call(RunPublic, "POST", f"/api/v1/runs/{run_id}/state", change)

    def get_run(self, run_id: str) -> RunPublic:
        return self._call(RunPublic, "GET", f"/api/v1/runs/{run_id}")

    def reexport(self, run_id: str) -> ReexportPublic:
        return self._call(ReexportPublic, "POST", f"/api/v1/runs/{run_id}/reexport")


class AgentClient(_Service):
    name = "agent"
    url_var = "BENCHHUB_AGENT_URL"

    def push(self, run: RunResults) -> None:
        self._request("POST", "/api/v1/results", run)

    def watch(self, request: WatchRequest) -> None:
        self._request("POST", "/api/v1/watches", request)

    def unwatch(self, run_id: str) -> RunResources:
        return self._call(RunResources, "DELETE", f"/api/v1/watches/{run_id}")
