"""What a job body gets: progress reporting, cancellation checks, a log, the database and files."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.config import Settings
from modelyard.db.engine import Database
from modelyard.storage.base import ArtifactStore


class JobCancelled(Exception):
    """Raised inside a job body when its cancellation was asked for; a body that stops itself for a reason of its
    own (a hyperparameter trial pruned by its study) names the reason, and the job ends cancelled with it."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class CleanupContext:
    """Given to a job type's cleanup after a failed, cancelled or interrupted run."""

    job_id: str
    project_id: str | None
    params: dict[str, Any]
    settings: Settings
    db: Database
    store: ArtifactStore
    reason: str


@dataclass
class JobContext:
    job_id: str
    project_id: str | None
    actor: str
    settings: Settings
    db: Database
    store: ArtifactStore
    log: logging.Logger
    work_dir: Path
    _report: Any = field(repr=False)
    _record_metrics: Callable[[dict[str, Any]], None] = field(repr=False)
    _cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self, percent: float, step: str | None = None, message: str | None = None) -> None:
        """Record progress (0-100) and the current step's name; also a cancellation point."""
        self._report(max(0.0, min(100.0, percent)), step, message)
        self.check_cancelled()

    def record_metrics(self, record: dict[str, Any]) -> None:
        """Append one record of figures (a training epoch's loss and validation metric) to the job's metrics,
        which `GET /jobs/{id}/metrics` returns and `/jobs/{id}/events` streams while the job runs. Written to the
        database with the job's log lines, within a second."""
        self._record_metrics(record)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_event.is_set()

    def check_cancelled(self) -> None:
        if self._cancel_event.is_set():
            raise JobCancelled(f"job {self.job_id} was cancelled")
