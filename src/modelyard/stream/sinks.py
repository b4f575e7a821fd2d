"""Where a stream's predictions go. Folder, MQTT and live-view sinks write from the sink stage; a webhook's
messages are queued in the database with the frame's record and delivered by `webhook.WebhookDelivery`."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from modelyard.stream.frames import PredictedFrame
from modelyard.stream.predicting import draw_predictions, frame_pixels

log = structlog.get_logger("modelyard.stream.sinks")
MQTT_PUBLISH_TIMEOUT_SECONDS = 5.0
LIVE_FRAMES_PER_SECOND = 10.0


@dataclass
class SinkCounters:
    delivered: int = 0
    failed: int = 0


class FrameSink(Protocol):
    id: str
    kind: str
    counters: SinkCounters

    def write(self, item: PredictedFrame) -> None:
        """Deliver one frame's predictions; failures are counted, never raised."""

    def close(self) -> None: ...


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _stem(item: PredictedFrame) -> str:
    return Path(item.frame.name).stem if item.frame.path is not None else item.frame.name


def _jpeg(pixels: Any) -> bytes:
    import cv2

    encoded, data = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not encoded:
        raise ValueError("the frame cannot be encoded as JPEG")
    return bytes(data)


class FolderSink:
    """NAME.json per frame (the file's stem, or frame-SEQUENCE), and NAME.jpg with the predictions drawn."""

    kind = "folder"

    def __init__(self, sink_id: str, folder: Path, draw: bool) -> None:
        self.id, self.folder, self.draw = sink_id, folder, draw
        self.counters = SinkCounters()

    def write(self, item: PredictedFrame) -> None:
        try:
            stem = _stem(item)
            data = json.dumps(item.payload).encode()
            try:
                _write_atomically(self.folder / f"{stem}.json", data)
            except FileNotFoundError:  # the folder is made when missing, not checked with a system call per frame
                self.folder.mkdir(parents=True, exist_ok=True)
                _write_atomically(self.folder / f"{stem}.json", data)
            if self.draw:
                drawn = draw_predictions(frame_pixels(item.frame), item.payload["prediction"])
                _write_atomically(self.folder / f"{stem}.jpg", _jpeg(drawn))
        except (OSError, ValueError) as error:
            self.counters.failed += 1
            log.warning("stream.sink.failed", sink=self.id, kind=self.kind, error=str(error))
            return
        self.counters.delivered += 1

    def close(self) -> None:
        return None


class MqttSink:
    """Each frame's JSON published with QoS 1 (the broker acknowledges it) to the project's topic."""

    kind = "mqtt"

    def __init__(self, sink_id: str, host: str, port: int, topic: str) -> None:
        import paho.mqtt.client as mqtt

        self.id, self.topic = sink_id, topic
        self.counters = SinkCounters()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"modelyard-{sink_id[:12]}")
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.connect_async(host, port)
        self.client.loop_start()

    def write(self, item: PredictedFrame) -> None:
        try:
            published = self.client.publish(self.topic, json.dumps(item.payload), qos=1)
            published.wait_for_publish(MQTT_PUBLISH_TIMEOUT_SECONDS)
            acknowledged = published.is_published()
        except (RuntimeError, ValueError, OSError) as error:  # paho raises these while disconnected
            log.warning("stream.sink.failed", sink=self.id, kind=self.kind, error=str(error))
            acknowledged = False
        if acknowledged:
            self.counters.delivered += 1
        else:
            self.counters.failed += 1

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class LiveSink:
    """The latest frame (JPEG with predictions drawn) and its JSON, for the live view's event stream; written at
    most ten times a second, so a fast stream costs the disk little."""

    kind = "live"

    def __init__(self, sink_id: str, folder: Path) -> None:
        self.id, self.folder = sink_id, folder
        self.counters = SinkCounters()
        self._last = 0.0
        self._lock = threading.Lock()

    def write(self, item: PredictedFrame) -> None:
        now = time.monotonic()
        if now - self._last < 1.0 / LIVE_FRAMES_PER_SECOND:
            self.counters.delivered += 1  # the view shows the latest frame: one skipped here is superseded
            return
        self._last = now
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            drawn = draw_predictions(frame_pixels(item.frame), item.payload["prediction"])
            _write_atomically(self.folder / "latest.jpg", _jpeg(drawn))
            _write_atomically(self.folder / "latest.json", json.dumps(item.payload).encode())
        except (OSError, ValueError) as error:
            self.counters.failed += 1
            log.warning("stream.sink.failed", sink=self.id, kind=self.kind, error=str(error))
            return
        self.counters.delivered += 1

    def close(self) -> None:
        return None
