"""Helpers for the crash tests: a real server paused at a named point of a write, killed there, restarted."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.storage.crash_points import MARKER_ENV, PAUSE_ENV
from modelyard.storage.models import StoredFile
from modelyard.storage.sweep import SweepReport
from tests.server import ServerProcess
from tests.storages import local
from tests.waiting import JOB_CEILING_SECONDS, START_CEILING_SECONDS

KEY_FOLDERS = ("projects", "registry", "dataset_imports")


@contextmanager
def server_paused_at(
    point: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServerProcess, Callable[[], None]]]:
    """A server (and its job processes) that stop for good at `point`; the callable waits for that
    moment and SIGKILLs the server with every process under it."""
    marker = tmp_path / "paused.pid"
    monkeypatch.setenv(PAUSE_ENV, point)
    monkeypatch.setenv(MARKER_ENV, str(marker))
    server = ServerProcess(settings, tmp_path / "server.log")
    server.start()

    def kill_when_paused() -> None:
        assert server.process is not None
        deadline = time.monotonic() + JOB_CEILING_SECONDS
        while not marker.exists():
            assert server.process.poll() is None, f"the server exited: {server.log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"{point} was never reached"
            time.sleep(0.05)
        paused = int(marker.read_text())
        processes = [server.process.pid, *_descendants(server.process.pid)]
        assert paused in processes
        for pid in processes:
            _kill(pid)
        server.process.wait(START_CEILING_SECONDS)
        for pid in processes:
            _wait_gone(pid)

    try:
        yield server, kill_when_paused
    finally:
        server.stop()


def in_background(call: Callable[[], object]) -> threading.Thread:
    """Run a request that will never be answered (its server is paused, then killed)."""

    def run() -> None:
        try:
            call()
        except Exception:  # noqa: BLE001 - the server is killed while it holds the request
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def restart(settings: Settings) -> SweepReport:
    """Start the app again on the data directory (migrations, job runner, start-up sweep); the sweep's report."""
    app = create_app(settings, configure_logs=False)
    with TestClient(app):
        sweep = app.state.storage_sweep
        sweep.join(START_CEILING_SECONDS)
        assert not sweep.is_alive() and sweep.report is not None, "the start-up sweep did not finish"
        return sweep.report


def assert_data_dir_is_what_the_database_records(settings: Settings) -> dict[str, tuple[str, int]]:
    """Every file under the store has a record and every record its intact file and blob; no temp file."""
    context = AppContext(settings)
    try:
        with transaction(context.db.read_sessions) as session:
            records = {row.key: (row.sha256, row.size) for row in session.scalars(select(StoredFile))}
        data = settings.data_dir
        files = {
            path.relative_to(data).as_posix()
            for folder in KEY_FOLDERS
            for path in (data / folder).rglob("*")
            if path.is_file()
        }
        assert files == set(records), f"without a record: {sorted(files - set(records))[:5]}, " \
                                      f"without a file: {sorted(set(records) - files)[:5]}"
        assert {path.name for path in (data / ".blobs").glob("*/*")} == {sha256 for sha256, _ in records.values()}
        assert [path for path in (data / ".tmp").rglob("*") if path.is_file()] == []
        store = local(context.store)
        damaged = {key: store.inspect(key, *fingerprint, rehash=True) for key, fingerprint in records.items()}
        assert {key: problem for key, problem in damaged.items() if problem} == {}
        return records
    finally:
        context.close()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + START_CEILING_SECONDS
    status = Path(f"/proc/{pid}/status")
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():
                return  # dead, waiting for its parent to collect it
        except FileNotFoundError:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} outlived SIGKILL")
