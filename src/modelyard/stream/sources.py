"""Where a stream's frames come from: a video file, a camera or network stream, a watched folder, uploads.

Every source runs in its own thread and hands frames to `emit`, which blocks (folder, file) or drops the oldest
queued frame (live sources) when the model lags. `run` returns when the source is exhausted (a video played once)
or `stop` is set.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from modelyard.inference.batch import IMAGE_SUFFIXES
from modelyard.stream.frames import Frame

Emit = Callable[[Frame], bool]
FOLDER_POLL_SECONDS = 0.1
CAMERA_REOPEN_ATTEMPTS = 5


class SourceError(RuntimeError):
    """The source cannot deliver frames (a file or stream OpenCV cannot open)."""


class SequenceCounter:
    """SequenceCounter numbers, counted on from where the stream stopped last."""

    def __init__(self, start: int) -> None:
        self.next = start
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            value, self.next = self.next, self.next + 1
            return value


class FrameSource(Protocol):
    live: bool

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Emit frames until exhausted or stopped."""


JPEG_START = b"\xff\xd8"


class Capture:
    """A stream OpenCV opens, read frame by frame.

    A Motion JPEG stream (an MJPG video, most USB and IP cameras' MJPEG) is read undecoded: each frame is the
    JPEG the stream carries, which the predictor decodes as it decodes a JPEG file (libjpeg, scaled down inside
    the decoder when the model's input is half the frame or less). That costs less than OpenCV's decoding (1.0
    against 1.5 ms at 640x480), and gives a frame the pixels, and so the predictions, of the same JPEG uploaded
    or packaged. Other codecs are decoded by OpenCV (FFmpeg) into RGB arrays.
    """

    def __init__(self, target: str | int) -> None:
        import cv2

        self._cv2 = cv2
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"OpenCV cannot open {target!r}")
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._pending: dict[str, Any] | None = None
        self.jpeg = self._read_jpeg(target)

    def _read_jpeg(self, target: str | int) -> bool:
        """Switch to undecoded frames when the stream is Motion JPEG and its first frame is a JPEG."""
        cv2 = self._cv2
        fourcc = int(self._capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").upper()
        if fourcc != b"MJPG" or not self._capture.set(cv2.CAP_PROP_FORMAT, -1):
            return False
        read, packet = self._capture.read()
        first = packet.tobytes() if read and packet is not None else b""
        if first.startswith(JPEG_START):
            self._pending = {"encoded": first}
            return True
        # Not what was announced: read the stream from its start again, decoded by OpenCV.
        self._capture.release()
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            raise SourceError(f"OpenCV cannot open {target!r} again")
        return False

    def read(self) -> dict[str, Any] | None:
        """The next frame as `Frame` fields (`encoded` JPEG bytes or an RGB `image`); None at the end."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        read, pixels = self._capture.read()
        if not read or pixels is None:
            return None
        if self.jpeg:
            return {"encoded": pixels.tobytes()}
        return {"image": self._cv2.cvtColor(pixels, self._cv2.COLOR_BGR2RGB)}

    def release(self) -> None:
        self._capture.release()


class VideoSource:
    """A video file, once or looped; as fast as the model takes frames, or at the file's own rate (`realtime`)."""

    def __init__(self, path: Path, sequence: SequenceCounter, loop: bool, realtime: bool) -> None:
        self.path, self.sequence, self.loop, self.live = path, sequence, loop, realtime

    def run(self, emit: Emit, stop: threading.Event) -> None:
        if not self.path.is_file():
            raise SourceError(f"the video {self.path} does not exist")
        while not stop.is_set():
            capture = Capture(str(self.path))
            fps = capture.fps or 25.0
            started, index = time.monotonic(), 0
            try:
                while not stop.is_set():
                    if self.live:
                        stop.wait(max(0.0, started + index / fps - time.monotonic()))
                    pixels = capture.read()
                    if pixels is None:
                        break
                    frame = Frame(self.sequence.take(), time.time(), f"frame-{index:08d}",
                                  position_ms=round(index * 1000 / fps, 3), **pixels)  # fmt: skip
                    index += 1
                    if not emit(frame):
                        return
            finally:
                capture.release()
            if not self.loop:
                return


class CameraSource:
    """A camera index or a stream URL (RTSP, HTTP) that OpenCV opens; reopened when the stream breaks."""

    live = True

    def __init__(self, device: str, sequence: SequenceCounter) -> None:
        self.target: str | int = int(device) if device.isdigit() else device
        self.sequence = sequence

    def run(self, emit: Emit, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                capture = Capture(self.target)
            except SourceError:
                failures += 1
                if failures >= CAMERA_REOPEN_ATTEMPTS:
                    raise
                stop.wait(0.5 * failures)
                continue
            try:
                while not stop.is_set():
                    pixels = capture.read()
                    if pixels is None:
                        break  # the stream ended or broke: open it again
                    failures = 0
                    sequence = self.sequence.take()
                    if not emit(Frame(sequence, time.time(), f"frame-{sequence:08d}", **pixels)):
                        return
            finally:
                capture.release()


class FolderSource:
    """Images as they arrive in a folder, each once: `processed` holds the names already done (kept in the
    database), and a file is taken once its size and time stayed the same for one poll (fully written)."""

    live = False

    def __init__(self, folder: Path, sequence: SequenceCounter, processed: set[str]) -> None:
        self.folder, self.sequence = folder, sequence
        self.taken = set(processed)
        self._sizes: dict[str, tuple[int, int]] = {}

    def run(self, emit: Emit, stop: threading.Event) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"the folder {self.folder} does not exist")
        while not stop.is_set():
            for path in self._ready():
                self.taken.add(path.name)
                if not emit(Frame(self.sequence.take(), time.time(), path.name, path=path)):
                    return
            stop.wait(FOLDER_POLL_SECONDS)

    def _ready(self) -> list[Path]:
        sizes: dict[str, tuple[int, int]] = {}
        found: list[tuple[int, str, Path]] = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name in self.taken or Path(entry.name).suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                if not entry.is_file():
                    continue
                sizes[entry.name] = (stat.st_size, stat.st_mtime_ns)
                if self._sizes.get(entry.name) == sizes[entry.name]:
                    found.append((stat.st_mtime_ns, entry.name, Path(entry.path)))
        self._sizes = sizes
        return [path for _, _, path in sorted(found)]
