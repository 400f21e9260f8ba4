"""create_app(settings): the agent's HTTP API (/metrics, /api/v1/results, /api/v1/watches, /healthz)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from central.schemas import RunResources
from exporter import __version__
from exporter.cgroups import CgroupReader
from exporter.collectors.container import ContainerCollector, ContainerSource, DockerSource
from exporter.collectors.host import HostCollector
from exporter.collectors.instrumented import Collector, InstrumentedCollectors
from exporter.collectors.run import PsutilTreeSource, RunCollector, RunWatches, TreeSource
from exporter.exposition import CONTENT_TYPE, render
from exporter.guard import CentralGuard, Refused
from exporter.limits import BodyLimit
from exporter.metrics import AGENT_INFO
from exporter.node import NodeReporter, node_id, registration
from exporter.schemas import WatchRequest
from exporter.settings import AgentSettings


class _InfoCollector:
    def __init__(self, host: str) -> None:
        self._host = host

    def collect(self) -> Iterator[Metric]:
        info = AGENT_INFO.new_family()
        info.add_metric([__version__, self._host], 1.0)
        yield info


def create_app(
    settings: AgentSettings,
    trees: TreeSource | None = None,
    containers: ContainerSource | None = None,
) -> FastAPI:
    """Build the agent: collectors from settings; tree and container sources injectable."""
    watches = RunWatches(trees or PsutilTreeSource(), settings.run_sample_interval_seconds)
    registry = CollectorRegistry()
    registry.register(_InfoCollector(settings.hostname))
    collectors: dict[str, Collector] = {}
    if settings.collect_host:
        collectors["host"] = HostCollector(fs_exclude=settings.fs_exclude_types, hostname=settings.hostname)
    if settings.collect_runs:
        collectors["run"] = RunCollector(watches)
    if settings.collect_containers:
        collectors["container"] = ContainerCollector(
            containers or DockerSource(settings.docker_socket), CgroupReader()
        )
    registry.register(InstrumentedCollectors(collectors))

    guard = CentralGuard(settings.central_url, settings.token, org=settings.org)
    reporter = None
    if settings.central_url:
        facts = registration(settings.org, settings.hostname, settings.listen, settings.advertise_ip,
                             settings.heartbeat_seconds, settings.provider, settings.role)  # fmt: skip
        reporter = NodeReporter(
            settings.central_url, node_id(settings.state_dir), facts, token=settings.token
        )

    worker = None
    if reporter is not None and settings.jobs > 0:
        from exporter.jobs import JobWorker

        worker = JobWorker(
            settings.central_url or "", node_id(settings.state_dir), settings.token,
            settings.workspace_dir or settings.state_dir / "jobs", f"http://127.0.0.1:{settings.port}",
            settings.labels, settings.jobs, ready=lambda: reporter.registered,
            docker_host=settings.docker_socket,
        )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        watches.start()
        if reporter is not None:
            reporter.start()
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        if reporter is not None:
            reporter.stop()
        watches.stop()
        guard.close()

    app = FastAPI(title="BenchHub agent", version=__version__, lifespan=lifespan)
    app.state.watches = watches
    app.state.guard = guard
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    app.state.reporter = reporter
    app.state.worker = worker

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(render(registry.collect()), media_type=CONTENT_TYPE)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/watches", status_code=201)
    def watch(body: WatchRequest, request: Request) -> dict[str, str]:
        """Follow a run's process tree: the caller's run, of this agent's org, started for it."""
        guard.may_watch(request.headers.get("authorization"), body.run_id, body.pid)
        watches.watch(body)
        return {"watching": body.run_id}

    @app.delete("/api/v1/watches/{run_id}")
    def unwatch(run_id: str, request: Request) -> RunResources:
        guard.may_unwatch(request.headers.get("authorization"), run_id)
        totals = watches.unwatch(run_id)
        if totals is None:
            raise HTTPException(404, f"run {run_id} is not watched here")
        return totals

    return app
