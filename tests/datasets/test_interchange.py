"""Every format writes and reads back what the tasks it holds need (Datumaro, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.datasets.interchange import ExportItem, read_dataset, write_dataset
from tests.datasets.factories import image_bytes

CASES = [
    ("coco", "box"), ("voc", "box"), ("yolo", "box"), ("datumaro", "box"),
    ("coco", "polygon"), ("datumaro", "polygon"),
    ("imagenet", "label"), ("datumaro", "label"),
]  # fmt: skip


def _items(folder: Path, kind: str) -> list[ExportItem]:
    items = []
    for index, subset in enumerate(["training", "training", "validation", "testing"]):
        path = folder / f"img{index}.png"
        path.write_bytes(image_bytes(index, (40, 30)))
        label = ["cat", "dog"][index % 2]
        item = ExportItem(name=f"img{index}.png", subset=subset, image=path)
        if kind == "box":
            item.boxes = [(2.0 + index, 3.0, 10.0, 12.0, label)]
        elif kind == "polygon":
            item.polygons = [([(1.0, 1.0), (20.0, 1.0), (10.0, 15.0)], label)]
        else:
            item.labels = [label]
        items.append(item)
    return items


@pytest.mark.parametrize(("format", "kind"), CASES)
def test_format_round_trip_keeps_subsets_labels_and_shapes(tmp_path: Path, format: str, kind: str) -> None:
    (tmp_path / "images").mkdir()
    items = _items(tmp_path / "images", kind)
    write_dataset(items, ["cat", "dog"], format, tmp_path / "out")
    source = read_dataset(tmp_path / "out", format)
    assert source.labels == ["cat", "dog"]
    read = {Path(item.name).stem: item for item in source.items}
    assert set(read) == {"img0", "img1", "img2", "img3"}
    for index, original in enumerate(items):
        got = read[f"img{index}"]
        assert got.subset == original.subset
        assert got.image is not None and got.image.read_bytes() == original.image.read_bytes()
        wanted = {"box": "box", "polygon": "polygon", "label": "label"}[kind]
        shapes = [shape for shape in got.shapes if shape.kind == wanted]
        assert [shape.label for shape in shapes] == [["cat", "dog"][index % 2]]
        if kind == "box":
            assert tuple(round(v, 3) for v in shapes[0].values) == (2.0 + index, 3.0, 10.0, 12.0)
        if kind == "polygon":
            assert shapes[0].values == (1.0, 1.0, 20.0, 1.0, 10.0, 15.0)
