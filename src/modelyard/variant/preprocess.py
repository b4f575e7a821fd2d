"""Turn an image (path, open file, PIL image or RGB array) into the exact input the model saw during training.

Files go through ``training.images.decode_opened``, the training pipeline's own decoder (EXIF orientation,
JPEG draft decoding, bilinear resize, letterbox padding right and bottom), so predictions use the same pixels.
``resize_image`` stops at those uint8 pixels, for graphs that scale their input themselves (see ``backends``);
``prepare_image`` goes on to the float input of the bare exported graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from PIL import Image, ImageOps

from modelyard.architectures.manifest import InputSpec
from modelyard.training.images import (
    ImageGeometry,
    decode_opened,
    displayed_size,
    geometry_for,
    pad_to,
    resized_size,
)
from modelyard.training.resample import resize_array

ImageInput = str | Path | BinaryIO | Image.Image | np.ndarray
"""A file path, an open binary file (an upload), a PIL image, or an RGB uint8 array of shape (height, width, 3)."""
InputScaling = Literal["normalize", "unit"]
"""normalize: (pixel / 255 - mean) / std, as classifiers train; unit: pixel / 255, detectors normalise inside."""


class ImageInputError(ValueError):
    """The image cannot be read or has an unsupported shape."""

    code = "prediction_image_invalid"


@dataclass(frozen=True)
class ResizedImage:
    pixels: np.ndarray
    """uint8 (input height, input width, 3), RGB, resized and padded exactly as in training."""
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


@dataclass(frozen=True)
class PreparedImage(ResizedImage):
    """The same image as the float input of the bare graph: ``pixels`` is float32 (3, input height, input width)."""


def resize_image(image: ImageInput, spec: InputSpec) -> ResizedImage:
    """The image at the model's input size, still uint8: what a graph with built-in scaling takes."""
    resized, width, height = resized_rgb(image, spec)
    return ResizedImage(resized, width, height, geometry_for(width, height, spec))


def prepare_image(image: ImageInput, spec: InputSpec, scaling: InputScaling) -> PreparedImage:
    resized = resize_image(image, spec)
    return PreparedImage(scaled_pixels(resized.pixels, spec, scaling), resized.width, resized.height, resized.geometry)


def scaled_pixels(pixels: np.ndarray, spec: InputSpec, scaling: InputScaling) -> np.ndarray:
    """uint8 (H, W, 3) to float32 (3, H, W) as training scales it: x / 255, then (x - mean) / std to normalise."""
    # Transposed first: the arithmetic then runs over contiguous planes, several times faster than channels-last.
    chw = pixels.transpose(2, 0, 1).astype(np.float32, order="C")
    chw /= np.float32(255)
    if scaling == "normalize":
        chw -= np.asarray(spec.mean, dtype=np.float32).reshape(3, 1, 1)
        chw /= np.asarray(spec.std, dtype=np.float32).reshape(3, 1, 1)
    return chw


def resized_rgb(image: ImageInput, spec: InputSpec) -> tuple[np.ndarray, int, int]:
    """uint8 (input height, input width, 3) plus the original width and height."""
    if isinstance(image, np.ndarray):  # arrays carry no EXIF and are RGB already: straight to the resize
        pixels = _rgb_array(image)
        height, width = pixels.shape[:2]
        size = resized_size(width, height, spec)
        # Pillow's values, in less time (`resample`); a copy when the size is right, as Pillow's resize makes one.
        resized = pixels.copy() if size == (width, height) else resize_array(pixels, size)
        return pad_to(resized, spec), width, height
    if isinstance(image, Image.Image):
        # Both calls copy the image even when they change nothing; skip them then (arrays carry no EXIF).
        upright = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image
        upright = upright if upright.mode == "RGB" else upright.convert("RGB")
        width, height = upright.size
        return _resize_and_pad(upright, spec), width, height
    if isinstance(image, (str, Path)) or hasattr(image, "read"):
        return _decode_file(image, spec)
    raise ImageInputError(f"expected a path, a file, a PIL image or an RGB array, got {type(image).__name__}")


def _decode_file(source: str | Path | BinaryIO, spec: InputSpec) -> tuple[np.ndarray, int, int]:
    """Decoded once, as training decodes (JPEG draft decoding at the reduced size, then the same resize)."""
    try:
        with Image.open(source) as image:
            width, height = displayed_size(image)
            return decode_opened(image, spec), width, height
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:  # Pillow's plugins raise all three
        name = source if isinstance(source, (str, Path)) else "the image"
        raise ImageInputError(f"cannot read {name}: {error}") from error


def _rgb_array(array: np.ndarray) -> np.ndarray:
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ImageInputError(f"an image array must have shape (height, width, 3), got {array.shape}")
    return np.ascontiguousarray(array, dtype=np.uint8)


def _resize_and_pad(image: Image.Image, spec: InputSpec) -> np.ndarray:
    size = resized_size(*image.size, spec)
    return pad_to(np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8), spec)
