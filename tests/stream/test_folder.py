"""A watched folder: each image once, across a SIGKILL of the worker and a restart of the server."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from sqlalchemy import func, select

from modelyard.db.engine import transaction
from modelyard.stream.models import ProcessedFile
from tests.databases import on_one_database
from tests.stream.conftest import ServerProcess
from tests.stream.factories import ServedDetector, running, wait_for, write_shapes_image


def _processed(server: ServerProcess, project_id: str) -> int:
    with transaction(server.context.db.read_sessions) as session:
        return session.scalar(select(func.count()).where(ProcessedFile.project_id == project_id)) or 0


def _add_images(folder: Path, first: int, count: int) -> list[str]:
    return [write_shapes_image(folder / f"image-{index:03d}.png", index, 64, 48).name
            for index in range(first, first + count)]  # fmt: skip


@on_one_database("sqlite")
def test_watched_folder_images_are_each_processed_once_across_a_kill_and_a_server_restart(
    server: ServerProcess, detector: ServedDetector, tmp_path: Path
) -> None:
    client = server.client
    assert client is not None
    incoming, out = tmp_path / "incoming", tmp_path / "out"
    incoming.mkdir()
    out.mkdir()
    names = _add_images(incoming, 0, 3)  # there before the start
    client.pipelines.set_source(detector.project, "folder", path=incoming)
    client.pipelines.add_sink(detector.project, "folder", path=out)
    client.pipelines.start(detector.project)
    wait_for(lambda: _processed(server, detector.project_id) >= 3, "the first images")

    names += _add_images(incoming, 3, 12)  # while it runs: the worker is killed in the middle of them
    wait_for(lambda: _processed(server, detector.project_id) >= 5, "some of the new images")
    first_pid = client.pipelines.stream_status(detector.project).worker_pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    restarted = wait_for(lambda: running(server.sdk, detector.project, restarts=1), "the restarted worker")
    assert restarted.worker_pid != first_pid and "exited with code -9" in restarted.last_error
    wait_for(lambda: _processed(server, detector.project_id) == len(names), "every image after the kill")

    server.stop()  # the server stops with the stream running; images arrive while it is down
    names += _add_images(incoming, 15, 3)
    client = server.start()
    assert client.pipelines.stream_status(detector.project).desired_state == "running"
    wait_for(lambda: _processed(server, detector.project_id) == len(names), "the images added while stopped")

    written = {path.stem: json.loads(path.read_text()) for path in out.glob("*.json")}
    assert sorted(written) == sorted(Path(name).stem for name in names)
    assert all(document["prediction"]["task"] == "detection" for document in written.values())
    sequences = sorted(document["sequence"] for document in written.values())
    assert len(set(sequences)) == len(names)
    status = wait_for(lambda: running(client, detector.project), "the resumed worker's report")
    assert status.restarts == 1 and status.metrics.frames_dropped == 0  # the crash stays on record
