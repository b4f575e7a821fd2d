"""A job's log as database rows: written by the job's process, read by the plain and streamed endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.base import utcnow
from modelyard.db.engine import transaction
from modelyard.jobs.logs import JobLogWriter, legacy_log_lines
from modelyard.jobs.models import Job, JobLogLine
from modelyard.sdk import Client


def _rows(settings: Settings, job_id: str) -> list[tuple[int, str]]:
    context = AppContext(settings)
    try:
        with transaction(context.db.read_sessions) as session:
            query = select(JobLogLine.seq, JobLogLine.text).where(JobLogLine.job_id == job_id).order_by(JobLogLine.seq)
            return [(row.seq, row.text) for row in session.execute(query)]
    finally:
        context.close()


def _stream(client: Client, job_id: str, last_event_id: str | None = None) -> list[tuple[str, str, str]]:
    """The log stream's events as (event, id, data), read to its end."""
    from httpx_sse import EventSource

    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with client.stream("GET", f"/jobs/{job_id}/logs", headers=headers, timeout=30) as response:
        return [(event.event, event.id, event.data) for event in EventSource(response).iter_sse()]


@pytest.fixture
def finished_job(context: AppContext) -> str:
    with transaction(context.db.sessions) as session:
        job = Job(type="test.count", params={}, status="succeeded", finished_at=utcnow())
        session.add(job)
        session.flush()
        return job.id


def test_lines_of_a_local_job_reach_the_table_in_order_and_both_endpoints(
    running_client: Client, settings: Settings
) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 3})
    assert running_client.jobs.wait(job.id, timeout=30).status == "succeeded"
    rows = _rows(settings, job.id)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    counting = [text.split(" INFO ")[1] for _, text in rows if "counting" in text]
    assert counting == ["counting 1", "counting 2", "counting 3"]
    assert running_client.jobs.logs(job.id) == "".join(f"{text}\n" for _, text in rows)
    events = _stream(running_client, job.id)
    assert [(name, int(seq), json.loads(data)) for name, seq, data in events[:-1]] == [("log", *row) for row in rows]
    assert events[-1][0] == "end"
    assert not (settings.data_dir / "jobs" / f"{job.id}.log").exists()
    # A client that reconnects with the id of the last line it got resumes after it, without duplicates.
    assert _stream(running_client, job.id, last_event_id=events[1][1]) == events[2:]


def test_what_the_body_prints_to_stdout_and_stderr_is_in_its_log(running_client: Client, settings: Settings) -> None:
    job = running_client.jobs.submit("test.chatter")
    assert running_client.jobs.wait(job.id, timeout=30).status == "succeeded"
    texts = [text for _, text in _rows(settings, job.id)]
    assert {"printed line", "descriptor line", "error line"} <= set(texts)
    assert any(text.endswith("INFO logged line") for text in texts)


def test_a_log_keeps_its_first_lines_and_counts_the_dropped_ones(context: AppContext, finished_job: str) -> None:
    writer = JobLogWriter(context.db, finished_job, max_lines=10)
    for number in range(1, 26):
        writer.write(f"line {number}")
    writer.close()
    rows = _rows(context.settings, finished_job)
    assert rows[:10] == [(number, f"line {number}") for number in range(1, 11)]
    assert rows[10:] == [(11, "... 15 more lines dropped: a job's log keeps its first 10 lines")]


def test_a_job_killed_mid_way_keeps_the_lines_written_before(running_client: Client, settings: Settings) -> None:
    job = running_client.jobs.submit("test.log_then_crash")
    done = running_client.jobs.wait(job.id, timeout=30)
    assert (done.status, done.reason) == ("failed", "crashed")
    texts = [text for _, text in _rows(settings, job.id)]
    assert [text.split(" INFO ")[1] for text in texts if " INFO before the crash" in text] == [
        "before the crash 1", "before the crash 2", "before the crash 3"
    ]  # fmt: skip
    assert "job marked failed (crashed) by runner" in texts[-1]


def test_a_job_logged_to_a_file_before_is_served_from_that_file(
    client: Client, settings: Settings, finished_job: str
) -> None:
    job_id = finished_job
    old = settings.data_dir / "jobs" / f"{job_id}.log"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_text("first\nsecond\nthird\n")
    assert client.jobs.logs(job_id) == "first\nsecond\nthird\n"
    assert _stream(client, job_id, last_event_id="1")[:-1] == [("log", "2", '"second"'), ("log", "3", '"third"')]


def test_legacy_log_lines_are_numbered_from_one_and_paged(tmp_path: Path) -> None:
    path = tmp_path / "jobs" / "abc.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a\nb\nc\nd\n")
    assert legacy_log_lines(tmp_path, "abc", 1, 2) == [(2, "b"), (3, "c")]
    assert legacy_log_lines(tmp_path, "missing", 0, 10) == []
