"""What a crash leaves is told apart from live work: the sweep clears the first and never the second, and
`storage.verify` reports every kind of mismatch between the data directory and the database."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from modelyard.storage.models import StoredFile
from modelyard.storage.owners import job_owner
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.service import FileService
from modelyard.storage.sweep import sweep
from tests.storages import local


def _save(context: AppContext, key: str, content: bytes) -> StoredFile:
    with transaction(context.db.sessions) as session:
        return FileService(session, context.store).save(key, iter([content]), actor="tester")


def _dead_process_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    # Start time 1 (a tick after boot): no live process can have it, even if the pid is reused.
    return f"pid-{process.pid}.1@{socket.gethostname()}"


def test_verify_flags_a_deleted_blob_and_a_stray_file(running_client: Client, settings: Settings) -> None:
    context = AppContext(settings)
    _save(context, "projects/p/kept.bin", b"kept")
    lost = _save(context, "projects/p/blobless.bin", b"blob deleted by hand")
    context.close()
    os.unlink(local(context.store).blob_path(lost.sha256))
    (settings.data_dir / "projects" / "p" / "stray.bin").write_bytes(b"no record")
    job = running_client.jobs.wait(running_client.jobs.submit("storage.verify").id, timeout=60)
    assert job.status == "succeeded", job.error
    assert job.result["checked"] == 2
    assert job.result["counts"] == {"blob_missing": 1, "stray_file": 1}
    assert {(problem["kind"], problem["key"]) for problem in job.result["problems"]} == {
        ("blob_missing", "projects/p/blobless.bin"), ("stray_file", "projects/p/stray.bin"),
    }
    assert [item["key"] for item in job.result["damaged"]] == ["projects/p/blobless.bin"]


def test_a_deleted_blob_is_restored_from_its_key_when_the_content_is_copied(context: AppContext) -> None:
    original = _save(context, "registry/versions/a/model.bin", b"weights")
    os.unlink(local(context.store).blob_path(original.sha256))
    with transaction(context.db.sessions) as session:
        copy = FileService(session, context.store).save_same_content("registry/versions/b/model.bin",
                                                                     original.sha256, actor="t")
    assert copy.size == 7 and context.store.has_content(original.sha256)
    assert local(context.store).path_of("registry/versions/b/model.bin").read_bytes() == b"weights"


def test_files_and_blobs_without_a_record_go_only_after_the_grace_period(context: AppContext) -> None:
    kept = _save(context, "projects/p/kept.bin", b"kept")
    stray = local(context.store).path_of("projects/p/dataset/stray.jpg")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a crash")
    orphan = context.store.put("projects/p/orphan.bin", iter([b"orphan"]))
    context.store.remove_key(orphan.key)
    young = sweep(context.db, context.store, grace_seconds=3600)
    assert (young.stray_files_removed, young.orphan_blobs_removed) == (0, 0) and stray.exists()
    old = sweep(context.db, context.store, grace_seconds=0)
    assert (old.stray_files_removed, old.orphan_blobs_removed) == (1, 1)
    assert not stray.exists() and not stray.parent.exists()
    assert not context.store.has_content(orphan.sha256)
    assert local(context.store).path_of("projects/p/kept.bin").read_bytes() == b"kept" and context.store.has_content(
        kept.sha256
    )


def test_sweep_finishes_what_a_dead_writer_committed_and_keeps_live_writers_temp(
    context: AppContext, client: Client
) -> None:
    content = b"committed, then the writer died before linking it"
    sha256 = hashlib.sha256(content).hexdigest()
    dead_unit = context.store.tmp_root / _dead_process_owner() / "unit-1"
    dead_unit.mkdir(parents=True)
    (dead_unit / sha256).write_bytes(content)
    (dead_unit / "partial-2").write_bytes(b"half an upload")
    with transaction(context.db.sessions) as session:
        StoredFileRepository(session).add(StoredFile(key="projects/p/late.bin", sha256=sha256, size=len(content)))
    live_unit = context.store.new_unit()  # this process is alive
    (live_unit / "partial-1").write_bytes(b"being written")
    client.projects.create("p", "detection")
    job = client.jobs.submit("test.count", project="p")  # pending: an active job
    job_unit = context.store.tmp_root / job_owner(job.id) / "work"
    job_unit.mkdir(parents=True)
    report = sweep(context.db, context.store, grace_seconds=0)  # even with no grace at all
    assert (report.temp_removed, report.keys_published) == (1, 1)
    assert not dead_unit.parent.exists()
    assert local(context.store).path_of("projects/p/late.bin").read_bytes() == content
    assert context.store.has_content(sha256)
    assert (live_unit / "partial-1").exists() and job_unit.exists()
