"""The two helpers of the one-pass transfers: a sha256 computed on a thread beside the writes, and a file whose
writeback starts while it is written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modelyard.digests import BackgroundDigest
from modelyard.storage.writeback import WRITE_SLICE, WRITEBACK_STEP, WritebackFile, write_fully


def test_the_background_digest_is_the_sha256_of_the_chunks_in_order() -> None:
    chunks = [os.urandom(size) for size in (1, 0, 70_000, 3, 1 << 20, 12_345)]
    with BackgroundDigest(ahead_bytes=100_000) as digest:
        for chunk in chunks:
            digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


def test_a_buffer_reused_after_it_was_handed_over_is_hashed_as_it_was() -> None:
    buffer = bytearray(b"a" * 1000)
    with BackgroundDigest() as digest:
        digest.update(buffer)
        buffer[:] = b"b" * 1000
        digest.update(memoryview(buffer))
        assert digest.hexdigest() == hashlib.sha256(b"a" * 1000 + b"b" * 1000).hexdigest()


def test_no_more_than_ahead_bytes_wait_to_be_hashed() -> None:
    """The writer hands chunks far faster than they are hashed (a chunk costs it a few microseconds, the hash
    about a millisecond): without the bound the queue would hold most of the 32 MiB."""
    chunk, ahead = os.urandom(512 * 1024), 1024 * 1024
    waiting: list[int] = []
    with BackgroundDigest(ahead_bytes=ahead) as digest:
        for _ in range(64):
            digest.update(chunk)
            with digest._changed:
                waiting.append(digest._pending)
        assert digest.hexdigest() == hashlib.sha256(chunk * 64).hexdigest()
    assert max(waiting) <= ahead
    assert max(waiting) > 0  # the hashing did fall behind: the bound was what held the writer


def test_leaving_the_block_on_an_error_stops_the_thread_and_refuses_more_chunks() -> None:
    digest = BackgroundDigest()
    with pytest.raises(ValueError, match="the writer failed"), digest:
        digest.update(b"abc")
        raise ValueError("the writer failed")
    assert not digest._thread.is_alive()
    with pytest.raises(RuntimeError, match="finished"):
        digest.update(b"more")


def test_a_writeback_file_holds_every_byte_written_and_counts_them(tmp_path: Path) -> None:
    data = [os.urandom(WRITEBACK_STEP // 3) for _ in range(7)] + [memoryview(os.urandom(10))]
    target = tmp_path / "out.bin"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT)
    try:
        out = WritebackFile(fd)
        for chunk in data:
            out.write(chunk)
        out.sync()
    finally:
        os.close(fd)
    assert out.size == sum(len(chunk) for chunk in data)
    assert target.read_bytes() == b"".join(bytes(chunk) for chunk in data)


def test_a_large_chunk_reaches_the_file_whole_in_calls_of_at_most_the_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel copies a write() of several MiB far slower than the same bytes in 1 MiB calls."""
    data = os.urandom(3 * WRITE_SLICE + 123)
    calls: list[int] = []
    real_write = os.write

    def counted_write(fd: int, chunk: bytes | memoryview) -> int:
        calls.append(len(chunk))
        return real_write(fd, chunk)

    target = tmp_path / "out.bin"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT)
    monkeypatch.setattr(os, "write", counted_write)
    try:
        write_fully(fd, data)
    finally:
        monkeypatch.undo()
        os.close(fd)
    assert target.read_bytes() == data
    assert calls == [WRITE_SLICE, WRITE_SLICE, WRITE_SLICE, 123]
