from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.sdk import ApiError, Client
from modelyard.storage.service import FileService


def _store(settings: Settings, key: str, content: bytes) -> None:
    context = AppContext(settings)
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).save(key, iter([content]), actor="t")
    context.close()


def test_download_streams_the_bytes_with_their_hash(client: Client, settings: Settings, tmp_path: Path) -> None:
    content = os.urandom(3 * 1024 * 1024 + 17)
    _store(settings, "projects/p/models/r/model.bin", content)
    target = client.files.download("projects/p/models/r/model.bin", tmp_path / "out" / "model.bin")
    assert target.read_bytes() == content
    listed = client.files.list(prefix="projects/p/").items
    assert [(f.key, f.size) for f in listed] == [("projects/p/models/r/model.bin", len(content))]


def test_file_changed_on_disk_fails_to_download_with_integrity_error(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    _store(settings, "projects/p/weights.bin", b"trained weights")
    path = settings.data_dir / "projects/p/weights.bin"
    os.chmod(path, 0o644)
    path.write_bytes(b"trained weightz")
    with pytest.raises(ApiError) as caught:
        client.files.download("projects/p/weights.bin", tmp_path / "weights.bin")
    assert caught.value.status == 500
    assert caught.value.code == "integrity_error"
    assert "changed outside modelyard" in caught.value.detail
    assert not (tmp_path / "weights.bin").exists()


def test_unknown_file_is_a_404(client: Client, tmp_path: Path) -> None:
    with pytest.raises(ApiError) as caught:
        client.files.download("projects/nope.bin", tmp_path / "x")
    assert caught.value.status == 404
