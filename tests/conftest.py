"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL 15."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db import migrate
from modelyard.sdk import Client
from tests.postgres import PostgresCluster

DATABASES = os.environ.get("MODELYARD_TEST_DATABASES", "sqlite,postgresql").split(",")
TEST_JOB_MODULES = ["tests.jobs.sample_jobs"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None means the embedded default (SQLite in the data directory)."""
    if request.param == "sqlite":
        yield None
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        with cluster.database() as url:
            yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        job_modules=TEST_JOB_MODULES,
        job_poll_seconds=0.05,
        job_heartbeat_seconds=0.2,
        job_stale_seconds=5.0,
        job_cancel_grace_seconds=0.5,
        log_level="warning",
    )


@pytest.fixture
def context(settings: Settings) -> Iterator[AppContext]:
    """Settings, database (migrated) and artifact store, without the HTTP layer."""
    app_context = AppContext(settings)
    migrate.upgrade(app_context.db.engine)
    try:
        yield app_context
    finally:
        app_context.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    """The SDK, running the real app in-process (no job runner)."""
    with Client(settings=settings) as sdk:
        yield sdk


@pytest.fixture
def running_client(settings: Settings) -> Iterator[Client]:
    """The SDK with the job runner running in this process."""
    with Client(settings=settings, run_jobs=True) as sdk:
        yield sdk
