"""Training's decoder (draft decoding, EXIF turn, RGB, resize, padding), which predictions and the stream share,
against the same steps done by Pillow alone."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from modelyard.architectures.manifest import InputSpec
from modelyard.training.images import _stored_size, decode_opened, displayed_size, geometry_for, pad_to


def _random(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _jpeg(pixels: np.ndarray, orientation: int | None = None, mode: str = "RGB") -> bytes:
    image = Image.fromarray(pixels, "RGB").convert(mode)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(("orientation", "mode"), [(None, "RGB"), (6, "RGB"), (3, "RGB"), (None, "L")])
def test_decoding_a_file_equals_pillows_own_pipeline(orientation: int | None, mode: str) -> None:
    """Skipping the EXIF turn and the RGB conversion where they change nothing leaves every pixel as it was."""
    data = _jpeg(_random(np.random.default_rng(11), 200, 150), orientation, mode)
    for spec in (_spec([64, 64], "stretch"), _spec([64, 64], "letterbox"), _spec([96, 128], "stretch")):
        with Image.open(io.BytesIO(data)) as image:
            ours = decode_opened(image, spec)
        with Image.open(io.BytesIO(data)) as image:
            expected = _reference_decode(image, spec)
        assert ours.shape == (*spec.size, 3)
        assert np.array_equal(ours, expected), (orientation, mode, spec)


def _spec(size: list[int], resize: str) -> InputSpec:
    return InputSpec.model_validate({"size": size, "mean": [0.5] * 3, "std": [0.5] * 3, "resize": resize})


def _reference_decode(image: Image.Image, spec: InputSpec) -> np.ndarray:
    width, height = displayed_size(image)
    geometry = geometry_for(width, height, spec)
    size = (max(1, round(width * geometry.scale_x)), max(1, round(height * geometry.scale_y)))
    image.draft("RGB", _stored_size(image, size))
    upright = ImageOps.exif_transpose(image).convert("RGB")
    return pad_to(np.asarray(upright.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8), spec)
