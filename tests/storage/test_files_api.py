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


def test_usage_counts_files_and_bytes_by_folder_and_project_and_distinct_contents(
    client: Client, settings: Settings
) -> None:
    project = client.projects.create("counted", "detection")
    _store(settings, f"projects/{project.id}/dataset/a.png", b"a" * 100)
    _store(settings, f"projects/{project.id}/dataset/b.png", b"b" * 50)
    _store(settings, "projects/0123456789abcdef0123456789abcdef/models/gone.bin", b"c" * 10)
    _store(settings, "registry/m/1/model.onnx", b"a" * 100)  # the same content as a.png: stored once
    _store(settings, "loose.txt", b"x")

    usage = client.files.usage()
    assert (usage.files, usage.bytes, usage.stored_bytes) == (5, 261, 161)
    assert [(f.folder, f.files, f.bytes) for f in usage.folders] == [
        ("projects", 3, 160), ("registry", 1, 100), ("loose.txt", 1, 1),
    ]  # fmt: skip
    assert [(p.project_name, p.files, p.bytes) for p in usage.projects] == [("counted", 2, 150), (None, 1, 10)]
    assert 0 < usage.free_bytes <= usage.total_bytes
