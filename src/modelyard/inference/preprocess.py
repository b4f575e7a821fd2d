"""Turn an image (path, PIL image or RGB array) into the exact input the model saw during training.

Paths go through ``training.images.decode_resized``, the training pipeline's own decoder (EXIF orientation,
JPEG draft decoding, bilinear resize, letterbox padding right and bottom), so predictions use the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

from modelyard.architectures.manifest import InputSpec
from modelyard.training.images import ImageGeometry, decode_resized, geometry_for

ImageInput = str | Path | Image.Image | np.ndarray
"""A file path, a PIL image, or an RGB uint8 array of shape (height, width, 3)."""


class ImageInputError(ValueError):
    """The image cannot be read or has an unsupported shape."""

    code = "prediction_image_invalid"


@dataclass(frozen=True)
class PreparedImage:
    pixels: np.ndarray
    """float32 (3, input height, input width), scaled as the graph expects."""
    width: int
    """Original (displayed) width in pixels."""
    height: int
    geometry: ImageGeometry
    """Original to input coordinates: x_input = x * scale_x."""

    def to_original(self, boxes: np.ndarray) -> np.ndarray:
        """x_min, y_min, x_max, y_max rows in input pixels to original pixels, clipped to the image."""
        scale = np.array([self.geometry.scale_x, self.geometry.scale_y] * 2, dtype=np.float32)
        limits = np.array([self.width, self.height] * 2, dtype=np.float32)
        return np.clip(boxes[:, :4] / scale, 0, limits)


def prepare_image(image: ImageInput, spec: InputSpec, scaling: Literal["normalize", "unit"]) -> PreparedImage:
    resized, width, height = resized_rgb(image, spec)
    # Same arithmetic as training ((x / 255 - mean) / std in float32), done channels-last where it is contiguous.
    pixels = resized.astype(np.float32) / np.float32(255)
    if scaling == "normalize":
        pixels -= np.asarray(spec.mean, dtype=np.float32)
        pixels /= np.asarray(spec.std, dtype=np.float32)
    chw = np.ascontiguousarray(pixels.transpose(2, 0, 1))
    return PreparedImage(chw, width, height, geometry_for(width, height, spec))


def resized_rgb(image: ImageInput, spec: InputSpec) -> tuple[np.ndarray, int, int]:
    """uint8 (input height, input width, 3) plus the original width and height."""
    if isinstance(image, (str, Path)):
        return _decode_path(Path(image), spec)
    if isinstance(image, np.ndarray):
        image = _array_to_image(image)
    if not isinstance(image, Image.Image):
        raise ImageInputError(f"expected a path, a PIL image or an RGB array, got {type(image).__name__}")
    # Both calls copy the image even when they change nothing; skip them then (arrays carry no EXIF).
    upright = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image
    upright = upright if upright.mode == "RGB" else upright.convert("RGB")
    width, height = upright.size
    return _resize_and_pad(upright, spec), width, height


def _decode_path(path: Path, spec: InputSpec) -> tuple[np.ndarray, int, int]:
    try:
        with Image.open(path) as image:
            width, height = image.size
            if _rotates(image):  # EXIF orientations 5-8 display the stored image turned by 90 degrees
                width, height = height, width
    except (OSError, Image.DecompressionBombError) as error:
        raise ImageInputError(f"cannot read {path}: {error}") from error
    return decode_resized(path, width, height, spec), width, height


def _rotates(image: Image.Image) -> bool:
    return image.getexif().get(0x0112) in {5, 6, 7, 8}


def _array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim != 3 or array.shape[2] != 3:
        raise ImageInputError(f"an image array must have shape (height, width, 3), got {array.shape}")
    return Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8), "RGB")


def _resize_and_pad(image: Image.Image, spec: InputSpec) -> np.ndarray:
    width, height = image.size
    geometry = geometry_for(width, height, spec)
    size = (max(1, round(width * geometry.scale_x)), max(1, round(height * geometry.scale_y)))
    pixels = np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)
    target_height, target_width = spec.size
    canvas = np.zeros((target_height, target_width, 3), dtype=np.uint8)
    rows, columns = min(pixels.shape[0], target_height), min(pixels.shape[1], target_width)
    canvas[:rows, :columns] = pixels[:rows, :columns]
    return canvas
