"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL 15; tiny models and their
variants are made once per session for the export, inference, deploy and evaluation tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db import migrate
from modelyard.sdk import Client
from tests.databases import DATABASES
from tests.postgres import PostgresCluster
from tests.s3 import SeaweedServer

if TYPE_CHECKING:
    from modelyard.export import ExportedVariant
    from tests.export.factories import TinyModels
    from tests.pipelines.factories import TinyModel

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


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedServer]:
    server = SeaweedServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def storage(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings fields of the artifact store: none (the data directory) unless a test asks for "s3"
    (tests/storages.py: `on_every_store()`), then a fresh prefix of the session's S3 bucket."""
    if getattr(request, "param", "local") == "s3":
        server: SeaweedServer = request.getfixturevalue("s3_server")
        return server.settings_for()
    return {}


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, storage: dict[str, Any]) -> Settings:
    return Settings(
        **storage,
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


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    # Imported here: torch and the export stack stay out of the test runs that need no model.
    from tests.export.factories import TinyModels

    return TinyModels(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """A tiny classifier checkpoint and its OpenVINO FP16 export, for the pipeline tests (one or two servers)."""
    from tests.pipelines.factories import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-classifier"))


@pytest.fixture(scope="session")
def classifier_fp32(tiny_models: TinyModels) -> ExportedVariant:
    return tiny_models.openvino("mobilenet_v3_small", "multiclass_classification", "fp32")


@pytest.fixture(scope="session")
def classifier_fp16(tiny_models: TinyModels) -> ExportedVariant:
    return tiny_models.openvino("mobilenet_v3_small", "multiclass_classification", "fp16")


@pytest.fixture(scope="session")
def classifier_onnx(tiny_models: TinyModels) -> ExportedVariant:
    return tiny_models.onnx("mobilenet_v3_small", "multiclass_classification")


@pytest.fixture(scope="session")
def multilabel_fp32(tiny_models: TinyModels) -> ExportedVariant:
    return tiny_models.openvino("mobilenet_v3_small", "multilabel_classification", "fp32")


@pytest.fixture(scope="session")
def detector_fp32(tiny_models: TinyModels) -> ExportedVariant:
    return tiny_models.openvino("ssdlite320_mobilenet_v3_large", "detection", "fp32")


@pytest.fixture(scope="session")
def detector_onnx(tiny_models: TinyModels) -> ExportedVariant:
    return tiny_models.onnx("ssdlite320_mobilenet_v3_large", "detection")
