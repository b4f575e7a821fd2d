from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.errors import IntegrityError
from modelyard.storage.models import StoredFile
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.service import FileService
from modelyard.storage.sweep import sweep
from tests.storages import local


def _save(context: AppContext, key: str, content: bytes) -> StoredFile:
    with transaction(context.db.sessions) as session:
        return FileService(session, context.store).save(key, iter([content]), actor="tester")


def _count(context: AppContext) -> int:
    with transaction(context.db.read_sessions) as session:
        return session.scalar(select(func.count()).select_from(StoredFile)) or 0


def test_saved_file_is_recorded_with_hash_size_and_actor(context: AppContext) -> None:
    record = _save(context, "projects/p/file.txt", b"hello")
    assert (record.size, record.created_by, record.media_type) == (5, "tester", "text/plain")
    assert record.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        assert b"".join(files.open(files.get("projects/p/file.txt"))) == b"hello"


def test_delete_keeps_bytes_that_another_key_still_uses(context: AppContext) -> None:
    _save(context, "a/weights.pt", b"shared weights")
    _save(context, "b/weights.pt", b"shared weights")
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).delete("a/weights.pt")
    assert not local(context.store).path_of("a/weights.pt").exists()
    assert local(context.store).path_of("b/weights.pt").read_bytes() == b"shared weights"
    assert len(list(local(context.store).blobs.glob("*/*"))) == 1
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).delete("b/weights.pt")
    assert list(local(context.store).blobs.glob("*/*")) == []
    assert _count(context) == 0


def test_rolled_back_save_leaves_no_file_and_no_record(context: AppContext) -> None:
    with pytest.raises(RuntimeError), transaction(context.db.sessions) as session:
        FileService(session, context.store).save("a/new.bin", iter([b"new"]), actor="t")
        raise RuntimeError("request failed after the upload")
    assert not local(context.store).path_of("a/new.bin").exists()
    assert _count(context) == 0


def test_rolled_back_replace_restores_the_previous_bytes(context: AppContext) -> None:
    _save(context, "a/model.bin", b"version one")
    with pytest.raises(RuntimeError), transaction(context.db.sessions) as session:
        FileService(session, context.store).save("a/model.bin", iter([b"version two"]), actor="t")
        raise RuntimeError("failed")
    assert local(context.store).path_of("a/model.bin").read_bytes() == b"version one"
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        assert b"".join(files.open(files.get("a/model.bin"))) == b"version one"


def test_replace_reclaims_the_old_bytes_after_commit(context: AppContext) -> None:
    _save(context, "a/model.bin", b"version one")
    _save(context, "a/model.bin", b"version two")
    assert local(context.store).path_of("a/model.bin").read_bytes() == b"version two"
    assert len(list(local(context.store).blobs.glob("*/*"))) == 1
    assert _count(context) == 1


def test_rolled_back_delete_keeps_the_file(context: AppContext) -> None:
    _save(context, "a/keep.bin", b"keep me")
    with pytest.raises(RuntimeError), transaction(context.db.sessions) as session:
        FileService(session, context.store).delete("a/keep.bin")
        raise RuntimeError("failed")
    assert local(context.store).path_of("a/keep.bin").read_bytes() == b"keep me"
    assert _count(context) == 1


def test_altered_file_fails_its_check_as_it_is_read(context: AppContext) -> None:
    _save(context, "a/model.bin", b"good bytes")
    path = local(context.store).path_of("a/model.bin")
    os.chmod(path, 0o644)
    path.write_bytes(b"evil bytes")
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        with pytest.raises(IntegrityError):
            b"".join(files.open(files.get("a/model.bin")))


def test_garbage_collection_removes_only_unreferenced_content(context: AppContext) -> None:
    _save(context, "a/kept.bin", b"kept")
    orphan = context.store.put("a/orphan.bin", iter([b"orphan"]))  # bytes written, never recorded
    context.store.remove_key(orphan.key)
    assert sweep(context.db, context.store, grace_seconds=0).orphan_blobs_removed == 1
    assert not context.store.has_content(orphan.sha256)
    assert local(context.store).path_of("a/kept.bin").read_bytes() == b"kept"


def test_saved_bytes_appear_under_their_key_only_after_the_commit(context: AppContext) -> None:
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        record = files.save("a/new.bin", iter([b"new bytes"]), actor="t")
        assert not local(context.store).path_of("a/new.bin").exists()
        assert b"".join(files.open(record)) == b"new bytes"  # the transaction reads what it staged
        assert files.local_path(record).read_bytes() == b"new bytes"
    assert local(context.store).path_of("a/new.bin").read_bytes() == b"new bytes"
    assert [path for path in context.store.tmp_root.rglob("*") if path.is_file()] == []


def test_rolled_back_save_leaves_no_temp_file(context: AppContext) -> None:
    with pytest.raises(RuntimeError), transaction(context.db.sessions) as session:
        FileService(session, context.store).save("a/new.bin", iter([b"new"]), actor="t")
        raise RuntimeError("request failed after the upload")
    assert [path for path in context.store.tmp_root.rglob("*") if path.is_file()] == []
    assert list(local(context.store).blobs.glob("*/*")) == []


def test_a_reader_links_a_committed_file_its_writer_has_not_published_yet(context: AppContext) -> None:
    unit = context.store.new_unit()
    staged = context.store.stage(unit, iter([b"committed, not linked yet"]))
    with transaction(context.db.sessions) as session:
        StoredFileRepository(session).add(StoredFile(key="a/late.bin", sha256=staged.sha256, size=staged.size))
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        assert b"".join(files.open(files.get("a/late.bin"))) == b"committed, not linked yet"
    assert local(context.store).path_of("a/late.bin").read_bytes() == b"committed, not linked yet"
