"""A job's log and its metrics as rows of the database: written by the job wherever it runs, read by every server.

The job's process buffers its lines (its logger's records, and whatever its body or a library prints to
stdout or stderr) and the metrics records its body reports (a training's epoch), and writes them in small
batches, each in a short transaction of its own: every FLUSH_SECONDS, or as soon as FLUSH_LINES wait, and once
more at the end. A log keeps its first `job_log_max_lines` lines; the line after them says how many more were
dropped. Metrics records are all kept.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from modelyard.db.base import utcnow
from modelyard.db.engine import Database, transaction
from modelyard.jobs.paths import job_log_path
from modelyard.jobs.repository import JobLogRepository, JobMetricsRepository

FLUSH_SECONDS = 0.5
FLUSH_LINES = 100
LINE_FORMAT = "%(asctime)s %(levelname)s %(message)s"
# Lines held while the database cannot be written; past this, the oldest waiting ones are counted as dropped.
MAX_PENDING_LINES = 10_000
OUTPUT_DRAIN_SECONDS = 5.0


class JobLogWriter:
    """Buffers one job's log lines and metrics records and writes them to its rows in batches, from a thread of
    its own."""

    def __init__(self, db: Database, job_id: str, max_lines: int) -> None:
        self.db, self.job_id, self.max_lines = db, job_id, max_lines
        self._pending: list[tuple[datetime, str]] = []
        self._pending_metrics: list[tuple[datetime, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._dropped = 0
        with transaction(db.read_sessions) as session:
            self._next_seq = JobLogRepository(session).last_seq(job_id) + 1
            self._next_metrics_seq = JobMetricsRepository(session).last_seq(job_id) + 1
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"job-log-{job_id}")
        self._thread.start()

    def write(self, text: str, at: datetime | None = None) -> None:
        """Queue `text`, one line per line of it."""
        at = at or utcnow()
        with self._lock:
            self._pending.extend((at, line) for line in text.rstrip("\n").split("\n"))
            if len(self._pending) > MAX_PENDING_LINES:
                self._dropped += len(self._pending) - MAX_PENDING_LINES
                del self._pending[: len(self._pending) - MAX_PENDING_LINES]
            if len(self._pending) >= FLUSH_LINES:
                self._wake.set()

    def record_metrics(self, record: dict[str, Any], at: datetime | None = None) -> None:
        """Queue one metrics record (a number that is not finite is kept as null, which JSON can say)."""
        with self._lock:
            self._pending_metrics.append((at or utcnow(), _finite(record)))

    def flush(self) -> None:
        """Write the lines and records queued so far (kept queued if the database refuses them: the next flush
        retries)."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
                metrics, self._pending_metrics = self._pending_metrics, []
            seq, dropped = self._next_seq, self._dropped
            kept: list[tuple[int, datetime, str]] = []
            for at, text in batch:
                if seq <= self.max_lines:
                    kept.append((seq, at, text))
                    seq += 1
                else:
                    dropped += 1
            numbered = [(self._next_metrics_seq + index, at, record) for index, (at, record) in enumerate(metrics)]
            try:
                with transaction(self.db.sessions) as session:
                    repository = JobLogRepository(session)
                    repository.add(self.job_id, kept)
                    if dropped:
                        note = f"... {dropped} more lines dropped: a job's log keeps its first {self.max_lines} lines"
                        repository.put(self.job_id, self.max_lines + 1, utcnow(), note)
                    JobMetricsRepository(session).add(self.job_id, numbered)
            except SQLAlchemyError:
                with self._lock:
                    self._pending[:0] = batch
                    self._pending_metrics[:0] = metrics
                return
            self._next_seq, self._dropped = seq, dropped
            self._next_metrics_seq += len(numbered)

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stopped.set()
        self._wake.set()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class JobLogHandler(logging.Handler):
    """A logging handler that sends each record, formatted, to a JobLogWriter."""

    def __init__(self, writer: JobLogWriter) -> None:
        super().__init__()
        self.writer = writer
        self.setFormatter(logging.Formatter(LINE_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.write(self.format(record), datetime.fromtimestamp(record.created, tz=UTC))
        except Exception:  # noqa: BLE001 - logging reports its own failures, as every handler does
            self.handleError(record)


@contextmanager
def captured_output(writer: JobLogWriter) -> Iterator[None]:
    """Send what this process writes to its stdout and stderr (file descriptors 1 and 2, so a library's C code
    too) to `writer`, until the block ends; then restore them."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    read_end, write_end = os.pipe()
    saved = os.dup(1), os.dup(2)
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    reader = threading.Thread(target=_forward, args=(read_end, writer), daemon=True, name="job-output")
    reader.start()
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a stream closed by the job's body
                pass
        os.dup2(saved[0], 1)  # the pipe's last write end closes: the reader sees its end
        os.dup2(saved[1], 2)
        for descriptor in saved:
            os.close(descriptor)
        # A child process the body left running still holds the pipe: its later output is not waited for.
        reader.join(OUTPUT_DRAIN_SECONDS)


def _forward(read_end: int, writer: JobLogWriter) -> None:
    with os.fdopen(read_end, "r", encoding="utf-8", errors="replace") as pipe:
        for line in pipe:
            writer.write(line)


def log_lines(session: Session, data_dir: Path, job_id: str, after: int, limit: int) -> list[tuple[int, str]]:
    """Up to `limit` lines of the job's log after line `after`, as `(seq, text)`. A job that ran before logs were
    rows has none: its log file, if the data directory still holds one, is read instead, numbered the same way."""
    repository = JobLogRepository(session)
    lines = repository.after(job_id, after, limit)
    if lines or not job_log_path(data_dir, job_id).exists() or repository.last_seq(job_id):
        return lines
    return legacy_log_lines(data_dir, job_id, after, limit)


def legacy_log_lines(data_dir: Path, job_id: str, after: int, limit: int) -> list[tuple[int, str]]:
    """Lines of the job's log file (`DATA_DIR/jobs/<id>.log`, where logs were kept before), numbered from 1."""
    path = job_log_path(data_dir, job_id)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    numbered = list(enumerate(text.splitlines(), start=1))
    return numbered[after : after + limit]
