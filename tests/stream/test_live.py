"""Live sources: a stream faster than the model drops its oldest frames, counts them, and stays bounded; the
model is swapped between frames without losing one, and the live view shows the latest frame."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from modelyard.export import ExportedVariant
from modelyard.stream.worker import LIVE_QUEUE_FRAMES, QUEUE_FRAMES
from tests.databases import on_one_database
from tests.stream.conftest import ServerProcess
from tests.stream.factories import (
    VARIANT,
    ServedDetector,
    running,
    second_revision,
    wait_for,
    write_shapes_image,
    write_video,
)

IN_FLIGHT = 2  # a frame in the model and one in the sinks, outside both queues


def _resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


@on_one_database("sqlite")
def test_a_source_faster_than_the_model_drops_the_oldest_frames_and_counts_them(
    server: ServerProcess, detector: ServedDetector, tmp_path: Path
) -> None:
    client = server.client
    assert client is not None
    # A file opened as a camera stream: OpenCV decodes it as fast as it can, far faster than the detector runs,
    # and the source opens it again at its end as it would a stream that broke.
    video = write_video(tmp_path / "fast.avi", 40, 320, 240)
    client.pipelines.set_source(detector.project, "camera", device=str(video))
    (tmp_path / "out").mkdir()
    client.pipelines.add_sink(detector.project, "folder", path=tmp_path / "out")
    client.pipelines.start(detector.project)
    first = wait_for(lambda: (found := running(client, detector.project)) and found.metrics.frames_processed >= 3
                     and found, "the first predictions")  # fmt: skip
    memory_before = _resident_kib(first.worker_pid)
    status = wait_for(lambda: (found := running(client, detector.project)) and found.metrics.frames_dropped >= 300
                      and found, "hundreds of dropped frames")  # fmt: skip
    memory_after = _resident_kib(status.worker_pid)

    metrics = status.metrics
    assert metrics.frames_processed > 0
    assert metrics.frames_dropped > 5 * metrics.frames_processed
    assert metrics.queue_depth <= LIVE_QUEUE_FRAMES + QUEUE_FRAMES
    waiting = metrics.frames_in - metrics.frames_processed - metrics.frames_dropped - metrics.frames_failed
    assert 0 <= waiting <= LIVE_QUEUE_FRAMES + QUEUE_FRAMES + IN_FLIGHT
    assert memory_after - memory_before < 64 * 1024, "the worker's memory grew with the dropped frames"
    sequences = sorted(json.loads(path.read_text())["sequence"] for path in (tmp_path / "out").glob("*.json"))
    assert sequences[-1] - sequences[0] > len(sequences), "the predicted frames skip the dropped ones"


@on_one_database("sqlite")
def test_swapping_the_model_takes_effect_between_frames_without_losing_one(
    server: ServerProcess, detector: ServedDetector, detector_fp32: ExportedVariant, tmp_path: Path
) -> None:
    client = server.client
    assert client is not None
    client.pipelines.set_source(detector.project, "http")
    out = tmp_path / "out"
    out.mkdir()
    client.pipelines.add_sink(detector.project, "folder", path=out)
    client.pipelines.add_sink(detector.project, "live")
    client.pipelines.start(detector.project)
    images = [write_shapes_image(tmp_path / f"swap-{index}.png", index, 64, 48) for index in range(6)]
    client.pipelines.upload_frames(detector.project, images[:3])
    before = wait_for(lambda: (found := running(client, detector.project)) and found.metrics.frames_processed == 3
                      and found, "the first three frames")  # fmt: skip

    revision = second_revision(server.context, detector, detector_fp32)
    client.pipelines.enable(detector.project, revision, VARIANT)
    after = wait_for(lambda: (found := running(client, detector.project)) and found.metrics.revision_id == revision
                     and found, "the swap")  # fmt: skip
    client.pipelines.upload_frames(detector.project, images[3:])
    wait_for(lambda: len(list(out.glob("*.json"))) == 6, "the last three frames")

    written = sorted((json.loads(path.read_text()) for path in out.glob("*.json")), key=lambda doc: doc["sequence"])
    assert [document["revision_id"] for document in written] == [detector.revision_id] * 3 + [revision] * 3
    assert after.worker_pid == before.worker_pid and after.restarts == 0
    shown = next(iter(client.pipelines.live_frames(detector.project)))  # the live view: the latest frame shown
    assert shown["sequence"] in {document["sequence"] for document in written}
    assert base64.b64decode(shown["image_jpeg_base64"]).startswith(b"\xff\xd8")  # a JPEG
