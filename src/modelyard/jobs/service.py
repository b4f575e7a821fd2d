"""Jobs from the API's side: submit, list, cancel, read their metrics. Running them is the runner's business."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.db.base import utcnow
from modelyard.db.engine import run_after_commit
from modelyard.errors import Conflict, NotFound
from modelyard.jobs.models import Job
from modelyard.jobs.registry import JobTypeRegistry
from modelyard.jobs.repository import JobMetricsRepository, JobRepository
from modelyard.jobs.states import FINISHED_STATUSES
from modelyard.kit.pagination import Order

log = structlog.get_logger("modelyard.jobs")


class JobService:
    def __init__(
        self,
        session: Session,
        registry: JobTypeRegistry,
        actor: str,
        wake_runner: Callable[[], None] = lambda: None,
        access: ProjectAccess = EVERY_PROJECT,
    ) -> None:
        self.session = session
        self.access = access
        self.registry = registry
        self.actor = actor
        self.wake_runner = wake_runner
        self.jobs = JobRepository(session)

    def submit(
        self,
        job_type: str,
        params: BaseModel | dict[str, Any],
        project_id: str | None = None,
        *,
        parent_id: str | None = None,
        job_id: str | None = None,
    ) -> Job:
        """Record a pending job; the runner is woken only once the transaction has committed.

        Code submits a job as its parameter model; a dict (the generic HTTP endpoint) is checked against it.
        `parent_id`: the job that asks for this one; `job_id`: an id chosen beforehand (recorded elsewhere first).
        """
        params = self.registry.validate_params(job_type, params)
        job = Job(type=job_type, project_id=project_id, params=params, created_by=self.actor, parent_id=parent_id)
        if job_id is not None:
            job.id = job_id
        job = self.jobs.add(job)
        run_after_commit(self.session, self.wake_runner)
        log.info("jobs.job.submitted", job=job.id, type=job_type, project=project_id)
        return job

    def submit_public(self, job_type: str, params: dict[str, Any], project_id: str | None = None) -> Job:
        """A job a person asked for by name (the generic endpoint): only the types marked public."""
        self.registry.get_public(job_type)
        return self.submit(job_type, params, project_id)

    def get(self, job_id: str) -> Job:
        """A job by its id or a unique prefix of it (6 characters or more)."""
        job = self.jobs.get(job_id) or self.jobs.by_id_prefix(job_id)
        if job is None or not self.access.allows(job.project_id):
            raise NotFound(f"job {job_id!r} does not exist: list jobs with `modelyard job list`")
        return job

    def metrics(self, job: Job, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        """The metrics records the job has written after record number `after`, as `(seq, record)`, oldest first."""
        return JobMetricsRepository(self.session).after(job.id, after)

    def page(
        self,
        *,
        project_id: str | None = None,
        job_type: str | None = None,
        status: str | None = None,
        order: Order = "desc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> list[Job]:
        return list(
            self.jobs.page(
                project_id=project_id,
                job_type=job_type,
                status=status,
                order=order,
                limit=limit,
                cursor=cursor,
                project_ids=self.access.project_ids,
            )
        )

    def cancel(self, job: Job) -> Job:
        """Pending jobs are cancelled at once; running ones are asked to stop (cooperatively first)."""
        if job.status in FINISHED_STATUSES:
            raise Conflict(f"job {job.id} already {job.status}; only pending or running jobs can be cancelled")
        now = utcnow()
        if job.status == "pending" and self.jobs.transition(
            job.id, ["pending"], status="cancelled", finished_at=now, cancel_requested_at=now, reason="cancelled"
        ):
            log.info("jobs.job.cancelled", job=job.id, was="pending")
        elif self.jobs.transition(job.id, ["running"], status="cancelling", cancel_requested_at=now):
            log.info("jobs.job.cancelling", job=job.id)
            run_after_commit(self.session, self.wake_runner)
        self.session.refresh(job)
        return job
