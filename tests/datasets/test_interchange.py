"""Every format writes and reads back what the tasks it holds need (Datumaro, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.datasets.interchange import ExportItem, read_dataset, source_subset, write_dataset
from tests.datasets.factories import image_bytes, write_coco

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


@pytest.mark.parametrize(
    ("name", "ours"),
    [("train", "training"), ("train2017", "training"), ("val_2017", "validation"), ("valid", "validation"),
     ("Test", "testing"), ("test-2", "testing"), ("trainval", "training"), ("default", "unassigned"),
     ("", "unassigned")],
)  # fmt: skip
def test_source_subset_names_map_to_ours_with_years_and_suffixes(name: str, ours: str) -> None:
    assert source_subset(name) == ours


def test_voc_trainval_is_not_read_again_beside_train_and_val(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    write_dataset(_items(tmp_path / "images", "box"), ["cat", "dog"], "voc", tmp_path / "voc")
    (tmp_path / "voc" / "ImageSets" / "Main" / "trainval.txt").write_text("img0\nimg1\nimg2\n")
    source = read_dataset(tmp_path / "voc", "voc")
    read = sorted((Path(item.name).stem, item.subset) for item in source.items)
    assert read == [("img0", "training"), ("img1", "training"), ("img2", "validation"), ("img3", "testing")]
    assert source.size == 4


def test_coco_files_named_by_year_keep_their_subsets(tmp_path: Path) -> None:
    coco = write_coco(
        tmp_path / "coco",
        {"train2017": [("a.png", image_bytes(1, (40, 30)), [(1, 1, 5, 5, 0)])],
         "val2017": [("b.png", image_bytes(2, (40, 30)), [(1, 1, 5, 5, 0)])]},
        ["cat"],
        (40, 30),
    )  # fmt: skip
    source = read_dataset(coco, "coco")
    assert sorted((item.name, item.subset) for item in source.items) == [("a.png", "training"),
                                                                         ("b.png", "validation")]
