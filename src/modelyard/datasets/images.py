"""Checking image files (decode them fully with Pillow) and making thumbnails."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    return _checked(path, max_bytes=max_bytes, max_pixels=max_pixels, thumbnail=None)[0]


@dataclass(frozen=True)
class ThumbnailedImage:
    image: CheckedImage
    thumbnail: Path
    thumbnail_sha256: str


def check_image_with_thumbnail(
    path: Path, thumbnail: Path, *, max_bytes: int, max_pixels: int, longest_side: int
) -> ThumbnailedImage | str:
    """`check_image`, and a thumbnail written to the file `thumbnail` from the same full decode.

    Runs in worker processes: returns the reason as a string instead of raising UnreadableImage,
    so nothing but plain values crosses the process boundary.
    """
    try:
        image, thumbnail_sha256 = _checked(
            path, max_bytes=max_bytes, max_pixels=max_pixels, thumbnail=(thumbnail, longest_side)
        )
    except UnreadableImage as error:
        return str(error)
    return ThumbnailedImage(image, thumbnail, thumbnail_sha256)


def _checked(
    path: Path, *, max_bytes: int, max_pixels: int, thumbnail: tuple[Path, int] | None
) -> tuple[CheckedImage, str]:
    """The checked image, and the sha256 of the thumbnail written when one is asked for ("" otherwise)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableImage(
            f"file is {size} bytes, over the limit of {max_bytes} (setting MODELYARD_MAX_IMAGE_BYTES)"
        )
    if size == 0:
        raise UnreadableImage("file is empty")
    data = path.read_bytes()  # one read serves the hash, the check, the decode and the thumbnail
    width, height, image_format, small = _decode(data, max_pixels=max_pixels, thumbnail_side=thumbnail and thumbnail[1])
    thumbnail_sha256 = ""
    if thumbnail is not None and small is not None:
        thumbnail[0].write_bytes(small)
        thumbnail_sha256 = hashlib.sha256(small).hexdigest()
    checked = CheckedImage(path, hashlib.sha256(data).hexdigest(), len(data), width, height, image_format)
    return checked, thumbnail_sha256


def _decode(data: bytes, *, max_pixels: int, thumbnail_side: int | None) -> tuple[int, int, str, bytes | None]:
    """Width, height and format of a fully decoded image, and its thumbnail's JPEG bytes if asked for."""
    from PIL import Image

    small = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
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
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                if thumbnail_side is not None:
                    small = _thumbnail_bytes(image, thumbnail_side)
    except UnreadableImage:
        raise
    except Exception as error:  # noqa: BLE001 - Pillow raises many types for broken files
        # Pillow names the file object it read from ("<_io.BytesIO object at 0x...>"): say what it means instead.
        reason = (
            "format not recognised"
            if type(error).__name__ == "UnidentifiedImageError"
            else (f"{type(error).__name__}: {error}")
        )
        raise UnreadableImage(f"not a readable image ({reason}); use {ACCEPTED_HINT}") from None
    return width, height, image_format, small


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def make_thumbnail(path: Path, longest_side: int) -> bytes:
    """A JPEG no larger than `longest_side` on either side."""
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (longest_side, longest_side))
        return _thumbnail_bytes(image, longest_side)


def _thumbnail_bytes(image: Any, longest_side: int) -> bytes:
    from PIL import ImageOps

    thumbnail = ImageOps.exif_transpose(image).convert("RGB")
    thumbnail.thumbnail((longest_side, longest_side))
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
