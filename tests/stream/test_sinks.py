"""Webhook and MQTT sinks against real receivers on 127.0.0.1, fed by the HTTP upload source."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from tests.databases import on_one_database
from tests.storages import on_the_bucket
from tests.stream.conftest import ServerProcess
from tests.stream.factories import ServedDetector, mosquitto, wait_for, webhook_receiver, write_shapes_image

IMAGES = 6


def _images(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_shapes_image(folder / f"upload-{index}.png", index, 64, 48) for index in range(IMAGES)]


@on_one_database("sqlite")
def test_webhook_receives_every_frame_once_in_order_after_refusing_the_first_attempts(
    server: ServerProcess, detector: ServedDetector, tmp_path: Path
) -> None:
    client = server.client
    assert client is not None
    with webhook_receiver(failures=3) as receiver:
        client.pipelines.set_source(detector.project, "http")
        sink = client.pipelines.add_sink(detector.project, "webhook", url=receiver.url)
        client.pipelines.start(detector.project)
        images = _images(tmp_path / "uploads")
        for image in images:  # one by one: the order they are sent in is the order of the stream
            client.pipelines.upload_frames(detector.project, image)
        wait_for(lambda: len(receiver.received) == IMAGES, "every webhook delivery")
        status = wait_for(lambda: (found := client.pipelines.stream_status(detector.project)).metrics
                          and found.metrics.sinks[0].delivered == IMAGES and found, "the delivery counts")  # fmt: skip

    sequences = [message["sequence"] for message in receiver.received]
    assert sequences == sorted(sequences) and len(set(sequences)) == IMAGES
    assert [message["name"].split("-", 2)[2] for message in receiver.received] == [image.name for image in images]
    assert receiver.attempts == IMAGES + 3
    counted = status.metrics.sinks[0]
    assert (counted.id, counted.delivered, counted.failed, counted.pending, counted.retrying) == \
        (sink.id, IMAGES, 3, 0, 0)  # fmt: skip
    assert list((server.settings.data_dir / "stream" / detector.project_id / "uploads").iterdir()) == []


@on_one_database("sqlite")
@on_the_bucket()  # the stream's worker process loads the model through the server's store
def test_mqtt_sink_publishes_each_frames_predictions_to_the_projects_topic(
    server: ServerProcess, detector: ServedDetector, tmp_path: Path
) -> None:
    client = server.client
    assert client is not None
    with mosquitto(tmp_path / "broker") as port:
        received: list[dict[str, Any]] = []
        subscribed = threading.Event()
        subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber")
        subscriber.on_connect = lambda mqtt_client, *_: mqtt_client.subscribe("modelyard/shapes/#", qos=1)
        subscriber.on_subscribe = lambda *_: subscribed.set()
        subscriber.on_message = lambda _client, _data, message: received.append(
            {"topic": message.topic, "qos": message.qos, **json.loads(message.payload)})  # fmt: skip
        subscriber.connect("127.0.0.1", port)
        subscriber.loop_start()
        try:
            assert subscribed.wait(30)
            client.pipelines.set_source(detector.project, "http")
            client.pipelines.add_sink(detector.project, "mqtt", host="127.0.0.1", port=port)
            client.pipelines.start(detector.project)
            client.pipelines.upload_frames(detector.project, _images(tmp_path / "uploads"))
            wait_for(lambda: len(received) == IMAGES, "every MQTT message")
        finally:
            subscriber.loop_stop()
            subscriber.disconnect()

    assert {message["topic"] for message in received} == {"modelyard/shapes/predictions"}
    assert {message["qos"] for message in received} == {1}
    assert sorted(message["name"].split("-", 2)[2] for message in received) == \
        sorted(f"upload-{index}.png" for index in range(IMAGES))  # fmt: skip
    for message in received:
        assert message["project_id"] == detector.project_id and message["revision_id"] == detector.revision_id
        prediction = message["prediction"]
        assert (prediction["task"], prediction["width"], prediction["height"]) == ("detection", 64, 48)
        assert all(found["label"]["name"] in ("cat", "hot dog") for found in prediction["objects"])
