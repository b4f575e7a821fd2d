"""Registry fixtures: the SDK's registry resource over the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
