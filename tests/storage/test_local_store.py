from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.errors import IntegrityError, InvalidInput
from modelyard.storage.local import LocalArtifactStore


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "data")


def test_put_streams_chunks_and_records_sha256_and_size(store: LocalArtifactStore) -> None:
    chunks = [b"a" * 1000, b"b" * 2000, b"c"]
    stored = store.put("projects/p/models/r/model.pt", iter(chunks))
    content = b"".join(chunks)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == 3001
    assert b"".join(store.open(stored.key, stored.sha256, stored.size)) == content
    assert store.path_of(stored.key).read_bytes() == content


def test_same_bytes_under_two_keys_are_stored_once(store: LocalArtifactStore) -> None:
    first = store.put("a/one.bin", iter([b"same bytes"]))
    second = store.put("b/two.bin", iter([b"same bytes"]))
    assert first.sha256 == second.sha256
    assert os.stat(store.path_of("a/one.bin")).st_ino == os.stat(store.path_of("b/two.bin")).st_ino
    assert len(list(store.blobs.glob("*/*"))) == 1


def test_interrupted_write_leaves_nothing_under_the_key(store: LocalArtifactStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put("a/file.bin", broken())
    assert not store.path_of("a/file.bin").exists()
    assert list(store.blobs.glob("*/*")) == []
    assert list(store.tmp.iterdir()) == []


def test_altered_bytes_are_refused_with_an_integrity_error(store: LocalArtifactStore) -> None:
    stored = store.put("a/model.bin", iter([b"original weights"]))
    assert b"".join(store.open(stored.key, stored.sha256, stored.size)) == b"original weights"
    path = store.path_of(stored.key)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered weights")  # same size, other bytes
    with pytest.raises(IntegrityError, match="does not match its recorded sha256"):
        b"".join(store.open(stored.key, stored.sha256, stored.size))


def test_truncated_file_is_refused_by_size(store: LocalArtifactStore) -> None:
    stored = store.put("a/model.bin", iter([b"0123456789"]))
    path = store.path_of(stored.key)
    os.chmod(path, 0o644)
    path.write_bytes(b"01234")
    with pytest.raises(IntegrityError, match="5 bytes on disk, 10 were recorded"):
        store.verify(stored.key, stored.sha256, stored.size)


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", ".blobs/x", ""])
def test_keys_cannot_escape_the_data_directory(store: LocalArtifactStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.put(key, iter([b"x"]))


def test_put_with_move_adopts_a_local_file_without_copying(store: LocalArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "data" / "produced.bin"
    source.write_bytes(b"trained weights")
    inode = source.stat().st_ino
    stored = store.put("projects/p/models/r/model.pt", source, move=True)
    assert not source.exists()
    assert store.path_of(stored.key).stat().st_ino == inode
