"""Decode each training image once, resized to the architecture's input, and keep the uint8 pixels.

Decoding JPEG/PNG dominates small-model training time on CPUs, so epochs after the first must not pay for it.
Without a cache folder the pixels live in one contiguous array in memory (shared copy-on-write with DataLoader
workers); with one, each image is an ``.npy`` file read through a memory map, so large datasets fit and a later
run over the same images skips decoding altogether.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from modelyard.architectures.manifest import InputSpec

# EXIF orientations 5-8 rotate by 90 degrees, so the displayed width and height are the stored ones swapped.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}
_EXIF_ORIENTATION_TAG = 0x0112


class ImageDataError(ValueError):
    """An image cannot be read, or its size disagrees with the size recorded for it."""

    code = "training_image_invalid"


@dataclass(frozen=True)
class ImageGeometry:
    """How original pixel coordinates map onto the resized input: multiply x and y by these factors."""

    scale_x: float
    scale_y: float


def geometry_for(width: int, height: int, spec: InputSpec) -> ImageGeometry:
    target_height, target_width = spec.size
    scale_x, scale_y = target_width / width, target_height / height
    if spec.resize == "letterbox":
        scale_x = scale_y = min(scale_x, scale_y)
    return ImageGeometry(scale_x, scale_y)


def resized_size(width: int, height: int, spec: InputSpec) -> tuple[int, int]:
    """The width and height an image of this size is resized to before padding (letterbox) to the input size."""
    geometry = geometry_for(width, height, spec)
    return max(1, round(width * geometry.scale_x)), max(1, round(height * geometry.scale_y))


def decode_resized(path: Path, width: int, height: int, spec: InputSpec) -> np.ndarray:
    """RGB uint8 array of shape (input height, input width, 3); letterbox pads right and bottom with black."""
    try:
        with Image.open(path) as image:
            displayed = displayed_size(image)
            if displayed != (width, height):
                raise ImageDataError(f"{path} is {displayed[0]}x{displayed[1]} but was recorded as {width}x{height}")
            return decode_opened(image, spec)
    except (OSError, Image.DecompressionBombError) as error:
        raise ImageDataError(f"cannot decode {path}: {error}") from error


def decode_opened(image: Image.Image, spec: InputSpec) -> np.ndarray:
    """An opened, not yet decoded image as ``decode_resized`` returns it: upright, resized and padded."""
    size = resized_size(*displayed_size(image), spec)
    # draft() lets libjpeg decode at a reduced scale, far cheaper than decoding full size then shrinking.
    image.draft("RGB", _stored_size(image, size))
    # Both calls copy the image even when they change nothing (no EXIF turn, RGB already): skip them then.
    upright = ImageOps.exif_transpose(image) if image.getexif().get(_EXIF_ORIENTATION_TAG, 1) != 1 else image
    upright = upright if upright.mode == "RGB" else upright.convert("RGB")
    resized = upright.resize(size, Image.Resampling.BILINEAR)
    return pad_to(np.asarray(resized, dtype=np.uint8), spec)


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as the image is shown: EXIF orientations 5-8 turn it by 90 degrees."""
    width, height = image.size
    if image.getexif().get(_EXIF_ORIENTATION_TAG) in _TRANSPOSING_ORIENTATIONS:
        return height, width
    return width, height


def _stored_size(image: Image.Image, shown_size: tuple[int, int]) -> tuple[int, int]:
    if image.getexif().get(_EXIF_ORIENTATION_TAG) in _TRANSPOSING_ORIENTATIONS:
        return shown_size[1], shown_size[0]
    return shown_size


def pad_to(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Letterboxed pixels padded right and bottom with black to the input size (unchanged when they fill it)."""
    target_height, target_width = spec.size
    if pixels.shape[:2] == (target_height, target_width):
        return pixels
    canvas = np.zeros((target_height, target_width, 3), dtype=np.uint8)
    height, width = min(pixels.shape[0], target_height), min(pixels.shape[1], target_width)
    canvas[:height, :width] = pixels[:height, :width]
    return canvas


class DecodedImages:
    """Random access to the decoded, resized pixels of a fixed list of images."""

    def __init__(
        self,
        images: Sequence[tuple[Path, int, int]],
        spec: InputSpec,
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self._paths: list[Path] | None = None
        self._array: np.ndarray | None = None
        from modelyard.cpu_threads import usable_cpus

        threads = threads or min(8, usable_cpus())
        if cache_dir is None:
            self._array = _decode_all_in_memory(images, spec, threads)
        else:
            self._paths = _decode_all_to_folder(images, spec, cache_dir, threads)

    def __len__(self) -> int:
        return len(self._array) if self._array is not None else len(self._paths or [])

    def __getitem__(self, index: int) -> np.ndarray:
        image: np.ndarray
        if self._array is not None:
            image = self._array[index]
            return image
        assert self._paths is not None
        image = np.load(self._paths[index], mmap_mode="r")
        return image


def _decode_all_in_memory(images: Sequence[tuple[Path, int, int]], spec: InputSpec, threads: int) -> np.ndarray:
    height, width = spec.size
    array = np.empty((len(images), height, width, 3), dtype=np.uint8)

    def decode_into(index: int) -> None:
        path, image_width, image_height = images[index]
        array[index] = decode_resized(path, image_width, image_height, spec)

    # Pillow releases the GIL while decoding, so threads give real parallelism without pickling pixels around.
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(decode_into, range(len(images))))
    return array


def _decode_all_to_folder(
    images: Sequence[tuple[Path, int, int]], spec: InputSpec, cache_dir: Path, threads: int
) -> list[Path]:
    cache_dir.mkdir(parents=True, exist_ok=True)

    def cached(image: tuple[Path, int, int]) -> Path:
        path, width, height = image
        target = cache_dir / f"{_cache_key(path, spec)}.npy"
        if not target.is_file():
            _save_atomically(target, decode_resized(path, width, height, spec))
        return target

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(cached, images))


def _cache_key(path: Path, spec: InputSpec) -> str:
    # The file's identity (path, size, modification time) and the resize settings decide the pixels.
    status = path.stat()
    identity = f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{spec.size}|{spec.resize}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _save_atomically(target: Path, pixels: np.ndarray) -> None:
    descriptor, temporary_name = tempfile.mkstemp(prefix=".decoded-", suffix=".npy", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            np.save(sink, pixels)
        os.replace(temporary_name, target)
    finally:
        Path(temporary_name).unlink(missing_ok=True)
