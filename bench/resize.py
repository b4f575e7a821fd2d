"""CPU per frame of modelyard's resize of RGB arrays against Pillow's (the anchor, whose values it repeats bit for
bit: a copy into Pillow, its resize, a copy back), and of a 640x480 Motion JPEG frame's way to a 320x320 input: the
stream's now (the frame's JPEG decoded as a JPEG file is) against before (OpenCV's FFmpeg decoding, then the
array's resize through Pillow).

    PYTHONPATH=src:. .venv/bin/python bench/resize.py --images 100

CPU time of the whole process (FFmpeg may decode in threads of its own); each figure is the median of `--rounds`
runs, the two sides alternating.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from modelyard.architectures.manifest import InputSpec
from modelyard.training.resample import resize_array
from modelyard.variant.preprocess import resize_image
from tests.stream.factories import avi_jpeg_frames, shapes_frame, write_video

SIZES = [((640, 480), (320, 320)), ((640, 480), (320, 240)), ((1280, 720), (320, 320)), ((1280, 720), (640, 640)),
         ((1920, 1080), (480, 480)), ((1920, 1080), (640, 640)), ((640, 480), (224, 224))]  # fmt: skip
SPEC = InputSpec.model_validate({"size": [320, 320], "mean": [0.5] * 3, "std": [0.5] * 3, "resize": "stretch"})


def pillow(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(frame, "RGB").resize(size, Image.Resampling.BILINEAR))


def cpu_ms(work: Callable[[int], Any], count: int) -> float:
    started = time.process_time()  # the whole process: FFmpeg may decode in threads of its own
    for index in range(count):
        work(index)
    return (time.process_time() - started) * 1000 / count


def side_by_side(ours: Callable[[int], Any], anchor: Callable[[int], Any], count: int, rounds: int) -> dict[str, float]:
    ours(0), anchor(0)  # warm: plans, imports
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(cpu_ms(ours, count))
        theirs.append(cpu_ms(anchor, count))
    ours_ms, anchor_ms = statistics.median(mine), statistics.median(theirs)
    return {"ours_ms": round(ours_ms, 3), "anchor_ms": round(anchor_ms, 3), "speed_up": round(anchor_ms / ours_ms, 2)}


def compare_resizes(width: int, height: int, size: tuple[int, int], count: int, rounds: int) -> dict[str, Any]:
    frames = [shapes_frame(index, width, height) for index in range(8)]
    equal = all(np.array_equal(resize_array(frame, size), pillow(frame, size)) for frame in frames)
    timing = side_by_side(lambda index: resize_array(frames[index % 8], size),
                          lambda index: pillow(frames[index % 8], size), count, rounds)  # fmt: skip
    return {"identical": equal, **timing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    count = options.images
    results: list[dict[str, Any]] = []
    for (width, height), size in SIZES:
        results.append({"resize": f"{width}x{height} to {size[0]}x{size[1]}",
                        **compare_resizes(width, height, size, count, options.rounds)})  # fmt: skip
        print(json.dumps(results[-1]), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-resize-") as scratch:
        video = write_video(Path(scratch) / "shapes.avi", 60, 640, 480)
        jpegs = avi_jpeg_frames(video)
        capture = FrameReader(video)

        def stream_path(index: int) -> np.ndarray:
            return resize_image(io.BytesIO(jpegs[index % len(jpegs)]), SPEC).pixels

        def opencv_then_pillow(_: int) -> np.ndarray:
            return pillow(capture.next_rgb(), (320, 320))

        row = side_by_side(stream_path, opencv_then_pillow, count, options.rounds)
        capture.release()
        results.append({"frame": "640x480 MJPEG frame to 320x320 input", **row})
        print(json.dumps(results[-1]), flush=True)


class FrameReader:
    """The video's frames decoded by OpenCV (FFmpeg), as the stream read them before, looped."""

    def __init__(self, video: Path) -> None:
        import cv2

        self.cv2, self.video = cv2, video
        self.capture = cv2.VideoCapture(str(video))

    def next_rgb(self) -> np.ndarray:
        read, frame = self.capture.read()
        if not read:
            self.capture.release()
            self.capture = self.cv2.VideoCapture(str(self.video))
            read, frame = self.capture.read()
        return self.cv2.cvtColor(frame, self.cv2.COLOR_BGR2RGB)

    def release(self) -> None:
        self.capture.release()

if __name__ == "__main__":
    main()
