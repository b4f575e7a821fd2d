"""Import and export jobs through Datumaro, tried as a new user would."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from modelyard.config import Settings
from modelyard.sdk import Client
from tests.datasets.factories import image_bytes, truncated_jpeg, write_coco, zip_bytes

SIZE = (40, 30)
JOB_TIMEOUT = 90


def _content(client: Client, project: str) -> set[tuple]:
    """What must survive a round trip: image bytes, subset, labelled boxes (rounded: YOLO is relative)."""
    return {
        (item.sha256, item.subset,
         tuple(sorted((round(b.x, 2), round(b.y, 2), round(b.width, 2), round(b.height, 2), b.label_name)
                      for b in item.annotation.boxes)))
        for item in client.datasets.iterate_items(project)
    }


def test_coco_imports_with_labels_and_subsets_and_round_trips_through_yolo(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    client = running_client
    coco = write_coco(
        tmp_path / "coco",
        {
            "train": [(f"t{i}.png", image_bytes(i, SIZE), [(1 + i, 2, 10, 8, i % 2)]) for i in range(4)],
            "val": [("v0.png", image_bytes(50, SIZE), [(0, 0, 40, 30, 1), (3, 4, 5, 6, 0)]),
                    ("v1.png", image_bytes(51, SIZE), [])],
        },
        ["cat", "dog"],
        SIZE,
    )
    job = client.jobs.wait(client.datasets.import_(coco, "coco", new_project="coco-pets", task_type="detection").id,
                           timeout=JOB_TIMEOUT)
    assert job.status == "succeeded", job.error
    assert job.result["imported"] == 6 and job.result["skipped"] == []
    assert job.result["subsets"] == {"training": 3, "validation": 2, "testing": 1}
    assert job.result["subsets_from_source"] == ["training", "validation"] and job.result["split_to_testing"] == 1
    assert "1 of the 4 training items" in job.result["subsets_note"]
    assert [label.name for label in client.projects.labels("coco-pets")] == ["cat", "dog"]
    items = {item.name: item for item in client.datasets.iterate_items("coco-pets")}
    subsets = {name: item.subset for name, item in items.items()}
    assert subsets.pop("v0.png") == subsets.pop("v1.png") == "validation"
    assert sorted(subsets.values()) == ["testing", "training", "training", "training"]
    assert sorted((b.x, b.y, b.width, b.height, b.label_name) for b in items["v0.png"].annotation.boxes) == [
        (0, 0, 40, 30, "dog"), (3, 4, 5, 6, "cat")]

    revision = client.datasets.create_revision("coco-pets")
    frame = pd.read_parquet(settings.data_dir / revision.parquet_key)
    boxes = frame.explode("boxes").dropna(subset=["boxes"])
    assert len(boxes) == 6
    assert sorted(frame["subset"]) == ["testing"] + ["training"] * 3 + ["validation"] * 2

    export = client.jobs.wait(client.datasets.export("coco-pets", "yolo", revision=revision.number).id,
                              timeout=JOB_TIMEOUT)
    assert export.status == "succeeded", export.error
    archive = client.datasets.download_export("coco-pets", export.id, tmp_path / "pets-yolo.zip")
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
    assert {"obj.names", "obj_train_data/t0.png", "obj_val_data/v0.png"} <= names

    imported = client.datasets.import_(archive, "yolo", new_project="yolo-pets", task_type="detection")
    again = client.jobs.wait(imported.id, timeout=JOB_TIMEOUT)
    assert again.status == "succeeded", again.error
    assert again.result["imported"] == 6
    assert [label.name for label in client.projects.labels("yolo-pets")] == ["cat", "dog"]
    assert _content(client, "yolo-pets") == _content(client, "coco-pets")


def test_bad_archive_truncated_jpeg_and_unknown_label_are_refused_or_skipped_and_a_box_past_the_edge_clipped(
    running_client: Client, tmp_path: Path
) -> None:
    client = running_client
    client.projects.create("existing", "detection", labels=["cat"])
    kept = client.request("POST", "/projects/existing/dataset/items",
                          files=[("files", ("kept.png", image_bytes(7, SIZE)))]).json()["created"][0]
    client.datasets.annotate("existing", kept["id"], boxes=[{"x": 1, "y": 1, "width": 2, "height": 2, "label": "cat"}])
    before = [item.model_dump() for item in client.datasets.iterate_items("existing")]

    evil = tmp_path / "evil.zip"
    evil.write_bytes(zip_bytes({"images/a.png": image_bytes(1, SIZE), "../escape.txt": b"owned"}))
    refused = client.jobs.wait(client.datasets.import_(evil, "coco", project="existing").id, timeout=JOB_TIMEOUT)
    assert refused.status == "failed" and "'..'" in refused.error
    assert not (tmp_path / "escape.txt").exists()

    coco = write_coco(
        tmp_path / "coco",
        {"train": [
            ("good.png", image_bytes(1, SIZE), [(1, 1, 5, 5, 0)]),
            ("broken.jpg", truncated_jpeg(), [(1, 1, 5, 5, 0)]),
            ("outside.png", image_bytes(2, SIZE), [(30, 20, 20, 20, 0)]),
            ("stranger.png", image_bytes(3, SIZE), [(1, 1, 5, 5, 1)]),
        ]},
        ["cat", "zebra"],
        SIZE,
    )
    job = client.jobs.wait(
        client.datasets.import_(coco, "coco", project="existing", unknown_labels="refuse").id, timeout=JOB_TIMEOUT
    )
    assert job.status == "succeeded", job.error
    assert job.result["imported"] == 2
    reasons = {entry["item"]: entry["reason"] for entry in job.result["skipped"]}
    assert set(reasons) == {"broken.jpg", "stranger.png"}
    by_stem = {Path(name).stem: reason for name, reason in reasons.items()}
    assert by_stem["broken"].startswith("unreadable image")
    assert by_stem["stranger"].startswith("unknown label") and "zebra" in by_stem["stranger"]
    assert job.result["shapes"]["clipped"] == 1 and job.result["shapes"]["clipped_over_a_pixel"] == 1
    assert [label.name for label in client.projects.labels("existing")] == ["cat"]

    after = {item.id: item.model_dump() for item in client.datasets.iterate_items("existing")}
    assert after[kept["id"]] == before[0]
    assert sorted(item["name"] for item in after.values()) == ["good.png", "kept.png", "outside.png"]
    outside = next(item for item in after.values() if item["name"] == "outside.png")
    assert [(b["x"], b["y"], b["width"], b["height"]) for b in outside["annotation"]["boxes"]] == [(30, 20, 10, 10)]


def test_import_clips_rounding_overflow_drops_only_boxes_outside_and_gives_duplicates_labels_to_bare_items(
    running_client: Client, tmp_path: Path
) -> None:
    client = running_client
    client.projects.create("shop", "detection", labels=["cat"])
    bare = client.request("POST", "/projects/shop/dataset/items",
                          files=[("files", ("bare.png", image_bytes(9, SIZE)))]).json()["created"][0]
    coco = write_coco(
        tmp_path / "coco",
        {"train": [("edge.png", image_bytes(1, SIZE), [(20, 10, 20.01, 5, 0), (50, 5, 5, 5, 0)]),
                   ("gone.png", image_bytes(2, SIZE), [(45, 1, 3, 3, 0)]),
                   ("again.png", image_bytes(9, SIZE), [(1, 1, 5, 5, 0)])],
         "val": [("v.png", image_bytes(4, SIZE), [(2, 2, 4, 4, 0)])]},
        ["cat"],
        SIZE,
    )  # fmt: skip
    job = client.jobs.wait(client.datasets.import_(coco, "coco", project="shop").id, timeout=JOB_TIMEOUT)
    assert job.status == "succeeded", job.error
    result = job.result
    assert result["imported"] == 3 and result["annotations_given_to_duplicates"] == 1
    assert [entry["item"] for entry in result["skipped"]] == ["again.png"]
    assert f"duplicate of item {bare['id']}" in result["skipped"][0]["reason"]
    assert "was given to that item" in result["skipped"][0]["reason"]
    shapes = result["shapes"]
    assert (shapes["clipped"], shapes["clipped_over_a_pixel"], shapes["dropped_count"]) == (1, 0, 2)
    assert shapes["items_left_unannotated"] == 1
    assert sorted(entry["item"] for entry in shapes["dropped"]) == ["edge.png", "gone.png"]
    assert "wholly outside the 40 x 30 image" in shapes["dropped"][0]["reason"]

    items = {item.name: item for item in client.datasets.iterate_items("shop")}
    edge = items["edge.png"].annotation
    assert edge is not None
    assert [(b.x, b.y, b.width, b.height) for b in edge.boxes] == [(20, 10, 20, 5)]
    assert items["gone.png"].annotated is False
    given = items["bare.png"]
    assert given.annotated and given.annotation is not None
    assert [(b.x, b.y, b.width, b.height, b.label_name) for b in given.annotation.boxes] == [(1, 1, 5, 5, "cat")]
    assert given.subset == "training"
    assert result["split_to_testing"] == 1
    assert sorted(items[name].subset for name in ("edge.png", "gone.png")) == ["testing", "training"]
    assert result["subsets"] == {"training": 1, "testing": 1, "validation": 1}


def test_a_labelled_duplicate_later_in_the_same_import_labels_the_unlabelled_first_copy(
    running_client: Client, tmp_path: Path
) -> None:
    from modelyard.datasets.interchange import ExportItem, write_dataset

    client = running_client
    (tmp_path / "images").mkdir()
    same, other = tmp_path / "images" / "same.png", tmp_path / "images" / "other.png"
    same.write_bytes(image_bytes(21, SIZE))
    other.write_bytes(image_bytes(22, SIZE))
    items = [ExportItem("bare.png", "unassigned", same), ExportItem("labelled.png", "unassigned", same, labels=["cat"]),
             ExportItem("other.png", "unassigned", other, labels=["dog"]),
             ExportItem("unlabelled-copy.png", "unassigned", other)]  # fmt: skip
    write_dataset(items, ["cat", "dog"], "datumaro", tmp_path / "source")
    job = client.jobs.wait(client.datasets.import_(tmp_path / "source", "datumaro", new_project="pets",
                                                   task_type="multiclass_classification").id, timeout=JOB_TIMEOUT)
    assert job.status == "succeeded", job.error
    assert (job.result["imported"], job.result["annotations_given_to_duplicates"]) == (2, 1)
    reasons = {entry["item"]: entry["reason"] for entry in job.result["skipped"]}
    assert set(reasons) == {"labelled.png", "unlabelled-copy.png"}
    assert "was given" in reasons["labelled.png"] and "was given" not in reasons["unlabelled-copy.png"]
    assert "the source names no subsets" in job.result["subsets_note"] and job.result["split_to_testing"] == 0
    got = {item.name: [label.name for label in item.annotation.labels] if item.annotation else None
           for item in client.datasets.iterate_items("pets")}  # fmt: skip
    assert got == {"bare.png": ["cat"], "other.png": ["dog"]}


def test_imagenet_folders_per_class_import_into_a_new_multiclass_project(
    running_client: Client, tmp_path: Path
) -> None:
    client = running_client
    for subset, names in {"train": ["a", "b", "c"], "val": ["d"]}.items():
        for index, name in enumerate(names):
            label = "cat" if index % 2 == 0 else "dog"
            folder = tmp_path / "imagenet" / subset / label
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.png").write_bytes(image_bytes(ord(name), SIZE))
    job = client.jobs.wait(client.datasets.import_(tmp_path / "imagenet", "imagenet", new_project="animals",
                                                   task_type="multiclass_classification", testing_fraction=0).id,
                           timeout=JOB_TIMEOUT)  # fmt: skip
    assert job.status == "succeeded", job.error
    assert job.result["imported"] == 4 and job.result["subsets"] == {"training": 3, "validation": 1}
    assert job.result["split_to_testing"] == 0 and "testing_fraction is 0" in job.result["subsets_note"]
    assert [label.name for label in client.projects.labels("animals")] == ["cat", "dog"]
    got = {item.name: (item.subset, [label.name for label in item.annotation.labels])
           for item in client.datasets.iterate_items("animals")}
    assert got == {"a.png": ("training", ["cat"]), "b.png": ("training", ["dog"]), "c.png": ("training", ["cat"]),
                   "d.png": ("validation", ["cat"])}


def test_segmentation_exports_to_coco_and_imports_back_with_its_polygons(
    running_client: Client, tmp_path: Path
) -> None:
    client = running_client
    client.projects.create("shapes", "instance_segmentation", labels=["blob"])
    files = [("files", (f"{seed}.png", image_bytes(seed, SIZE))) for seed in range(2)]
    ids = [i["id"] for i in client.request("POST", "/projects/shapes/dataset/items", files=files).json()["created"]]
    client.datasets.annotate("shapes", ids[0], polygons=[{"points": [[1, 1], [20, 1], [10, 15]], "label": "blob"}])
    client.datasets.annotate("shapes", ids[1], polygons=[{"points": [[0, 0], [40, 0], [40, 30], [0, 30]],
                                                          "label": "blob"}])
    export = client.jobs.wait(client.datasets.export("shapes", "coco").id, timeout=JOB_TIMEOUT)
    assert export.status == "succeeded", export.error
    archive = client.datasets.download_export("shapes", export.id, tmp_path / "shapes.zip")
    job = client.jobs.wait(client.datasets.import_(archive, "coco", new_project="shapes-again",
                                                   task_type="instance_segmentation").id, timeout=JOB_TIMEOUT)
    assert job.status == "succeeded", job.error
    polygons = {item.sha256: [(p.points, p.label_name) for p in item.annotation.polygons]
                for item in client.datasets.iterate_items("shapes-again")}
    originals = {item.sha256: [(p.points, p.label_name) for p in item.annotation.polygons]
                 for item in client.datasets.iterate_items("shapes")}
    assert polygons == originals
