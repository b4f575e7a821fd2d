"""`cli_app`: the CLI on the test's settings, in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelyard.cli.state import CliState
from modelyard.config import Settings
from modelyard.sdk import Client


@pytest.fixture
def cli_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The CLI on `settings`, sharing one in-process client across invocations (each would build the app)."""
    monkeypatch.delenv("MODELYARD_SERVER", raising=False)
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    with Client(settings=settings) as shared:
        monkeypatch.setattr(CliState, "client", lambda self, run_jobs=False: shared)
        monkeypatch.setattr(CliState, "close", lambda self: None)
        yield shared
