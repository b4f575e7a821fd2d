"""GET /health: version, database, storage and job runner state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from modelyard import __version__
from modelyard.api.deps import Context
from modelyard.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/health")
def health(context: Context, request: Request) -> JSONResponse:
    database: dict[str, Any] = {"dialect": context.db.dialect}
    try:
        with context.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(context.db.engine)
        database.update(status="ok", revision=revision, up_to_date=revision == head_revision())
    except Exception as error:  # noqa: BLE001 - health reports any failure instead of failing itself
        database.update(status="error", error=str(error))

    storage: dict[str, Any] = {"backend": "local", "data_dir": str(context.settings.data_dir)}
    try:
        storage.update(status="ok", **context.store.usage())
    except OSError as error:
        storage.update(status="error", error=str(error))

    runner = getattr(request.app.state, "runner", None)
    jobs = {
        "runner": "running" if runner and runner.alive else "stopped",
        "slots": context.settings.job_slots,
        "active": len(runner.active_job_ids) if runner else 0,
        "types": context.job_types.names(),
    }
    healthy = database["status"] == "ok" and storage["status"] == "ok"
    body = {"status": "ok" if healthy else "degraded", "version": __version__, "database": database,
            "storage": storage, "jobs": jobs}
    return JSONResponse(body, status_code=200 if healthy else 503)
