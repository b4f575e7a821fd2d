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


def _rgb(frame: Any) -> Any:
    import cv2

    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _open_capture(target: str | int) -> Any:
    import cv2

    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"OpenCV cannot open {target!r}")
    return capture


class VideoSource:
    """A video file, once or looped; as fast as the model takes frames, or at the file's own rate (`realtime`)."""

    def __init__(self, path: Path, sequence: SequenceCounter, loop: bool, realtime: bool) -> None:
        self.path, self.sequence, self.loop, self.live = path, sequence, loop, realtime

    def run(self, emit: Emit, stop: threading.Event) -> None:
        import cv2

        if not self.path.is_file():
            raise SourceError(f"the video {self.path} does not exist")
        while not stop.is_set():
            capture = _open_capture(str(self.path))
            fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
            started, index = time.monotonic(), 0
            try:
                while not stop.is_set():
                    if self.live:
                        stop.wait(max(0.0, started + index / fps - time.monotonic()))
                    read, pixels = capture.read()
                    if not read:
                        break
                    frame = Frame(self.sequence.take(), time.time(), f"frame-{index:08d}", image=_rgb(pixels),
                                  position_ms=round(index * 1000 / fps, 3))  # fmt: skip
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
                capture = _open_capture(self.target)
            except SourceError:
                failures += 1
                if failures >= CAMERA_REOPEN_ATTEMPTS:
                    raise
                stop.wait(0.5 * failures)
                continue
            try:
                while not stop.is_set():
                    read, pixels = capture.read()
                    if not read:
                        break  # the stream ended or broke: open it again
                    failures = 0
                    sequence = self.sequence.take()
                    if not emit(Frame(sequence, time.time(), f"frame-{sequence:08d}", image=_rgb(pixels))):
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
