"""The resize of RGB arrays (video and camera frames, regions of interest): Pillow's values, bit for bit."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from modelyard.training import resample

CAMERA_TO_MODEL = [
    ((640, 480), (320, 320)),  # stretched: 2 across, 3/2 down
    ((640, 480), (320, 240)),  # letterboxed: 2 both ways
    ((1280, 720), (320, 320)),
    ((1280, 720), (640, 640)),  # 9/8 down: eight row phases
    ((1920, 1080), (480, 480)),
    ((160, 120), (320, 320)),  # enlarged
    ((800, 600), (400, 400)),
]


def _pillow(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels, "RGB").resize(size, Image.Resampling.BILINEAR))


def _random(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _small_sizes() -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Every ratio shape the phases meet, including images narrower than a filter and single pixels."""
    for width in range(1, 40, 3):
        for height in range(1, 40, 5):
            for out_width in (1, 2, 7, 16, 32):
                yield (width, height), (out_width, max(1, out_width * height // width))


@pytest.mark.parametrize(("size", "out"), CAMERA_TO_MODEL)
def test_camera_sizes_take_the_fast_path_and_give_pillows_values(size: tuple[int, int], out: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(size) + sum(out))
    pixels = _random(rng, *size)
    plans = (resample._column_plan(size[0], out[0]), resample._row_plan(size[1], out[1]))
    assert all(plan is not None for plan in plans), "a common ratio must not fall back to Pillow"

    assert np.array_equal(resample.resize_array(pixels, out), _pillow(pixels, out))


def test_every_small_size_gives_pillows_values_whichever_path_it_takes() -> None:
    rng = np.random.default_rng(7)
    fast = 0
    for size, out in _small_sizes():
        pixels = _random(rng, *size)
        fast += resample._column_plan(size[0], out[0]) is not None and resample._row_plan(size[1], out[1]) is not None
        assert np.array_equal(resample.resize_array(pixels, out), _pillow(pixels, out)), (size, out)
    assert fast > 150, "most of these ratios have few phases"


def test_flat_and_extreme_images_round_as_pillow_does() -> None:
    """Uniform values put every sum exactly on Pillow's rounding steps; 0 and 255 at the clipping ends."""
    for value in (0, 1, 127, 128, 254, 255):
        pixels = np.full((48, 64, 3), value, dtype=np.uint8)
        for out in ((32, 32), (32, 24), (96, 72), (21, 9)):
            assert np.array_equal(resample.resize_array(pixels, out), _pillow(pixels, out))
    stripes = np.zeros((48, 64, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    stripes[::3, :, 1] = 255
    for out in ((32, 32), (32, 24), (128, 96), (7, 5)):
        assert np.array_equal(resample.resize_array(stripes, out), _pillow(stripes, out))


def test_columns_too_costly_to_phase_are_left_to_pillow_with_the_same_values() -> None:
    assert resample._column_plan(640, 224) is None  # 20/7: seven phases, each a filter over the whole image
    assert resample._row_plan(480, 224) is not None  # 15/7: rows are cheap to phase
    assert resample._column_plan(1920, 640) is None  # thirds: the sums would need doubles over the whole image
    rng = np.random.default_rng(3)
    for (width, height), size in (((640, 480), (224, 224)), ((1920, 1080), (640, 640))):
        pixels = _random(rng, width, height)
        assert np.array_equal(resample.resize_array(pixels, size), _pillow(pixels, size))


def test_without_opencv_pillow_itself_resizes(monkeypatch: pytest.MonkeyPatch) -> None:
    pixels = _random(np.random.default_rng(5), 64, 48)
    monkeypatch.setattr(resample, "_opencv", lambda: None)

    assert np.array_equal(resample.resize_array(pixels, (32, 32)), _pillow(pixels, (32, 32)))
