"""A job's metrics as database rows: written by the job's process with its log lines, read by the metrics endpoint,
the event stream and a training revision's curves, on any server; no file on the job's machine."""

from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy import select

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.base import utcnow
from modelyard.db.engine import transaction
from modelyard.jobs.logs import JobLogWriter
from modelyard.jobs.models import Job, JobMetricRecord
from modelyard.revisions.models import ModelRevision
from modelyard.sdk import Client
from tests.revisions.factories import classification_project


def _rows(context: AppContext, job_id: str) -> list[tuple[int, dict]]:
    with transaction(context.db.read_sessions) as session:
        query = (
            select(JobMetricRecord.seq, JobMetricRecord.record)
            .where(JobMetricRecord.job_id == job_id)
            .order_by(JobMetricRecord.seq)
        )
        return [(row.seq, row.record) for row in session.execute(query)]


def _job(context: AppContext, status: str, project_id: str | None = None) -> str:
    with transaction(context.db.sessions) as session:
        job = Job(type="test.count", params={}, status=status, project_id=project_id)
        session.add(job)
        session.flush()
        return job.id


def test_a_jobs_records_are_rows_numbered_in_order_and_no_file(running_client: Client, settings: Settings) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 3})
    assert running_client.jobs.wait(job.id, timeout=30).status == "succeeded"
    context = AppContext(settings)
    try:
        rows = _rows(context, job.id)
    finally:
        context.close()
    assert rows == [(1, {"step": 1, "square": 1}), (2, {"step": 2, "square": 4}), (3, {"step": 3, "square": 9})]
    assert running_client.jobs.metrics(job.id[:8]) == [record for _, record in rows]  # an id's prefix as well
    jobs_folder = settings.data_dir / "jobs"
    assert not jobs_folder.exists() or list(jobs_folder.iterdir()) == []


def test_the_writer_numbers_records_after_those_written_before_and_nulls_what_is_not_finite(
    context: AppContext,
) -> None:
    job_id = _job(context, "running")
    first = JobLogWriter(context.db, job_id, max_lines=10)
    first.record_metrics({"epoch": 1, "loss": 0.5})
    first.close()
    # A second writer for the same job (its process started again) goes on from the last record.
    second = JobLogWriter(context.db, job_id, max_lines=10)
    second.record_metrics({"epoch": 2, "loss": math.nan, "details": {"map_50": math.inf, "map_75": 0.25}})
    second.close()
    assert _rows(context, job_id) == [
        (1, {"epoch": 1, "loss": 0.5}),
        (2, {"epoch": 2, "loss": None, "details": {"map_50": None, "map_75": 0.25}}),
    ]


def test_a_training_revisions_curves_are_its_jobs_records_while_it_runs(
    client: Client, context: AppContext, tmp_path: Path
) -> None:
    project = classification_project(client, tmp_path / "images", per_label=1)
    project_id = client.projects.get(project).id
    dataset_revision = client.datasets.create_revision(project)
    job_id = _job(context, "running", project_id)
    with transaction(context.db.sessions) as session:
        revision = ModelRevision(
            project_id=project_id, number=1, name="training", architecture_id="mobilenet_v3_small",
            task_type="multiclass_classification", status="running", base="scratch",
            dataset_revision_id=dataset_revision.id, configuration={}, labels=[], job_id=job_id, created_by="local",
        )  # fmt: skip
        session.add(revision)
        session.flush()
        revision_id = revision.id
    assert client.models.metrics(revision_id) == []
    writer = JobLogWriter(context.db, job_id, max_lines=10)
    records = [{"epoch": epoch, "train_loss": 1.0 / epoch} for epoch in (1, 2)]
    for record in records:
        writer.record_metrics(record, utcnow())
    writer.close()
    assert client.models.metrics(revision_id) == records
