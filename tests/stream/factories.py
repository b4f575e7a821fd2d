"""A served tiny detector, generated videos and images, and the local receivers the sinks deliver to."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.export import ExportedVariant
from modelyard.export.files import describe_files
from modelyard.revisions.models import ModelRevision, Variant
from modelyard.revisions.paths import revision_folder
from modelyard.sdk import Client
from modelyard.storage.service import FileService
from modelyard.stream.schemas import StreamStatus
from tests.waiting import START_CEILING_SECONDS

LABELS = ["cat", "hot dog"]  # the tiny detector's label map (tests/export/factories.py)
VARIANT = "openvino-fp32"


@dataclass(frozen=True)
class ServedDetector:
    project: str
    project_id: str
    revision_id: str


def serve_detector(client: Client, context: AppContext, exported: ExportedVariant, images: Path,
                   name: str = "shapes") -> ServedDetector:  # fmt: skip
    """A detection project whose pipeline serves the tiny detector's OpenVINO FP32 variant, stored as the export
    job stores variants, on a real dataset revision of two annotated images."""
    client.projects.create(name, "detection", labels=list[str | dict[str, Any]](LABELS))
    project_id = client.projects.get(name).id
    images.mkdir(parents=True, exist_ok=True)
    paths = [write_shapes_image(images / f"item-{index}.png", index, 96, 72) for index in range(2)]
    for item in client.datasets.upload(name, paths).created:
        client.datasets.annotate(name, item.id, boxes=[{"x": 4, "y": 4, "width": 20, "height": 20, "label": "cat"}])
    dataset_revision = client.datasets.create_revision(name)
    labels = [{"index": index, "id": label.id, "name": label.name}
              for index, label in enumerate(client.projects.labels(name))]  # fmt: skip
    revision_id = store_detector_revision(context, project_id, dataset_revision.id, exported, labels, 1)
    client.pipelines.enable(name, revision_id, VARIANT)
    return ServedDetector(name, project_id, revision_id)


def store_detector_revision(context: AppContext, project_id: str, dataset_revision_id: str,
                            exported: ExportedVariant, labels: list[dict[str, Any]], number: int) -> str:  # fmt: skip
    """A succeeded revision whose OpenVINO FP32 variant is the tiny detector, as the export job stores it."""
    names = [entry.name for entry in exported.files]
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        revision = ModelRevision(
            project_id=project_id, number=number, name=f"tiny detector #{number}",
            architecture_id="ssdlite320_mobilenet_v3_large", task_type="detection", status="succeeded",
            base="pretrained", dataset_revision_id=dataset_revision_id, configuration={}, labels=labels,
            weights_status="available", created_by="local",
        )  # fmt: skip
        session.add(revision)
        session.flush()
        folder = f"{revision_folder(project_id, revision.id)}/{VARIANT}"
        for file_name in [*names, "files.json"]:
            files.save(f"{folder}/{file_name}", exported.folder / file_name, actor="local")
        entries = describe_files(exported.folder, names)
        session.add(Variant(
            revision_id=revision.id, format="openvino", precision="fp32", folder=folder, model_file="model.xml",
            files=[{"name": e.name, "size": e.size, "sha256": e.sha256} for e in entries],
            size_bytes=sum(e.size for e in entries), created_by="local",
        ))  # fmt: skip
        return revision.id


def second_revision(context: AppContext, served: ServedDetector, exported: ExportedVariant) -> str:
    """Revision #2 of the served project, on the same dataset revision and weights as #1."""
    with transaction(context.db.read_sessions) as session:
        first = session.get(ModelRevision, served.revision_id)
        assert first is not None
        dataset_revision_id, labels = first.dataset_revision_id, list(first.labels)
    return store_detector_revision(context, served.project_id, dataset_revision_id, exported, labels, 2)


def shapes_frame(index: int, width: int, height: int) -> np.ndarray:
    """RGB: a red square and a blue disc that move a few pixels with each index, on a textured background."""
    rows, columns = np.mgrid[0:height, 0:width]
    frame = np.stack([(rows * 3 + columns) % 256, (columns * 2) % 256, (rows * 5) % 256], axis=2).astype(np.uint8)
    x = (8 + 6 * index) % max(1, width - 40)
    cv2.rectangle(frame, (x, 10), (x + 30, 40), (220, 30, 30), -1)
    cv2.circle(frame, (width - 30 - x // 2, height - 30), 18, (30, 30, 220), -1)
    return frame


def write_shapes_image(path: Path, index: int, width: int, height: int) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(shapes_frame(index, width, height), cv2.COLOR_RGB2BGR))
    return path


def write_video(path: Path, frames: int, width: int = 160, height: int = 120, fps: float = 15.0,
                codec: str = "MJPG") -> Path:  # fmt: skip
    """Moving shapes; Motion JPEG in AVI by default, or another FourCC OpenCV writes (`mp4v` in .mp4)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, (width, height))
    assert writer.isOpened()
    for index in range(frames):
        writer.write(cv2.cvtColor(shapes_frame(index, width, height), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def avi_jpeg_frames(video: Path) -> list[bytes]:
    """The JPEG of every frame of a Motion JPEG AVI, read from the file's RIFF chunks (no OpenCV): the `##dc`
    chunks of its `movi` list, in order."""
    data = video.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"AVI "
    frames: list[bytes] = []

    def walk(start: int, end: int) -> None:
        while start + 8 <= end:
            kind, size = data[start: start + 4], int.from_bytes(data[start + 4: start + 8], "little")
            if kind == b"LIST" and data[start + 8: start + 12] in (b"movi", b"rec "):
                walk(start + 12, start + 8 + size)
            elif kind[2:] == b"dc" and size:
                frames.append(data[start + 8: start + 8 + size])
            start += 8 + size + (size & 1)  # chunks are padded to an even length

    walk(12, len(data))
    assert all(frame.startswith(b"\xff\xd8") for frame in frames)
    return frames


def decoded_frames(video: Path) -> list[np.ndarray]:
    """The video's frames as OpenCV decodes them, RGB (the pipeline's frames for codecs other than Motion JPEG)."""
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        read, frame = capture.read()
        if not read:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def wait_for(condition: Callable[[], Any], what: str, ceiling: float = START_CEILING_SECONDS) -> Any:
    """The condition's first truthy value, polled every 50 ms; fails naming `what` after the ceiling."""
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def running(client: Client, project: str, restarts: int = 0) -> StreamStatus | None:
    """The stream's status once its worker reported, after `restarts` crashes at least."""
    found = client.pipelines.stream_status(project)
    reported = found.state == "running" and found.metrics is not None and found.restarts >= restarts
    return found if reported else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 503 to its first `failures` requests."""

    failures: int
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    url: str = ""


@contextmanager
def webhook_receiver(failures: int) -> Iterator[Receiver]:
    receiver = Receiver(failures)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with lock:
                receiver.attempts += 1
                refuse = receiver.attempts <= receiver.failures
                if not refuse:
                    receiver.received.append(json.loads(body))
            self.send_response(503 if refuse else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


MOSQUITTO = Path("/usr/sbin/mosquitto")


@contextmanager
def mosquitto(folder: Path) -> Iterator[int]:
    """Debian's mosquitto on 127.0.0.1 and a free port; yields the port once it accepts connections."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen([str(MOSQUITTO), "-c", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: _accepts(port), "mosquitto to listen", ceiling=30)
        yield port
    finally:
        broker.terminate()
        broker.wait(10)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
