"""Large files through a real HTTP server on loopback: a raw-body upload cut short stores nothing, and a download
of altered bytes ends the transfer before its last byte, on each store."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.sdk import ApiError, Client
from modelyard.storage.s3 import S3ArtifactStore
from tests.server import free_port
from tests.storages import on_every_store
from tests.waiting import START_CEILING_SECONDS

MIB = 1024 * 1024
FILE_PATH = "/api/v1/registry/models/weights/versions/1/files/model.bin"


@pytest.fixture
def served(tmp_path: Path, storage: dict[str, Any]) -> Iterator[tuple[str, Settings]]:
    """The app behind uvicorn on a loopback port, in this process, on SQLite and the store of the run."""
    settings = Settings(**storage, data_dir=tmp_path / "data", log_level="warning")
    app = create_app(settings, run_jobs=False, configure_logs=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_until(lambda: server.started, "the server to start")
    url = f"http://127.0.0.1:{server.config.port}"
    with Client(url) as client:
        client.registry.register("weights", create_model=True)
    try:
        yield url, settings
    finally:
        server.should_exit = True
        thread.join()


@on_every_store()
def test_a_raw_upload_whose_client_goes_away_leaves_no_file_and_no_record(served: tuple[str, Settings]) -> None:
    url, settings = served
    host, port = url.removeprefix("http://").split(":")
    scratch = settings.data_dir / ".tmp"
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(
            f"PUT {FILE_PATH} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/octet-stream\r\n"
            f"content-length: {16 * MIB}\r\n\r\n".encode()
        )
        connection.sendall(os.urandom(6 * MIB))  # more than one block: the store is writing when the client leaves
        _wait_until(lambda: any(path.stat().st_size for path in scratch.glob("*/unit-*/partial-*")),
                    "the upload to reach the store")  # fmt: skip
    _wait_until(lambda: not list(scratch.glob("*/unit-*")), "the upload's transaction to roll back")
    with Client(url) as client:
        assert client.registry.files("weights/1") == []
    context = AppContext(settings)
    try:
        store = context.store
        if isinstance(store, S3ArtifactStore):
            assert (list(store.list_blobs()), list(store.list_pins())) == ([], [])
        else:
            files = [path for path in settings.data_dir.rglob("*") if path.is_file()]
            assert [path for path in files if not path.name.startswith("modelyard.db")] == []
    finally:
        context.close()


@on_every_store()
def test_a_download_of_altered_bytes_ends_before_the_last_byte(served: tuple[str, Settings], tmp_path: Path) -> None:
    url, settings = served
    payload = tmp_path / "model.bin"
    payload.write_bytes(os.urandom(5 * MIB))  # several chunks: the mismatch shows once most went out
    with Client(url) as client:
        stored = client.registry.upload("weights/1", payload)
    _alter_stored_bytes(settings, stored.sha256, stored.size)
    received = 0
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", url + FILE_PATH) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received += len(chunk)
    assert 0 < received < stored.size
    with Client(url) as client, pytest.raises(ApiError) as caught:
        client.registry.download_file("weights/1", "model.bin", tmp_path / "downloaded.bin")
    assert caught.value.code == "download_incomplete"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "model.bin"]


def _alter_stored_bytes(settings: Settings, sha256: str, size: int) -> None:
    """Flip the last byte of the stored content, keeping its size (as a failing disk or a stray write would)."""
    context = AppContext(settings)
    try:
        store = context.store
        if isinstance(store, S3ArtifactStore):
            name = store.blob_name(sha256)
            content = bytearray(store.client.get_object(Bucket=store.location.bucket, Key=name)["Body"].read())
            content[-1] ^= 0xFF
            store.client.put_object(Bucket=store.location.bucket, Key=name, Body=bytes(content))
        else:
            path = settings.data_dir / ".blobs" / sha256[:2] / sha256  # the key is a hard link to it
            os.chmod(path, 0o644)
            with path.open("r+b") as handle:
                handle.seek(size - 1)
                last = handle.read(1)
                handle.seek(size - 1)
                handle.write(bytes([last[0] ^ 0xFF]))
    finally:
        context.close()


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_CEILING_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)
