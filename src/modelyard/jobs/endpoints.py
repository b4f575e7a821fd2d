"""HTTP for jobs: submit, list, get, cancel, and live status and log streams (Server-Sent Events)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, status
from fastapi.responses import PlainTextResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from modelyard.api.deps import Context, Jobs, Projects
from modelyard.auth.access import scope_for_job
from modelyard.auth.dependencies import CurrentPrincipal, Requires, forbid_unless
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.jobs.logs import log_lines
from modelyard.jobs.schemas import JobCreate, JobRead, JobTypeRead
from modelyard.jobs.service import JobService
from modelyard.jobs.states import FINISHED_STATUSES, JobStatus
from modelyard.kit.page import Page
from modelyard.kit.pagination import Order, split_page

router = APIRouter(prefix="/jobs", tags=["jobs"])
STREAM_POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
LOG_BATCH = 1000  # lines read from the database at a time


@router.get("/types", response_model=list[JobTypeRead], dependencies=[Requires.read])
def list_job_types(context: Context) -> list[JobTypeRead]:
    types = context.job_types
    return [
        JobTypeRead(name=name, description=types.get(name).description, public=types.get(name).public)
        for name in types.names()
    ]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobRead, dependencies=[Requires.write])
def submit_job(body: JobCreate, service: Jobs, projects: Projects, principal: CurrentPrincipal) -> JobRead:
    """Submit a job of a type meant for people (`GET /jobs/types` marks them `public`); other jobs are
    started by their own endpoints (training, export, dataset import...). Storage jobs need the admin scope."""
    forbid_unless(principal, scope_for_job(body.type))
    project_id = projects.get(body.project).id if body.project else None
    return JobRead.model_validate(service.submit_public(body.type, body.params, project_id))


@router.get("", response_model=Page[JobRead], dependencies=[Requires.read])
def list_jobs(
    service: Jobs,
    projects: Projects,
    project: str | None = None,
    type: str | None = None,
    status: JobStatus | None = None,
    order: Order = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> Page[JobRead]:
    project_id = projects.get(project).id if project else None
    rows = service.page(project_id=project_id, job_type=type, status=status, order=order, limit=limit, cursor=cursor)
    items, next_cursor = split_page(rows, limit, "created_at")
    return Page[JobRead](items=[JobRead.model_validate(job) for job in items], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobRead, dependencies=[Requires.read])
def get_job(job_id: str, service: Jobs) -> JobRead:
    return JobRead.model_validate(service.get(job_id))


@router.post("/{job_id}:cancel", response_model=JobRead, dependencies=[Requires.write])
def cancel_job(job_id: str, service: Jobs) -> JobRead:
    return JobRead.model_validate(service.cancel(service.get(job_id)))


@router.get("/{job_id}/metrics", response_model=list[dict[str, Any]], dependencies=[Requires.read])
def job_metrics(job_id: str, service: Jobs) -> list[dict[str, Any]]:
    """The figures the job recorded so far, oldest first: for a training, one record per epoch (epoch,
    train_loss, metric_name, metric_value, seconds, learning_rate, details). Empty for jobs that record none."""
    return [record for _, record in service.metrics(service.get(job_id))]


@router.get("/{job_id}/events", response_class=EventSourceResponse, dependencies=[Requires.read])
def job_events(job_id: str, service: Jobs, context: Context) -> EventSourceResponse:
    """Server-Sent Events until the job finishes: one `status` event per change of the job, and one `metrics`
    event per record the job adds to its metrics (a training's epoch), each sent once, records first."""
    return EventSourceResponse(_status_events(context, service.get(job_id).id), ping=KEEPALIVE_SECONDS)


@router.get("/{job_id}/logs", response_model=None, dependencies=[Requires.read])
def job_logs(
    job_id: str,
    service: Jobs,
    context: Context,
    follow: bool = True,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse | PlainTextResponse:
    """The job's log: plain text with `follow=false`, else a live tail as Server-Sent Events, one `log` event per
    line with the line's number as its id; a client that reconnects with `Last-Event-ID` gets the lines after it."""
    service.get(job_id)
    if not follow:
        return PlainTextResponse(_whole_log(context, job_id))
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    return EventSourceResponse(_log_events(context, job_id, after), ping=KEEPALIVE_SECONDS)


def _current(context: AppContext, job_id: str) -> JobRead:
    with transaction(context.db.read_sessions) as session:
        return JobRead.model_validate(JobService(session, context.job_types, "local").get(job_id))


def _metrics_after(context: AppContext, job_id: str, after: int) -> list[tuple[int, dict[str, Any]]]:
    with transaction(context.db.read_sessions) as session:
        service = JobService(session, context.job_types, "local")
        return service.metrics(service.get(job_id), after)


# The streams below are async generators: the event loop is free while they wait, and a client that goes away
# cancels them at their next await. Database reads run in worker threads.


async def _status_events(context: AppContext, job_id: str) -> AsyncIterator[ServerSentEvent]:
    last = None
    metrics_seen = 0
    while True:
        job = await anyio.to_thread.run_sync(_current, context, job_id)
        # After the job's state: a finished job has written its last record already, so none is missed.
        for seq, record in await anyio.to_thread.run_sync(_metrics_after, context, job_id, metrics_seen):
            yield ServerSentEvent(json.dumps(record), event="metrics")
            metrics_seen = seq
        payload = job.model_dump_json()
        if payload != last:
            yield ServerSentEvent(payload, event="status")
            last = payload
        if job.status in FINISHED_STATUSES:
            return
        await anyio.sleep(STREAM_POLL_SECONDS)


async def _log_events(context: AppContext, job_id: str, after: int) -> AsyncIterator[ServerSentEvent]:
    while True:
        # Read the job's state before its lines: a job that is finished now has written its last line already.
        finished = (await anyio.to_thread.run_sync(_current, context, job_id)).status in FINISHED_STATUSES
        while True:
            lines = await anyio.to_thread.run_sync(_lines_after, context, job_id, after)
            for seq, text in lines:
                yield ServerSentEvent(json.dumps(text), event="log", id=str(seq))
                after = seq
            if len(lines) < LOG_BATCH:
                break
        if finished:
            yield ServerSentEvent("{}", event="end")
            return
        await anyio.sleep(STREAM_POLL_SECONDS)


def _lines_after(context: AppContext, job_id: str, after: int) -> list[tuple[int, str]]:
    with transaction(context.db.read_sessions) as session:
        return log_lines(session, context.settings.data_dir, job_id, after, LOG_BATCH)


def _whole_log(context: AppContext, job_id: str) -> str:
    parts: list[str] = []
    after = 0
    while lines := _lines_after(context, job_id, after):
        parts.extend(f"{text}\n" for _, text in lines)
        after = lines[-1][0]
    return "".join(parts)
