"""A generated video (Motion JPEG, and MPEG-4 decoded by OpenCV) through the tiny detector into a folder sink:
every frame once, as the package predicts it."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.databases import on_one_database
from tests.packages import run_deployment_package
from tests.stream.conftest import ServerProcess
from tests.stream.factories import (
    VARIANT,
    ServedDetector,
    avi_jpeg_frames,
    decoded_frames,
    wait_for,
    write_video,
)

FRAMES = 12


def _frames_as_files(video: Path, codec: str, folder: Path) -> list[Path]:
    """Each frame as the image file the package is given: a Motion JPEG frame is the JPEG the video holds (taken
    from the file's chunks, not through OpenCV); any other codec's frame is OpenCV's decoding, kept as PNG."""
    folder.mkdir()
    if codec == "MJPG":
        jpegs = avi_jpeg_frames(video)
        for index, jpeg in enumerate(jpegs):
            (folder / f"{index}.jpg").write_bytes(jpeg)
        return [folder / f"{index}.jpg" for index in range(len(jpegs))]
    paths = []
    for index, pixels in enumerate(decoded_frames(video)):
        paths.append(folder / f"{index}.png")
        cv2.imwrite(str(paths[-1]), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    return paths


@on_one_database("sqlite")
@pytest.mark.parametrize(("codec", "suffix"), [("MJPG", "avi"), ("mp4v", "mp4")])
def test_every_video_frame_reaches_the_folder_sink_once_with_the_packages_predictions(
    server: ServerProcess, detector: ServedDetector, tmp_path: Path, codec: str, suffix: str
) -> None:
    client = server.client
    assert client is not None
    video = write_video(tmp_path / f"shapes.{suffix}", FRAMES, codec=codec)
    out = tmp_path / "out"
    out.mkdir()
    client.pipelines.set_source(detector.project, "video", path=video)
    sink = client.pipelines.add_sink(detector.project, "folder", path=out, draw=True)
    client.pipelines.start(detector.project)

    finished = wait_for(lambda: (status := client.pipelines.stream_status(detector.project)).state == "finished"
                        and status, "the video to finish")  # fmt: skip

    names = sorted(path.name for path in out.glob("*.json"))
    assert names == [f"frame-{index:08d}.json" for index in range(FRAMES)]
    written = [json.loads((out / name).read_text()) for name in names]
    assert [document["sequence"] for document in written] == list(range(FRAMES))
    assert {document["variant"] for document in written} == {VARIANT}
    assert len(list(out.glob("*.jpg"))) == FRAMES
    metrics = finished.metrics
    assert (metrics.frames_in, metrics.frames_processed, metrics.frames_dropped) == (FRAMES, FRAMES, 0)
    assert metrics.latency_ms_p99 >= metrics.latency_ms_p50 > 0 and metrics.model_ms_p50 > 0
    assert [(entry.id, entry.delivered, entry.failed) for entry in metrics.sinks] == [(sink.id, FRAMES, 0)]
    assert finished.desired_state == "stopped" and finished.restarts == 0

    paths = _frames_as_files(video, codec, tmp_path / "frames")
    assert len(paths) == FRAMES
    package = client.pipelines.deploy(detector.revision_id, VARIANT, tmp_path / "model.zip")
    printed = run_deployment_package(package, tmp_path / "unpacked", paths)
    assert sum(len(output["objects"]) for output in printed) > 0
    for output, document in zip(printed, written, strict=True):
        streamed = document["prediction"]
        assert (output["width"], output["height"]) == (streamed["width"], streamed["height"]) == (160, 120)
        assert [found["label"]["index"] for found in output["objects"]] == \
            [found["label"]["index"] for found in streamed["objects"]]  # fmt: skip
        for expected, found in zip(output["objects"], streamed["objects"], strict=True):
            assert np.allclose(expected["box"], found["box"], atol=1e-3)
            assert abs(expected["label"]["score"] - found["label"]["score"]) < 1e-4
