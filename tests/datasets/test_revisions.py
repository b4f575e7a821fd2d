"""Dataset revisions: stable subsets, immutable Parquet, reuse, browsing, deleting files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from modelyard.config import Settings
from modelyard.datasets.parquet import read_revision, read_revision_metadata
from modelyard.sdk import ApiError, Client
from tests.datasets.factories import image_bytes


def _add_items(client: Client, project: str, seeds: range, labels: list[str]) -> list[str]:
    files = [("files", (f"{seed}.png", image_bytes(seed))) for seed in seeds]
    created = client.request("POST", f"/projects/{project}/dataset/items", files=files).json()["created"]
    ids = [item["id"] for item in created]
    for index, item in enumerate(ids):
        client.datasets.annotate(project, item, labels=[labels[index % len(labels)]])
    return ids


@pytest.fixture
def project(client: Client) -> str:
    client.projects.create("flowers", "multiclass_classification", labels=["rose", "tulip"])
    return "flowers"


def test_revision_counts_each_labels_items_per_subset(client: Client, project: str) -> None:
    ids = _add_items(client, project, range(6), ["rose", "tulip"])  # rose, tulip, rose, ...
    client.datasets.bulk(project, "move_to_subset", ids=ids[:4], subset="training")
    client.datasets.bulk(project, "move_to_subset", ids=ids[4:5], subset="validation")
    client.datasets.bulk(project, "move_to_subset", ids=ids[5:], subset="testing")
    revision = client.datasets.create_revision(project)
    assert {count.label_name: count.subsets for count in revision.label_counts} == {
        "rose": {"training": 2, "validation": 1, "testing": 0},
        "tulip": {"training": 2, "validation": 0, "testing": 1},
    }
    assert client.datasets.revisions(project)[0].label_counts == revision.label_counts


def test_revision_assigns_every_new_item_a_subset_and_counts(client: Client, project: str) -> None:
    ids = _add_items(client, project, range(20), ["rose", "tulip"])
    revision = client.datasets.create_revision(project)
    assert revision.number == 1 and revision.item_count == 20 and revision.reused is False
    assert revision.subset_counts == {"training": 14, "validation": 4, "testing": 2}
    assert {(c.label_name, c.items) for c in revision.label_counts} == {("rose", 10), ("tulip", 10)}
    items = {item.id: item for item in client.datasets.iterate_items(project)}
    assert all(items[i].subset != "unassigned" and items[i].in_revision for i in ids)
    for subset in ("validation", "testing"):  # stratified: each label half of each subset
        chosen = [i for i in ids if items[i].subset == subset]
        assert Counter_of(items, chosen) == {"rose": len(chosen) // 2, "tulip": len(chosen) // 2}


def Counter_of(items, chosen):  # noqa: ANN001, ANN201
    from collections import Counter

    return Counter(items[i].annotation.labels[0].name for i in chosen)


def test_parquet_opens_with_pandas_and_pyarrow_without_modelyard(client: Client, settings: Settings) -> None:
    client.projects.create("boxes", "detection", labels=["car", "bus"])
    files = [("files", (f"{s}.png", image_bytes(s, (40, 30)))) for s in range(3)]
    ids = [i["id"] for i in client.request("POST", "/projects/boxes/dataset/items", files=files).json()["created"]]
    client.datasets.annotate("boxes", ids[0], boxes=[{"x": 1, "y": 2, "width": 3, "height": 4, "label": "car"},
                                                   {"x": 5, "y": 6, "width": 7, "height": 8, "label": "bus"}])
    client.datasets.annotate("boxes", ids[1], boxes=[{"x": 0, "y": 0, "width": 40, "height": 30, "label": "bus"}])
    client.datasets.annotate("boxes", ids[2], boxes=[])
    revision = client.datasets.create_revision("boxes")
    parquet = settings.data_dir / revision.parquet_key
    assert parquet.name == "data.parquet" and parquet.parent.name == revision.id

    frame = pd.read_parquet(parquet)
    assert len(frame) == 3
    row = frame.set_index("item_id").loc[ids[0]]
    assert [(b["x"], b["y"], b["width"], b["height"], b["label_name"]) for b in row["boxes"]] == [
        (1, 2, 3, 4, "car"), (5, 6, 7, 8, "bus")]
    assert list(row["label_names"]) == ["car", "bus"]
    assert (parquet.parent / row["image_path"]).read_bytes() == image_bytes(0, (40, 30))
    boxes = frame.explode("boxes").dropna(subset=["boxes"])
    assert len(boxes) == 3
    schema = pq.read_schema(parquet)
    assert str(schema.field("boxes").type).startswith("list<element: struct<x: double")

    items = {item.item_id: item for item in read_revision(parquet)}
    assert items[ids[1]].boxes[0].label_name == "bus" and items[ids[2]].boxes == []
    assert items[ids[0]].image_path.read_bytes() == image_bytes(0, (40, 30))
    metadata = read_revision_metadata(parquet)
    assert (metadata.task_type, metadata.revision_number) == ("detection", 1)
    assert [label.name for label in metadata.labels] == ["car", "bus"]


def test_unchanged_dataset_reuses_the_latest_revision(client: Client, project: str) -> None:
    _add_items(client, project, range(6), ["rose", "tulip"])
    first = client.datasets.create_revision(project)
    again = client.request("POST", f"/projects/{project}/dataset/revisions", json={})
    assert again.status_code == 200
    assert again.json()["id"] == first.id and again.json()["reused"] is True
    assert len(client.datasets.revisions(project)) == 1


def test_second_revision_leaves_every_earlier_item_in_its_subset(client: Client, project: str) -> None:
    first_ids = _add_items(client, project, range(12), ["rose", "tulip"])
    client.datasets.create_revision(project)
    before = {i.id: i.subset for i in client.datasets.iterate_items(project)}
    _add_items(client, project, range(100, 130), ["tulip", "rose"])
    second = client.datasets.create_revision(project, seed=7)
    assert second.number == 2 and second.item_count == 42
    after = {i.id: i.subset for i in client.datasets.iterate_items(project)}
    assert {i: after[i] for i in first_ids} == before
    assert all(subset != "unassigned" for subset in after.values())
    table = pd.read_parquet(Path(client.datasets.download_revision(project, 2, Path(str(first_ids[0])) )))
    Path(str(first_ids[0])).unlink()
    assert dict(zip(table["item_id"], table["subset"], strict=True)) == after


def test_manual_subset_before_the_first_revision_only(client: Client, project: str) -> None:
    ids = _add_items(client, project, range(4), ["rose"])
    client.datasets.update_item(project, ids[0], subset="testing")
    client.datasets.create_revision(project)
    assert client.datasets.item(project, ids[0]).subset == "testing"
    with pytest.raises(ApiError) as error:
        client.datasets.update_item(project, ids[0], subset="training")
    assert error.value.status == 409 and "never change" in error.value.detail


def test_browse_revision_items_by_subset(client: Client, project: str) -> None:
    _add_items(client, project, range(10), ["rose", "tulip"])
    revision = client.datasets.create_revision(project)
    testing = client.datasets.revision_items(project, revision.number, subset="testing")
    assert len(testing.items) == revision.subset_counts["testing"]
    assert all(item.subset == "testing" for item in testing.items)
    page = client.datasets.revision_items(project, "latest", limit=4)
    rest = client.datasets.revision_items(project, "latest", limit=100, cursor=page.next_cursor)
    assert len(page.items) + len(rest.items) == 10 and rest.next_cursor is None


def test_images_of_a_revision_outlive_their_items_until_its_files_are_deleted(
    client: Client, project: str, settings: Settings
) -> None:
    ids = _add_items(client, project, range(3), ["rose"])
    revision = client.datasets.create_revision(project)
    parquet = settings.data_dir / revision.parquet_key
    image_of = {item.item_id: item.image_path for item in read_revision(parquet)}
    client.datasets.delete_items(project, [ids[0]])
    assert image_of[ids[0]].read_bytes() == image_bytes(0)

    deleted = client.datasets.delete_revision_files(project, revision.id)
    assert deleted.files_deleted is True and deleted.files_deleted_at is not None
    assert not parquet.exists() and not image_of[ids[0]].exists()
    assert image_of[ids[1]].exists()  # still an item of the dataset
    assert client.datasets.revision(project, 1).item_count == 3  # the record stays
    with pytest.raises(ApiError) as error:
        client.datasets.revision_items(project, 1)
    assert error.value.status == 409


def test_revision_needs_annotated_items(client: Client, project: str) -> None:
    with pytest.raises(ApiError) as error:
        client.datasets.create_revision(project)
    assert error.value.status == 400 and "no annotated items" in error.value.detail


def test_deleting_files_of_a_needed_revision_is_refused_unless_forced(
    client: Client, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The blockers are the kept model revisions trained on it; the seam is replaced so that no training is needed.
    import modelyard.datasets.revisions as revisions

    _add_items(client, project, range(3), ["rose"])
    revision = client.datasets.create_revision(project)
    monkeypatch.setattr(revisions, "revision_file_blockers", lambda session, _revision: ["model revision m1 (kept)"])
    with pytest.raises(ApiError) as error:
        client.datasets.delete_revision_files(project, revision.number)
    assert error.value.status == 409 and "model revision m1 (kept)" in error.value.detail
    assert client.datasets.revision(project, 1).files_deleted is False
    assert client.datasets.delete_revision_files(project, 1, force=True).files_deleted is True
