"""Pipeline fixtures: the real app, the SDK over it, and a served tiny classifier (`tiny_model`, built once per
session in the suite's conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.logging import configure_logging
from modelyard.sdk import Client
from modelyard.sdk.transport import InProcessTransport
from tests.pipelines.factories import ServedModel, TinyModel, served_model


def _app_client(settings: Settings, run_jobs: bool) -> Iterator[Client]:
    """The SDK over an app built here, so that tests can reach the app's context (its runtime state)."""
    configure_logging("warning")  # as the SDK's own in-process client does
    app = create_app(settings, run_jobs=run_jobs, configure_logs=False)
    transport = InProcessTransport(app)
    client = Client(transport=transport)
    client.app = app  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        client.close()
        transport.close()


@pytest.fixture
def app_client(settings: Settings) -> Iterator[Client]:
    yield from _app_client(settings, run_jobs=False)


@pytest.fixture
def running_app_client(settings: Settings) -> Iterator[Client]:
    yield from _app_client(settings, run_jobs=True)


def _context(client: Client) -> AppContext:
    return client.app.state.context  # type: ignore[attr-defined]


@pytest.fixture
def app_context(app_client: Client) -> AppContext:
    return _context(app_client)


@pytest.fixture
def served(app_client: Client, tiny_model: TinyModel, tmp_path: Path) -> ServedModel:
    return served_model(app_client, _context(app_client), tiny_model, tmp_path / "served")


@pytest.fixture
def served_running(running_app_client: Client, tiny_model: TinyModel, tmp_path: Path) -> ServedModel:
    return served_model(running_app_client, _context(running_app_client), tiny_model, tmp_path / "served")
