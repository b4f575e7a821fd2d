"""Version files: streamed upload, listing, verified download, atomic replace, reclaiming on delete."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.sdk import ApiError
from modelyard.sdk.registry import Registry


def _blobs(settings: Settings) -> set[str]:
    return {path.name for path in (settings.data_dir / ".blobs").glob("*/*")}


def _stored_path(settings: Settings, version_id: str, name: str) -> Path:
    return settings.data_dir / "registry" / "versions" / version_id / name


def test_upload_lists_size_hash_and_category_and_download_returns_the_bytes(
    registry: Registry, make_file, tmp_path: Path  # noqa: ANN001
) -> None:
    weights = make_file("model.pt", b"w" * 3000)
    version = registry.register("m", create_model=True, framework="pytorch", label_map={0: "a"}, files=[weights])

    [listed] = registry.files("m/1")
    assert (listed.name, listed.size, listed.category) == ("model.pt", 3000, "small")
    assert listed.sha256 == hashlib.sha256(b"w" * 3000).hexdigest()
    assert version.trainable is True and version.deployable is True
    paths = registry.download("m/1", tmp_path / "out")
    assert [path.read_bytes() for path in paths] == [b"w" * 3000]


def test_a_file_altered_on_disk_is_refused_on_download(
    registry: Registry, make_file, settings: Settings, tmp_path: Path  # noqa: ANN001
) -> None:
    version = registry.register("m", create_model=True, files=[make_file("model.bin", b"original bytes")])
    stored = _stored_path(settings, version.id, "model.bin")
    os.chmod(stored, 0o644)
    stored.write_bytes(b"tampered bytes")  # same size, different content

    with pytest.raises(ApiError) as refused:
        registry.download("m/1", tmp_path / "out")

    assert refused.value.status == 500
    assert refused.value.code == "integrity_error"
    assert "changed outside modelyard" in refused.value.detail
    assert not (tmp_path / "out" / "model.bin").exists()


def test_replacing_a_file_is_atomic_and_reclaims_the_old_bytes(
    registry: Registry, make_file, settings: Settings, tmp_path: Path  # noqa: ANN001
) -> None:
    registry.register("m", create_model=True, files={"model.onnx": make_file("a.onnx", b"first")})
    before = _blobs(settings)

    replaced = registry.upload("m/1", make_file("b.onnx", b"second!"), name="model.onnx")

    assert replaced.size == 7
    assert [f.size for f in registry.files("m/1")] == [7]
    assert registry.download_file("m/1", "model.onnx", tmp_path / "x").read_bytes() == b"second!"
    assert len(_blobs(settings)) == len(before)  # the first bytes were dropped after the commit
    event = registry.events("m", action="file.replaced").items[0]
    assert event.before["size"] == 5 and event.after["size"] == 7


def test_deleting_a_version_reclaims_its_files_but_keeps_bytes_shared_with_a_copy(
    registry: Registry, make_file, settings: Settings  # noqa: ANN001
) -> None:
    registry.register("a", create_model=True, files=[make_file("shared.pt", b"shared"), make_file("own.txt", b"own")])
    registry.copy("a/1", "b", create_model=True)
    original = registry.version("a/1")
    blobs_before = _blobs(settings)

    registry.delete_version("a/1", comment="superseded")

    assert not _stored_path(settings, original.id, "shared.pt").exists()
    assert len(_blobs(settings)) == len(blobs_before)  # both files are still used by b/1
    assert registry.download_file("b/1", "shared.pt", settings.data_dir.parent / "s").read_bytes() == b"shared"
    deleted = registry.events("a", action="version.deleted").items[0]
    assert set(deleted.before["files"]) == {"shared.pt", "own.txt"} and deleted.comment == "superseded"

    registry.delete("b")
    assert _blobs(settings) == set()
    assert [e.action for e in registry.events(action="model.deleted").items] == ["model.deleted"]


def test_deleting_a_version_removes_its_aliases_and_records_it(registry: Registry) -> None:
    registry.register("m", create_model=True)
    registry.set_alias("m", "champion", 1)

    registry.delete_version("m/1")

    assert registry.aliases("m") == {}
    assert [e.action for e in registry.events("m", version=1).items][-2:] == ["alias.removed", "version.deleted"]


def test_file_names_cannot_escape_the_version_folder(registry: Registry, make_file) -> None:  # noqa: ANN001
    registry.register("m", create_model=True)
    with pytest.raises(ApiError) as refused:
        registry.upload("m/1", make_file("x", b"x"), name="../escape")
    assert refused.value.status in (400, 404)
    assert registry.files("m/1") == []


def test_an_upload_past_the_configured_limit_is_refused(settings: Settings, make_file) -> None:  # noqa: ANN001
    from modelyard.sdk import Client

    with Client(settings=settings.model_copy(update={"max_upload_bytes": 10})) as small:
        small.registry.register("m", create_model=True)
        with pytest.raises(ApiError) as refused:
            small.registry.upload("m/1", make_file("big.bin", b"x" * 11))
        assert refused.value.status == 413 and "MODELYARD_MAX_UPLOAD_BYTES" in refused.value.detail
        assert small.registry.files("m/1") == []


def test_deleting_a_file_removes_it_from_the_version_and_the_disk(
    registry: Registry, make_file, settings: Settings  # noqa: ANN001
) -> None:
    version = registry.register("m", create_model=True, files=[make_file("a.txt", b"a"), make_file("b.txt", b"b")])

    registry.delete_file("m/1", "a.txt")

    assert [f.name for f in registry.files("m/1")] == ["b.txt"]
    assert not _stored_path(settings, version.id, "a.txt").exists()
    assert len(_blobs(settings)) == 1
    deleted = registry.events("m", action="file.deleted").items
    assert [(e.subject, e.before["size"]) for e in deleted] == [("a.txt", 1)]
    with pytest.raises(ApiError) as gone:
        registry.download_file("m/1", "a.txt", settings.data_dir.parent / "a")
    assert gone.value.status == 404
