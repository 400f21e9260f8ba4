"""create_app(settings): the FastAPI application, its error handler and its metrics."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import DataError, StatementError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central import auth, db, repository
from central.api.routes import admin, alerts, backups, compare, jobs, nodes, regressions, runs
from central.auth import TokenCache
from central.backup_schedule import BackupMetrics, BackupScheduler
from central.errors import DomainError, PayloadTooLarge, Unauthorized
from central.markers import GrafanaSink, RunMarkers, Sink
from central.metrics import CentralMetrics
from central.models import utcnow
from central.regressions import RegressionMetrics
from central.schemas import ErrorPublic
from central.series import VictoriaMetricsSink
from central.settings import CentralSettings
from central.sweeper import AbandonedRuns

log = logging.getLogger("central")


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(ErrorPublic(error=code, detail=detail).model_dump(), status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain(_: Request, exc: DomainError) -> JSONResponse:
        response = _error(exc.status_code, exc.code, exc.detail)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="benchhub"'
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(StatementError)
    async def unstorable(request: Request, exc: StatementError) -> JSONResponse:
        # A value the database cannot hold (NUL characters in text for PostgreSQL, a date outside
        # its range) is the client's to fix, not a server failure.
        if isinstance(exc, DataError) or isinstance(exc.orig, (OverflowError, ValueError)):
            return _error(422, "invalid_request", "a value cannot be stored: no NUL characters in text, "
                                                  "dates between years 1 and 9999 (UTC)")  # fmt: skip
        return await crash(request, exc)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal", "central failed to handle the request; see its log")


class _Admission:
    """Body size limit, admission and request metrics, as plain ASGI middleware (Starlette's
    BaseHTTPMiddleware costs a task group and a stream per request).

    Admission: a request holds at most one pooled connection at a time; with no more requests
    at work than connections, a worker thread never waits for a connection that a request
    stuck behind it in the thread pool holds (the pool/thread-pool deadlock under load).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: CentralMetrics) -> None:
        self.app, self.max_body_bytes, self.metrics = app, max_body_bytes, metrics
        self.admission = asyncio.Semaphore(db.WORKER_THREADS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            exc = PayloadTooLarge(f"request body over {self.max_body_bytes} bytes; send smaller batches")
            await _error(exc.status_code, exc.code, exc.detail)(scope, receive, send)
            return
        status = 500  # unless the app starts a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            async with self.admission:  # at most as many requests at work as the pool has connections
                await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path_format", "unmatched")
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - start)


def create_app(settings: CentralSettings, schedule_backups: bool = True) -> FastAPI:
    """Build central: migrate the database, wire routes, errors, limits and metrics.

    ``schedule_backups=False``: the workers of ``serve --workers N``, whose parent runs the
    one backup schedule. Under ``PROMETHEUS_MULTIPROC_DIR`` (set by that parent) the request
    metrics of every worker are shared through files and /metrics reports their sum.
    """
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    sinks: list[Sink] = []
    if settings.write_url:
        sinks.append(VictoriaMetricsSink(
            settings.write_url, lambda run_id: repository.streamed_results(sessions, run_id),
            lambda run_id, runs: repository.prior_values(sessions, run_id, runs), settings.baseline_runs,
        ))  # fmt: skip
    if settings.grafana_url:
        token = settings.grafana_token.get_secret_value() if settings.grafana_token else None
        sinks.append(GrafanaSink(settings.grafana_url, token))
    markers = RunMarkers(sinks)
    abandoned = AbandonedRuns(
        sessions, markers, settings.abandon_grace_seconds,
        settings.abandon_default_timeout_seconds, settings.abandon_sweep_seconds, settings.job_lease_seconds,
    )  # fmt: skip
    scheduler = BackupScheduler.of(settings, sessions) if schedule_backups else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # as many worker threads as the pool has connections (see db.make_engine)
        anyio.to_thread.current_default_thread_limiter().total_tokens = db.WORKER_THREADS
        markers.start()
        abandoned.start()
        if scheduler is not None:
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.stop()
        abandoned.stop()
        markers.stop()
        # the pool's connections are closed here, not by the garbage collector whenever it runs;
        # the engine stays usable (a disposed pool is replaced on the next checkout)
        engine.dispose()

    app = FastAPI(title="BenchHub central", version="1", docs_url="/docs", lifespan=lifespan)
    app.state.settings = settings
    app.state.markers = markers
    app.state.abandoned = abandoned
    app.state.tokens = TokenCache()
    app.state.clock = utcnow
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.backups = scheduler
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    metrics = CentralMetrics(registry)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()  # what /metrics shows: the sum over the workers' files
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(BackupMetrics(sessions))
    registry.register(RegressionMetrics(sessions))
    _install_error_handlers(app)

    app.add_middleware(_Admission, max_body_bytes=settings.max_body_bytes, metrics=metrics)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """Request and backup metrics (their labels name every org): the bootstrap token's to read."""
        if not settings.metrics_public:
            secret = settings.admin_token.get_secret_value() if settings.admin_token else None
            token = request.headers.get("authorization")
            if secret is None or not auth.is_bootstrap(auth.bearer(token), secret):
                raise Unauthorized("/metrics names every organization: send the bootstrap admin token "
                                   "(or set BENCHHUB_CENTRAL_METRICS_PUBLIC=true)")  # fmt: skip
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(runs.router)
    app.include_router(compare.router)
    app.include_router(regressions.router)
    app.include_router(regressions.history_router)
    app.include_router(nodes.router)
    app.include_router(jobs.router)
    app.include_router(admin.router)
    app.include_router(alerts.router)
    app.include_router(backups.router)
    return app
