"""create_app(): routers, problem handlers, request ids, and a lifespan that migrates and runs jobs."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard import __version__
from modelyard.api.docs import install_docs
from modelyard.api.guard import install_guard
from modelyard.api.problems import install_problem_handlers
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db import migrate
from modelyard.kit.limits import InputLimits, limits_in_force
from modelyard.logging import configure_logging
from modelyard.mlflow.hot_paths import install_hot_paths
from modelyard.mlflow.router import install_mlflow
from modelyard.ui.serving import STATIC_DIR, install_ui

API_PREFIX = "/api/v1"
log = structlog.get_logger("modelyard.api")


def create_app(settings: Settings | None = None, *, run_jobs: bool = True, configure_logs: bool = True) -> FastAPI:
    """The modelyard ASGI app. `run_jobs=False` serves the API without claiming jobs (SDK in-process)."""
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    context = AppContext(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate.upgrade(context.db.engine)
        runner = None
        if run_jobs:
            from modelyard.jobs.runner import JobRunner
            from modelyard.storage.sweep import BackgroundSweep
            from modelyard.stream.supervisor import StreamSupervisor

            runner = JobRunner(context, context.job_types)
            runner.start()  # first: its reconciliation ends the jobs that died, so the sweep sees them gone
            sweeper = BackgroundSweep(context.db, context.store, settings.storage_grace_seconds)
            sweeper.start()
            app.state.storage_sweep = sweeper
            app.state.stream_supervisor = StreamSupervisor(context)
            app.state.stream_supervisor.start()  # resumes the streams that were running when the server stopped
        app.state.runner = runner
        if settings.api_tokens:
            log.warning("auth.configured_tokens", count=len(settings.api_tokens),
                        advice="MODELYARD_API_TOKENS gives every entry the admin scope; prefer scoped tokens made "
                        "with `modelyard token create NAME --scope read|write|admin` (stored hashed)")  # fmt: skip
        log.info("app.started", version=__version__, data_dir=str(settings.data_dir), database=context.db.dialect)
        try:
            yield
        finally:
            if runner:
                app.state.stream_supervisor.stop()
                app.state.storage_sweep.stop()
                runner.stop()
            context.close()

    app = FastAPI(
        title="modelyard",
        version=__version__,
        description="Manage computer-vision models from labelled data to deployment.",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from installed files, not from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    app.state.runner = None
    app.state.stream_supervisor = None
    install_problem_handlers(app)
    install_docs(app)
    # Innermost middleware, so the guard, the request context and the limits below wrap it as they wrap routes.
    install_hot_paths(app, context)
    # Inside RequestContext: the guard's refusals carry request ids and are logged like any answer.
    install_guard(app, context, health_path=f"{API_PREFIX}/health")
    app.add_middleware(RequestContext)
    app.add_middleware(LimitsInForce, limits=InputLimits.from_settings(settings))
    app.include_router(_api_router(), prefix=API_PREFIX)
    install_mlflow(app)
    from modelyard.stream.endpoints import metrics_router

    app.include_router(metrics_router)  # Prometheus scrapes /metrics at the root, as it expects
    install_ui(app, settings.ui_dir or STATIC_DIR)  # last: its fallback answers any path no other route took
    return app


def _api_router() -> APIRouter:
    from modelyard.architectures.endpoints import router as architectures
    from modelyard.auth.endpoints import router as tokens
    from modelyard.auth.session_endpoints import router as session
    from modelyard.datasets.endpoints import router as datasets
    from modelyard.health.endpoints import router as health
    from modelyard.jobs.endpoints import router as jobs
    from modelyard.pipelines.deploy_endpoints import router as deployment
    from modelyard.pipelines.endpoints import router as pipelines
    from modelyard.projects.endpoints import router as projects
    from modelyard.registry.endpoints import router as registry
    from modelyard.revisions.endpoints import router as models
    from modelyard.storage.endpoints import router as files
    from modelyard.stream.endpoints import router as stream
    from modelyard.tuning.endpoints import router as tuning

    router = APIRouter()
    # Routes are matched one by one in this order (about 3 us each); the registry's reads are the
    # hottest path, so its routes come first. No two domains share a first path segment.
    for domain in (registry, health, projects, datasets, models, tuning, jobs, files, architectures, stream,
                   pipelines, deployment, tokens, session):  # fmt: skip
        router.include_router(domain)
    return router


class RequestContext:
    """Pure ASGI middleware: a request id for every HTTP request (the caller's `x-request-id` or a
    new one) on the response, in the log context and in problem documents; one log line per request.

    Written against ASGI directly, not as `@app.middleware("http")`: Starlette's BaseHTTPMiddleware
    runs every request through a task group and memory streams, a fixed cost on each call.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        encoded_id = request_id.encode("latin-1")
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", encoded_id)]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
        log.info(
            "api.request",
            method=scope["method"],
            path=scope["path"],
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            request_id=request_id,
        )


class LimitsInForce:
    """Pure ASGI middleware: this app's input limits for the validators of every request it serves."""

    def __init__(self, app: ASGIApp, limits: InputLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with limits_in_force(self.limits):
            await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
