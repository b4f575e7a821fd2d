"""Registry fixtures: the SDK's registry resource over the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelyard.cli.main import app
from modelyard.config import Settings
from modelyard.sdk import Client
from modelyard.sdk.registry import Registry


@pytest.fixture
def registry(client: Client) -> Registry:
    return client.registry


@pytest.fixture
def make_file(tmp_path: Path):  # noqa: ANN201
    """Write bytes to a file in tmp_path and return its path."""

    def make(name: str, content: bytes) -> Path:
        path = tmp_path / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    return make


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Run a registry command on the test's data directory and database; returns stdout (asserts success)."""
    monkeypatch.delenv("MODELYARD_SERVER", raising=False)
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "registry", *args])
        assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
        return result.output

    return run
