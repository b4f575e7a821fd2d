"""The artifact store's guarantees, the same on the local data directory and on a real S3 server (SeaweedFS):
content stored once per sha256, visible only with its committed record, checked on every read, removed only
when no record refers to it, audited and swept.

The backend-specific corners (hard links, folder syncs, publication after a crash on the local disk) are in the
other modules of this folder; here each test reaches into a backend only to damage or count what it stores.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.errors import IntegrityError
from modelyard.sdk import Client
from modelyard.storage.audit import audit
from modelyard.storage.local import LocalArtifactStore
from modelyard.storage.models import StoredFile
from modelyard.storage.s3 import S3ArtifactStore
from modelyard.storage.service import FileService
from modelyard.storage.sweep import sweep
from tests.databases import on_one_database
from tests.storages import on_every_store

pytestmark = [on_every_store(), on_one_database("sqlite")]


def _save(context: AppContext, key: str, content: bytes) -> StoredFile:
    with transaction(context.db.sessions) as session:
        return FileService(session, context.store).save(key, iter([content]), actor="tester")


def _read(context: AppContext, key: str) -> bytes:
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        return b"".join(files.open(files.get(key)))


def _contents(context: AppContext) -> set[str]:
    """The sha256s whose bytes the store holds."""
    store = context.store
    if isinstance(store, S3ArtifactStore):
        return {blob.name.rsplit("/", 1)[-1] for blob in store.list_blobs()}
    assert isinstance(store, LocalArtifactStore)
    return {path.name for path in store.blobs.glob("*/*")}


def _damage(context: AppContext, key: str, sha256: str, content: bytes) -> None:
    """Replace the stored bytes behind `key` with `content`, as a failing disk or a careless hand would."""
    store = context.store
    if isinstance(store, S3ArtifactStore):
        store.client.put_object(Bucket=store.location.bucket, Key=store.blob_name(sha256), Body=content)
        store.cache.forget(key)
        return
    assert isinstance(store, LocalArtifactStore)
    path = store.path_of(key)  # a hard link to the blob: both names see the new bytes
    os.chmod(path, 0o644)
    path.write_bytes(content)


def _lose(context: AppContext, key: str, sha256: str) -> None:
    store = context.store
    if isinstance(store, S3ArtifactStore):
        store.delete_blob(sha256)
        return
    assert isinstance(store, LocalArtifactStore)
    store.path_of(key).unlink()
    store.blob_path(sha256).unlink()


def test_saved_file_reads_back_with_its_sha256(context: AppContext) -> None:
    content = os.urandom(3 * 1024 * 1024 + 5)
    record = _save(context, "projects/p/weights.bin", content)
    assert (record.sha256, record.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert _read(context, "projects/p/weights.bin") == content


def test_same_bytes_under_two_keys_are_stored_once(context: AppContext) -> None:
    first = _save(context, "a/model.bin", b"the same weights")
    _save(context, "b/model.bin", b"the same weights")
    assert _contents(context) == {first.sha256}


def test_rolled_back_save_leaves_no_record_and_no_content(context: AppContext) -> None:
    with pytest.raises(RuntimeError), transaction(context.db.sessions) as session:
        FileService(session, context.store).save("a/new.bin", iter([b"never committed"]), actor="t")
        raise RuntimeError("the request failed after the upload")
    with transaction(context.db.read_sessions) as session:
        assert FileService(session, context.store).files.get("a/new.bin") is None
    assert _contents(context) == set()


def test_content_goes_only_when_the_last_key_naming_it_is_deleted(context: AppContext) -> None:
    record = _save(context, "a/weights.pt", b"shared weights")
    _save(context, "b/weights.pt", b"shared weights")
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).delete("a/weights.pt")
    assert _contents(context) == {record.sha256}
    assert _read(context, "b/weights.pt") == b"shared weights"
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).delete("b/weights.pt")
    assert _contents(context) == set()


def test_content_pinned_by_a_writer_survives_a_delete_of_its_last_key(context: AppContext) -> None:
    # A registration (say) pins the content of a revision's weights, and before it commits, the revision's
    # file is deleted: the content must outlive the delete. (The writer's steps are the store's own calls, as
    # FileService makes them; on SQLite two open write transactions would wait on each other.)
    record = _save(context, "a/weights.pt", b"weights being registered")
    unit = context.store.new_unit()
    assert context.store.pin(unit, record.sha256) == record.size
    with transaction(context.db.sessions) as deleting:
        FileService(deleting, context.store).delete("a/weights.pt")
    with transaction(context.db.sessions) as registering:
        registering.add(StoredFile(key="registry/v1/weights.pt", sha256=record.sha256, size=record.size))
    context.store.publish(unit, [("registry/v1/weights.pt", record.sha256)])
    assert _read(context, "registry/v1/weights.pt") == b"weights being registered"


def test_altered_bytes_fail_to_stream_with_an_integrity_error(context: AppContext) -> None:
    record = _save(context, "a/model.bin", b"original bytes!")
    _damage(context, "a/model.bin", record.sha256, b"tampered bytes!")
    with pytest.raises(IntegrityError):
        _read(context, "a/model.bin")


def test_local_path_is_a_verified_copy_of_the_bytes(context: AppContext) -> None:
    content = os.urandom(100_000)
    record = _save(context, "a/dataset.parquet", content)
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        assert files.local_path(files.get("a/dataset.parquet")).read_bytes() == content
    _damage(context, "a/dataset.parquet", record.sha256, os.urandom(100_000))
    with transaction(context.db.read_sessions) as session, pytest.raises(IntegrityError):
        files = FileService(session, context.store)
        files.local_path(files.get("a/dataset.parquet"))


def test_audit_reports_lost_and_altered_contents(context: AppContext) -> None:
    lost = _save(context, "a/lost.bin", b"lost bytes")
    altered = _save(context, "a/altered.bin", b"altered bytes")
    _save(context, "a/intact.bin", b"intact bytes")
    _lose(context, "a/lost.bin", lost.sha256)
    _damage(context, "a/altered.bin", altered.sha256, b"changed bytes")
    report = audit(context.db, context.store, rehash=True, limit=10).as_dict()
    assert report["checked"] == 3
    assert sorted(item["key"] for item in report["damaged"]) == ["a/altered.bin", "a/lost.bin"]


def test_sweep_removes_unreferenced_content_only_after_the_grace_period(context: AppContext) -> None:
    kept = _save(context, "a/kept.bin", b"referenced")
    orphan = context.store.put("a/orphan.bin", iter([b"no record names this"]))
    young = sweep(context.db, context.store, grace_seconds=3600)
    assert young.orphan_blobs_removed == 0 and _contents(context) == {kept.sha256, orphan.sha256}
    # On the data directory the key's stray link goes first, and that touches the blob: a second pass takes it.
    removed = sum(sweep(context.db, context.store, grace_seconds=0).orphan_blobs_removed for _ in range(2))
    assert removed == 1 and _contents(context) == {kept.sha256}


@pytest.fixture
def redirecting_client(settings: Settings) -> Iterator[Client]:
    with Client(settings=settings.model_copy(update={"redirect_min_bytes": 1024})) as sdk:
        yield sdk


def test_a_large_download_redirects_to_the_object_store_when_the_client_allows_it(
    redirecting_client: Client, settings: Settings
) -> None:
    content = os.urandom(64 * 1024)
    context = AppContext(settings)
    try:
        record = _save(context, "projects/p/big.bin", content)
    finally:
        context.close()
    with redirecting_client.stream(
        "GET", "/files/projects/p/big.bin", params={"redirect": "true"}, accept_redirect=True
    ) as response:
        answer = (response.status_code, response.headers["x-content-sha256"], response.read())
        location = response.headers.get("location")
    if settings.storage_url:
        assert answer[:2] == (307, record.sha256)
        assert httpx.get(str(location)).content == content
    else:  # the data directory has no URL of its own: the server streams the bytes
        assert answer == (200, record.sha256, content)


def test_the_sdk_download_checks_the_bytes_it_is_redirected_to(
    redirecting_client: Client, settings: Settings, tmp_path: Path
) -> None:
    content = os.urandom(64 * 1024)
    context = AppContext(settings)
    try:
        _save(context, "projects/p/big.bin", content)
    finally:
        context.close()
    target = redirecting_client.files.download("projects/p/big.bin", tmp_path / "big.bin")
    assert target.read_bytes() == content
