from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, delete, insert, inspect, select, text

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db import migrate
from modelyard.db.base import utcnow
from modelyard.db.engine import transaction
from modelyard.db.models import metadata
from modelyard.jobs.models import Job, JobLogLine
from modelyard.jobs.repository import JobLogRepository
from modelyard.registry.models import RegisteredModel


def test_migrations_build_exactly_the_models_schema(context: AppContext) -> None:
    with context.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    assert migrate.current_revision(context.db.engine) == migrate.head_revision()


def test_upgrade_twice_changes_nothing(context: AppContext) -> None:
    before = set(inspect(context.db.engine).get_table_names())
    migrate.upgrade(context.db.engine)
    assert set(inspect(context.db.engine).get_table_names()) == before
    assert {"projects", "labels", "jobs", "stored_files"} <= before


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(context: AppContext) -> None:
    if context.db.dialect != "sqlite":
        assert context.db.dialect == "postgresql"
        return
    with context.db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_sqlite_connections_read_through_the_configured_map_and_page_cache(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=None, sqlite_mmap_mb=64, sqlite_cache_mb=8)
    context = AppContext(settings)
    try:
        with context.db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA mmap_size")).scalar() == 64 * 1024 * 1024
            assert connection.execute(text("PRAGMA cache_size")).scalar() == -8 * 1024
    finally:
        context.close()


def test_a_read_connection_reads_in_one_transaction_and_hands_the_connection_back(context: AppContext) -> None:
    def models(cursor: Any) -> int:
        cursor.execute("SELECT count(*) FROM registered_models")
        return int(cursor.fetchall()[0][0])

    now = utcnow()
    row = {"id": "f" * 32, "name": "written-meanwhile", "description": "", "metadata": {}, "archived": False,
           "next_version_number": 1, "num_versions": 0, "created_at": now, "updated_at": now, "created_by": "test",
           "updated_by": "test"}  # fmt: skip
    with context.db.read_connection() as connection:
        cursor = connection.cursor()
        before = models(cursor)
        with context.db.engine.begin() as writer:  # another connection commits meanwhile
            writer.execute(insert(cast(Table, RegisteredModel.__table__)), [row])
        during = models(cursor)
        cursor.close()
    # SQLite reads one snapshot from the first read on; PostgreSQL reads what is committed, as its sessions do.
    assert (before, during) == (0, 0 if context.db.dialect == "sqlite" else 1)
    assert context.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with context.db.read_connection() as connection:
        assert models(connection.cursor()) == 1


def test_job_types_stored_before_namespacing_are_renamed(settings: Settings) -> None:
    app_context = AppContext(settings)
    try:
        engine = app_context.db.engine
        migrate.upgrade(engine, "0005")
        old_types = {"j1": "train", "j2": "export", "j3": "evaluate", "j4": "optimize", "j5": "storage.gc"}
        with engine.begin() as connection:
            for job_id, job_type in old_types.items():
                connection.execute(insert(Job).values(id=job_id, type=job_type, params={}))
        migrate.upgrade(engine)
        with engine.connect() as connection:
            stored = dict(connection.execute(select(Job.__table__.c.id, Job.__table__.c.type)).all())
    finally:
        app_context.close()
    assert stored == {"j1": "revision.train", "j2": "revision.export", "j3": "revision.evaluate",
                      "j4": "revision.optimize", "j5": "storage.gc"}  # fmt: skip


def test_deleting_a_job_deletes_its_log_lines(context: AppContext) -> None:
    with transaction(context.db.sessions) as session:
        job = Job(type="test.count", params={}, status="succeeded")
        session.add(job)
        session.flush()
        JobLogRepository(session).append(job.id, ["one", "two"], utcnow())
        job_id = job.id
    with transaction(context.db.sessions) as session:
        assert JobLogRepository(session).after(job_id, 0, 10) == [(1, "one"), (2, "two")]
        session.execute(delete(Job).where(Job.id == job_id))
    with transaction(context.db.read_sessions) as session:
        assert session.scalars(select(JobLogLine.seq).where(JobLogLine.job_id == job_id)).all() == []


def _item_indexes(context: AppContext) -> dict[str, list[str | None]]:
    """The dataset items' own indexes (not those behind unique constraints), by name."""
    indexes = inspect(context.db.engine).get_indexes("dataset_items")
    return {str(index["name"]): list(index["column_names"]) for index in indexes
            if str(index["name"]).startswith("ix_")}  # fmt: skip


def test_the_gallery_indexes_replace_the_narrower_ones_and_go_back_on_downgrade(context: AppContext) -> None:
    engine = context.db.engine
    assert _item_indexes(context) == {
        "ix_dataset_items_project_id_annotated": ["project_id", "annotated"],
        "ix_dataset_items_project_id_uploaded_at_id": ["project_id", "uploaded_at", "id"],
        "ix_dataset_items_project_id_name_id": ["project_id", "name", "id"],
        "ix_dataset_items_project_id_subset_annotated_user_reviewed": ["project_id", "subset", "annotated",
                                                                       "user_reviewed"],
    }  # fmt: skip
    command.downgrade(migrate.alembic_config(engine), "0016_job_metrics")
    before = _item_indexes(context)
    assert before["ix_dataset_items_project_id_uploaded_at"] == ["project_id", "uploaded_at"]
    assert before["ix_dataset_items_project_id_subset"] == ["project_id", "subset"]
    assert not {"ix_dataset_items_project_id_uploaded_at_id", "ix_dataset_items_project_id_name_id"} & set(before)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
