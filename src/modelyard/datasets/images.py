"""Checking image files (decode them fully with Pillow) and making thumbnails."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from modelyard.storage.base import CHUNK_SIZE

# Pillow's format name -> the extension stored files get.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "TIFF": "tiff", "WEBP": "webp"}
ACCEPTED_HINT = "JPEG, PNG, BMP, TIFF or WebP"


class UnreadableImage(Exception):
    """The file is not an image modelyard accepts; the message says why."""


@dataclass(frozen=True)
class CheckedImage:
    path: Path
    sha256: str
    size: int
    width: int
    height: int
    format: str

    @property
    def extension(self) -> str:
        return ACCEPTED_FORMATS[self.format]


def check_image(path: Path, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    """Decode the whole file to be sure it is a readable image; raise UnreadableImage otherwise."""
    from PIL import Image

    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableImage(
            f"file is {size} bytes, over the limit of {max_bytes} (setting MODELYARD_MAX_IMAGE_BYTES)"
        )
    if size == 0:
        raise UnreadableImage("file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image_format = image.format or ""
                width, height = image.size
                if image_format not in ACCEPTED_FORMATS:
                    raise UnreadableImage(f"format {image_format or 'unknown'} is not accepted: use {ACCEPTED_HINT}")
                if width * height > max_pixels:
                    raise UnreadableImage(
                        f"image is {width} x {height} pixels, over the limit of {max_pixels} "
                        "(setting MODELYARD_MAX_IMAGE_PIXELS)"
                    )
                image.verify()
            with Image.open(path) as image:
                image.load()
    except UnreadableImage:
        raise
    except Exception as error:  # Pillow raises many types for broken files
        raise UnreadableImage(f"not a readable image ({type(error).__name__}: {error}); use {ACCEPTED_HINT}") from None
    return CheckedImage(path, sha256_of(path), size, width, height, image_format)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def make_thumbnail(path: Path, longest_side: int) -> bytes:
    """A JPEG no larger than `longest_side` on either side."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.draft("RGB", (longest_side, longest_side))
        thumbnail = ImageOps.exif_transpose(image).convert("RGB")
        thumbnail.thumbnail((longest_side, longest_side))
        buffer = io.BytesIO()
        thumbnail.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
