"""Every query of the stream domain: pipelines, sinks, processed files and the webhook outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from modelyard.stream.models import OutboxMessage, ProcessedFile, StreamPipeline, StreamSink


class StreamRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- pipelines ---------------------------------------------------------------------------
    def get(self, project_id: str) -> StreamPipeline | None:
        return self.session.get(StreamPipeline, project_id)

    def get_or_create(self, project_id: str) -> StreamPipeline:
        pipeline = self.get(project_id)
        if pipeline is None:
            pipeline = StreamPipeline(project_id=project_id, source={}, settings={}, desired_state="stopped",
                                      state="stopped", restarts=0, next_sequence=0)  # fmt: skip
            self.session.add(pipeline)
            self.session.flush()
        return pipeline

    def all(self) -> Sequence[StreamPipeline]:
        return self.session.scalars(select(StreamPipeline).order_by(StreamPipeline.project_id)).all()

    def wanted_running(self) -> Sequence[StreamPipeline]:
        return self.session.scalars(select(StreamPipeline).where(StreamPipeline.desired_state == "running")).all()

    def update(self, project_id: str, **values: Any) -> None:
        self.session.execute(update(StreamPipeline).where(StreamPipeline.project_id == project_id).values(**values))

    def claim(self, project_id: str, supervisor_id: str, previous: str | None, **values: Any) -> bool:
        """Compare-and-set of the supervisor running a pipeline: false when another one took it meanwhile."""
        owner = StreamPipeline.supervisor_id
        condition = owner.is_(None) if previous is None else owner == previous
        result = self.session.execute(
            update(StreamPipeline)
            .where(StreamPipeline.project_id == project_id, StreamPipeline.desired_state == "running", condition)
            .values(supervisor_id=supervisor_id, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- sinks -------------------------------------------------------------------------------
    def sinks(self, project_id: str) -> Sequence[StreamSink]:
        return self.session.scalars(
            select(StreamSink).where(StreamSink.project_id == project_id).order_by(StreamSink.created_at, StreamSink.id)
        ).all()

    def add_sink(self, sink: StreamSink) -> StreamSink:
        self.session.add(sink)
        self.session.flush()
        return sink

    def sink(self, project_id: str, sink_id: str) -> StreamSink | None:
        sink = self.session.get(StreamSink, sink_id)
        return sink if sink is not None and sink.project_id == project_id else None

    def delete_sink(self, sink: StreamSink) -> None:
        self.session.execute(delete(OutboxMessage).where(OutboxMessage.sink_id == sink.id))
        self.session.delete(sink)
        self.session.flush()

    # -- processed files ---------------------------------------------------------------------
    def processed_names(self, project_id: str) -> set[str]:
        return set(self.session.scalars(select(ProcessedFile.name).where(ProcessedFile.project_id == project_id)))

    def last_processed_sequence(self, project_id: str) -> int | None:
        return self.session.scalar(select(func.max(ProcessedFile.sequence))
                                   .where(ProcessedFile.project_id == project_id))  # fmt: skip

    def mark_processed(self, project_id: str, name: str, sequence: int) -> None:
        self.session.add(ProcessedFile(project_id=project_id, name=name, sequence=sequence))

    # -- outbox ------------------------------------------------------------------------------
    def enqueue(self, sink_ids: Iterable[str], sequence: int, payload: dict[str, Any]) -> None:
        for sink_id in sink_ids:
            self.session.add(OutboxMessage(sink_id=sink_id, sequence=sequence, payload=payload, attempts=0))

    def oldest_message(self, sink_id: str) -> OutboxMessage | None:
        return self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.sink_id == sink_id).order_by(OutboxMessage.id).limit(1)
        ).first()

    def delivered(self, message_id: int) -> None:
        self.session.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id))

    def attempt_failed(self, message_id: int, next_attempt_at: datetime, error: str) -> None:
        self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=next_attempt_at, last_error=error[:2000])
        )

    def outbox_counts(self, sink_id: str) -> tuple[int, int]:
        """(messages pending, of which retrying: failed at least once)."""
        pending = self.session.scalar(select(func.count()).where(OutboxMessage.sink_id == sink_id)) or 0
        retrying = self.session.scalar(
            select(func.count()).where(OutboxMessage.sink_id == sink_id, OutboxMessage.attempts > 0)
        ) or 0
        return pending, retrying
