from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from modelyard.jobs.models import LOG_LINE_MAX_CHARS, Job, JobLogLine, JobMetricRecord, JobRunnerRecord
from modelyard.jobs.states import ACTIVE_STATUSES
from modelyard.kit.ids import one_by_id_prefix
from modelyard.kit.pagination import Order, keyset_page


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, job_id: str) -> Job | None:
        return self.session.get(Job, job_id)

    def by_id_prefix(self, prefix: str) -> Job | None:
        return one_by_id_prefix(self.session, Job, prefix, what="job")

    def add(self, job: Job) -> Job:
        self.session.add(job)
        self.session.flush()
        return job

    def page(
        self,
        *,
        project_id: str | None,
        job_type: str | None,
        status: str | None,
        order: Order,
        limit: int,
        cursor: str | None,
        project_ids: frozenset[str] | None = None,
    ) -> Sequence[Job]:
        """`project_ids`: only jobs of these projects (a token's project limit); None: every job."""
        statement = select(Job)
        if project_ids is not None:
            statement = statement.where(Job.project_id.in_(sorted(project_ids)))
        if project_id:
            statement = statement.where(Job.project_id == project_id)
        if job_type:
            statement = statement.where(Job.type == job_type)
        if status:
            statement = statement.where(Job.status == status)
        statement = keyset_page(statement, Job.created_at, Job.id, order=order, limit=limit, cursor=cursor)
        return self.session.scalars(statement).all()

    def pending(self, limit: int) -> list[tuple[str, str]]:
        """The oldest pending jobs as `(id, type)`."""
        rows = self.session.execute(
            select(Job.id, Job.type).where(Job.status == "pending").order_by(Job.created_at, Job.id).limit(limit)
        )
        return [(row.id, row.type) for row in rows]

    def requeue(self, job_id: str) -> bool:
        """A running job back to pending, as if never claimed (a resumable job whose server went away)."""
        return self.transition(
            job_id, ["running"], status="pending", runner_id=None, host=None, pid=None, task_id=None, node_id=None,
            executor=None, started_at=None, heartbeat_at=None, step="waiting to resume", reason=None, error=None,
        )  # fmt: skip

    def children(self, parent_id: str) -> Sequence[Job]:
        return self.session.scalars(select(Job).where(Job.parent_id == parent_id).order_by(Job.created_at)).all()

    def count_active_in_project(self, project_id: str) -> int:
        """Jobs of the project still pending, running or cancelling."""
        return (
            self.session.scalar(
                select(func.count()).where(Job.project_id == project_id, Job.status.in_(ACTIVE_STATUSES))
            )
            or 0
        )

    def active(self) -> Sequence[Job]:
        return self.session.scalars(select(Job).where(Job.status.in_(ACTIVE_STATUSES[1:]))).all()

    def transition(self, job_id: str, from_statuses: Sequence[str], **values: Any) -> bool:
        """Change a job only if it is still in one of `from_statuses` (atomic compare-and-set)."""
        result = self.session.execute(
            update(Job).where(Job.id == job_id, Job.status.in_(from_statuses)).values(**values)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def heartbeat(self, job_id: str, at: datetime) -> str | None:
        self.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=at))
        return self.session.scalar(select(Job.status).where(Job.id == job_id))


class JobRunnerRepository:
    """The rows of live job runners: one per server process, with its last heartbeat."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def beat(self, runner_id: str, host: str, executor: str, at: datetime) -> None:
        record = self.session.get(JobRunnerRecord, runner_id)
        if record is None:
            self.session.add(JobRunnerRecord(id=runner_id, host=host, executor=executor, started_at=at,
                                             heartbeat_at=at))  # fmt: skip
        else:
            record.heartbeat_at = at
        self.session.flush()

    def heartbeats(self) -> dict[str, datetime]:
        return {row.id: row.heartbeat_at for row in self.session.scalars(select(JobRunnerRecord))}

    def forget(self, runner_id: str) -> None:
        self.session.execute(delete(JobRunnerRecord).where(JobRunnerRecord.id == runner_id))

    def forget_before(self, before: datetime) -> None:
        self.session.execute(delete(JobRunnerRecord).where(JobRunnerRecord.heartbeat_at < before))


class JobLogRepository:
    """The lines of jobs' logs, numbered per job from 1."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def last_seq(self, job_id: str) -> int:
        return self.session.scalar(select(func.max(JobLogLine.seq)).where(JobLogLine.job_id == job_id)) or 0

    def add(self, job_id: str, lines: Sequence[tuple[int, datetime, str]]) -> None:
        """Insert `(seq, at, text)` lines, each cut to the longest line kept."""
        if lines:
            rows = [{"job_id": job_id, "seq": seq, "at": at, "text": text[:LOG_LINE_MAX_CHARS]}
                    for seq, at, text in lines]  # fmt: skip
            self.session.execute(insert(JobLogLine), rows)

    def put(self, job_id: str, seq: int, at: datetime, text: str) -> None:
        """Write line `seq`, replacing what it said (a count that grows, such as the lines dropped)."""
        self.session.merge(JobLogLine(job_id=job_id, seq=seq, at=at, text=text[:LOG_LINE_MAX_CHARS]))
        self.session.flush()

    def append(self, job_id: str, texts: Sequence[str], at: datetime) -> None:
        """Lines after the last one written (by a job's runner, once its worker has ended)."""
        first = self.last_seq(job_id) + 1
        self.add(job_id, [(first + index, at, text) for index, text in enumerate(texts)])

    def after(self, job_id: str, seq: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` lines after line `seq`, as `(seq, text)` in order."""
        rows = self.session.execute(
            select(JobLogLine.seq, JobLogLine.text)
            .where(JobLogLine.job_id == job_id, JobLogLine.seq > seq)
            .order_by(JobLogLine.seq)
            .limit(limit)
        )
        return [(row.seq, row.text) for row in rows]


class JobMetricsRepository:
    """The records of figures jobs report as they run, numbered per job from 1."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def last_seq(self, job_id: str) -> int:
        return self.session.scalar(select(func.max(JobMetricRecord.seq)).where(JobMetricRecord.job_id == job_id)) or 0

    def add(self, job_id: str, records: Sequence[tuple[int, datetime, dict[str, Any]]]) -> None:
        """Insert `(seq, at, record)` records."""
        if records:
            rows = [{"job_id": job_id, "seq": seq, "at": at, "record": record} for seq, at, record in records]
            self.session.execute(insert(JobMetricRecord), rows)

    def after(self, job_id: str, seq: int) -> list[tuple[int, dict[str, Any]]]:
        """The records after record `seq`, as `(seq, record)` in order."""
        rows = self.session.execute(
            select(JobMetricRecord.seq, JobMetricRecord.record)
            .where(JobMetricRecord.job_id == job_id, JobMetricRecord.seq > seq)
            .order_by(JobMetricRecord.seq)
        )
        return [(row.seq, row.record) for row in rows]
