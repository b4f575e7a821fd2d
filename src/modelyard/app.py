"""create_app(): routers, problem handlers, request ids, and a lifespan that migrates and runs jobs."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI, Request, Response

from modelyard import __version__
from modelyard.api.problems import install_problem_handlers
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db import migrate
from modelyard.logging import configure_logging

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

            runner = JobRunner(context, context.job_types)
            runner.start()
        app.state.runner = runner
        log.info("app.started", version=__version__, data_dir=str(settings.data_dir), database=context.db.dialect)
        try:
            yield
        finally:
            if runner:
                runner.stop()
            context.close()

    app = FastAPI(
        title="modelyard",
        version=__version__,
        description="Manage computer-vision models from labelled data to deployment.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.context = context
    app.state.runner = None
    install_problem_handlers(app)
    app.middleware("http")(_request_context)
    app.include_router(_api_router(), prefix=API_PREFIX)
    return app


def _api_router() -> APIRouter:
    from modelyard.architectures.endpoints import router as architectures
    from modelyard.datasets.endpoints import router as datasets
    from modelyard.health.endpoints import router as health
    from modelyard.jobs.endpoints import router as jobs
    from modelyard.pipelines.deploy_endpoints import router as deployment
    from modelyard.pipelines.endpoints import router as pipelines
    from modelyard.projects.endpoints import router as projects
    from modelyard.registry.endpoints import router as registry
    from modelyard.revisions.endpoints import router as models
    from modelyard.storage.endpoints import router as files

    router = APIRouter()
    for domain in (health, projects, datasets, models, registry, jobs, files, architectures, pipelines, deployment):
        router.include_router(domain)
    return router


async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    request.state.request_id = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    response.headers["x-request-id"] = request_id
    log.info(
        "api.request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        ms=round((time.perf_counter() - started) * 1000, 2),
        request_id=request_id,
    )
    return response
