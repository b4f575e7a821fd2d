"""GET /health: version, database, storage and job runner state.

Answered without a token, so it says only what a client needs to tell whether the server works: no data
directory, database file or URL (a URL can hold a password), and failures as a fixed sentence; the server log
has the cause.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from modelyard import __version__
from modelyard.api.deps import Context
from modelyard.auth.dependencies import Requires
from modelyard.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])
log = structlog.get_logger("modelyard.health")


@router.get("/health", dependencies=[Requires.nothing])
def health(context: Context, request: Request) -> JSONResponse:
    database: dict[str, Any] = {"dialect": context.db.dialect}
    try:
        with context.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(context.db.engine)
        database.update(status="ok", revision=revision, up_to_date=revision == head_revision())
    except Exception as error:  # noqa: BLE001 - health reports any failure instead of failing itself
        log.error("health.database_failed", error=str(error))
        database.update(status="error", error="the database cannot be reached; the server log says why")

    storage: dict[str, Any] = {"backend": context.store.backend}
    try:
        storage.update(status="ok", **context.store.usage())
    except OSError as error:
        log.error("health.storage_failed", error=str(error))
        where = "the data directory" if context.store.backend == "local" else "the bucket"
        storage.update(status="error", error=f"{where} cannot be read; the server log says why")

    runner = getattr(request.app.state, "runner", None)
    jobs = {
        "runner": "running" if runner and runner.alive else "stopped",
        "slots": context.settings.job_slots,
        "active": len(runner.active_job_ids) if runner else 0,
        "executor": context.settings.executor,
        "executor_problem": runner.executor_problem if runner else None,
        "types": context.job_types.names(),
    }
    healthy = database["status"] == "ok" and storage["status"] == "ok"
    body = {
        "status": "ok" if healthy else "degraded",
        "version": __version__,
        "database": database,
        "storage": storage,
        "jobs": jobs,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
