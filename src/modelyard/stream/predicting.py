"""One frame through the enabled variant, then the stream's settings: region of interest and label filter.

The predictor is the one prediction requests and batch jobs use (`Predictor`, fed the file or the RGB frame),
so a frame's predictions are those of the deployment package on the same image (a Motion JPEG frame: on its JPEG).
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps

from modelyard.inference import DetectedObject, Prediction, Predictor
from modelyard.stream.frames import Frame
from modelyard.stream.schemas import Region, StreamSettings


def frame_pixels(frame: Frame) -> np.ndarray:
    """The frame as RGB uint8 pixels, upright (files are turned by their EXIF orientation, as predictions are)."""
    if frame.image is not None:
        return frame.image
    with Image.open(_file(frame)) as opened:
        return np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))


def _file(frame: Frame) -> Path | BinaryIO:
    """An encoded frame: its file (folder, upload) or its JPEG (Motion JPEG stream) as an open file."""
    if frame.encoded is not None:
        return io.BytesIO(frame.encoded)
    assert frame.path is not None
    return frame.path


def predict_frame(predictor: Predictor, frame: Frame, settings: StreamSettings) -> Prediction:
    if settings.region is None:
        prediction = predictor.predict(frame.image if frame.image is not None else _file(frame))
    else:
        prediction = _predict_region(predictor, frame_pixels(frame), settings.region)
    if settings.labels is not None:
        prediction = _keep_labels(prediction, set(settings.labels))
    return prediction


def _predict_region(predictor: Predictor, pixels: np.ndarray, region: Region) -> Prediction:
    height, width = pixels.shape[:2]
    right, bottom = min(width, region.x + region.width), min(height, region.y + region.height)
    if region.x >= width or region.y >= height:
        raise ValueError(f"the region of interest starts outside the {width}x{height} frame")
    inside = predictor.predict(np.ascontiguousarray(pixels[region.y: bottom, region.x: right]))
    shifted = [_shifted(found, region.x, region.y) for found in inside.objects]
    return dataclasses.replace(inside, width=width, height=height, objects=shifted)


def _shifted(found: DetectedObject, dx: int, dy: int) -> DetectedObject:
    x, y, box_width, box_height = found.box
    polygons = [[value + (dx if index % 2 == 0 else dy) for index, value in enumerate(polygon)]
                for polygon in found.polygons]  # fmt: skip
    return DetectedObject(found.label, (x + dx, y + dy, box_width, box_height), polygons)


def _keep_labels(prediction: Prediction, names: set[str]) -> Prediction:
    return dataclasses.replace(
        prediction,
        labels=[label for label in prediction.labels if label.name in names],
        objects=[found for found in prediction.objects if found.label.name in names],
    )


def frame_payload(project_id: str, frame: Frame, prediction: Prediction, revision_id: str,
                  variant: str) -> dict[str, Any]:  # fmt: skip
    """The JSON document every sink receives for a frame."""
    return {
        "project_id": project_id,
        "sequence": frame.sequence,
        "name": frame.name,
        "source_timestamp": datetime.fromtimestamp(frame.timestamp, UTC).isoformat(),
        "position_ms": frame.position_ms,
        "revision_id": revision_id,
        "variant": variant,
        "prediction": prediction.to_dict(),
    }


def draw_predictions(pixels: np.ndarray, prediction: dict[str, Any]) -> np.ndarray:
    """A copy of the RGB frame with each box and its label drawn, or the labels written for classifiers."""
    import cv2

    canvas = np.ascontiguousarray(pixels.copy())
    for found in prediction.get("objects", []):
        x, y, width, height = (int(round(value)) for value in found["box"])
        cv2.rectangle(canvas, (x, y), (x + width, y + height), (255, 64, 0), 2)
        caption = f"{found['label']['name']} {found['label']['score']:.2f}"
        cv2.putText(canvas, caption, (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 64, 0), 1)
    for row, label in enumerate(prediction.get("labels", [])):
        cv2.putText(canvas, f"{label['name']} {label['score']:.2f}", (6, 18 + 18 * row), cv2.FONT_HERSHEY_SIMPLEX,
                    0.55, (255, 64, 0), 1)  # fmt: skip
    return canvas
