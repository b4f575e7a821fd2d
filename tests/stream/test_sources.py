"""What a video source hands on: a Motion JPEG stream's own JPEGs, any other codec decoded by OpenCV."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from modelyard.export import ExportedVariant
from modelyard.inference import Predictor
from modelyard.stream.frames import Frame
from modelyard.stream.predicting import frame_pixels, predict_frame
from modelyard.stream.schemas import Region, StreamSettings
from modelyard.stream.sources import Capture
from tests.stream.factories import avi_jpeg_frames, decoded_frames, write_video


def _read_all(capture: Capture) -> list[dict[str, object]]:
    frames = []
    while (frame := capture.read()) is not None:
        frames.append(frame)
    capture.release()
    return frames


def test_a_motion_jpeg_video_gives_each_frame_as_the_jpeg_the_file_holds(tmp_path: Path) -> None:
    video = write_video(tmp_path / "shapes.avi", 9)
    capture = Capture(str(video))

    frames = _read_all(capture)

    assert capture.jpeg and capture.fps == 15.0
    assert [frame["encoded"] for frame in frames] == avi_jpeg_frames(video)
    assert all(set(frame) == {"encoded"} for frame in frames)


def test_another_codec_gives_each_frame_decoded_by_opencv_as_rgb(tmp_path: Path) -> None:
    video = write_video(tmp_path / "shapes.mp4", 9, codec="mp4v")
    capture = Capture(str(video))

    frames = _read_all(capture)

    assert not capture.jpeg
    expected = decoded_frames(video)
    assert len(frames) == len(expected) == 9
    for frame, pixels in zip(frames, expected, strict=True):
        assert np.array_equal(frame["image"], pixels)  # type: ignore[arg-type]


def test_a_jpeg_frame_is_predicted_as_its_jpeg_file_is_and_drawn_from_its_full_decoding(
    detector_fp32: ExportedVariant, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "shapes.avi", 4, 200, 150)
    jpeg = avi_jpeg_frames(video)[3]
    (tmp_path / "frame.jpg").write_bytes(jpeg)
    frame = Frame(0, 0.0, "frame-00000000", encoded=jpeg)
    predictor = Predictor.open(detector_fp32.folder, confidence_threshold=0.05)

    streamed = predict_frame(predictor, frame, StreamSettings())

    assert streamed == predictor.predict(tmp_path / "frame.jpg")
    assert len(streamed.objects) > 0 and (streamed.width, streamed.height) == (200, 150)
    pixels = frame_pixels(frame)
    assert np.array_equal(pixels, np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")))
    region = Region(x=30, y=20, width=120, height=100)
    cropped = predict_frame(predictor, frame, StreamSettings(region=region))
    crop = predictor.predict(np.ascontiguousarray(pixels[20:120, 30:150]))
    assert [item.label.index for item in cropped.objects] == [item.label.index for item in crop.objects]
    assert (cropped.width, cropped.height) == (200, 150)
