"""Tiny generated images and datasets in common formats, for the dataset tests."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from PIL import Image


def image_bytes(seed: int, size: tuple[int, int] = (32, 24), format: str = "PNG") -> bytes:
    """A small image whose bytes differ for every seed."""
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    image.putpixel((seed % size[0], (seed // size[0]) % size[1]), (255 - seed % 256, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def truncated_jpeg(seed: int = 999) -> bytes:
    whole = image_bytes(seed, (48, 48), "JPEG")
    return whole[: len(whole) // 2]


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def zip_folder(folder: Path) -> bytes:
    return zip_bytes(
        {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    )


def write_coco(
    folder: Path,
    subsets: dict[str, list[tuple[str, bytes, list[tuple[float, float, float, float, int]]]]],
    categories: list[str],
    size: tuple[int, int] = (32, 24),
) -> Path:
    """A COCO instances folder: images/<subset>/<file> and annotations/instances_<subset>.json.
    Boxes are (x, y, w, h, category index)."""
    annotation_id = 1
    for subset, images in subsets.items():
        (folder / "images" / subset).mkdir(parents=True, exist_ok=True)
        document = {
            "images": [],
            "annotations": [],
            "categories": [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(categories)],
        }
        for image_id, (file_name, data, boxes) in enumerate(images, start=1):
            (folder / "images" / subset / file_name).write_bytes(data)
            document["images"].append({"id": image_id, "file_name": file_name, "width": size[0], "height": size[1]})
            for x, y, w, h, category in boxes:
                document["annotations"].append(
                    {"id": annotation_id, "image_id": image_id, "category_id": category + 1, "bbox": [x, y, w, h],
                     "area": w * h, "iscrowd": 0, "segmentation": []}
                )
                annotation_id += 1
        (folder / "annotations").mkdir(parents=True, exist_ok=True)
        (folder / "annotations" / f"instances_{subset}.json").write_text(json.dumps(document))
    return folder
