"""Annotations are checked against the project's task, labels and image size."""

from __future__ import annotations

import pytest

from modelyard.sdk import ApiError, Client
from tests.datasets.factories import image_bytes


def _project_with_item(client: Client, task: str, size: tuple[int, int] = (40, 30)) -> tuple[str, str]:
    client.projects.create(task[:20], task, labels=["cat", "dog"])
    response = client.request(
        "POST", f"/projects/{task[:20]}/dataset/items", files=[("files", ("a.png", image_bytes(1, size)))]
    )
    return task[:20], response.json()["created"][0]["id"]


def _refused(call) -> ApiError:  # noqa: ANN001
    with pytest.raises(ApiError) as error:
        call()
    assert error.value.status == 400
    return error.value


def test_multiclass_takes_exactly_one_label(client: Client) -> None:
    project, item = _project_with_item(client, "multiclass_classification")
    assert "exactly one" in _refused(lambda: client.datasets.annotate(project, item, labels=["cat", "dog"])).detail
    assert "exactly one" in _refused(lambda: client.datasets.annotate(project, item, labels=[])).detail
    result = client.datasets.annotate(project, item, labels=["dog"])
    assert result.annotated and [label.name for label in result.annotation.labels] == ["dog"]


def test_multilabel_takes_any_set_including_an_explicit_empty_one(client: Client) -> None:
    project, item = _project_with_item(client, "multilabel_classification")
    both = client.datasets.annotate(project, item, labels=["cat", "dog"])
    assert sorted(label.name for label in both.annotation.labels) == ["cat", "dog"]
    empty = client.datasets.annotate(project, item, labels=[])
    assert empty.annotated is True and empty.annotation.labels == []
    assert "more than once" in _refused(lambda: client.datasets.annotate(project, item, labels=["cat", "cat"])).detail


def test_detection_boxes_must_lie_inside_the_image_with_positive_size(client: Client) -> None:
    project, item = _project_with_item(client, "detection", (40, 30))
    outside = _refused(lambda: client.datasets.annotate(
        project, item, boxes=[{"x": 30, "y": 0, "width": 20, "height": 10, "label": "cat"}]))
    assert outside.code == "shape_outside_image" and "40 x 30" in outside.detail
    flat = _refused(lambda: client.datasets.annotate(
        project, item, boxes=[{"x": 1, "y": 1, "width": 0, "height": 10, "label": "cat"}]))
    assert "width and height must be > 0" in flat.detail
    result = client.datasets.annotate(project, item, boxes=[
        {"x": 0, "y": 0, "width": 40, "height": 30, "label": "cat"},
        {"x": 5, "y": 6, "width": 7, "height": 8, "label": "dog"},
    ])
    assert [(b.x, b.y, b.width, b.height, b.label_name) for b in result.annotation.boxes] == [
        (0, 0, 40, 30, "cat"), (5, 6, 7, 8, "dog")]
    assert client.datasets.annotate(project, item, boxes=[]).annotation.boxes == []


def test_segmentation_polygons_need_three_points_inside_and_an_area(client: Client) -> None:
    project, item = _project_with_item(client, "instance_segmentation", (40, 30))
    assert "3 or more" in _refused(lambda: client.datasets.annotate(
        project, item, polygons=[{"points": [[0, 0], [5, 5]], "label": "cat"}])).detail
    assert "degenerate" in _refused(lambda: client.datasets.annotate(
        project, item, polygons=[{"points": [[0, 0], [5, 5], [10, 10]], "label": "cat"}])).detail
    outside = [{"points": [[0, 0], [50, 0], [10, 10]], "label": "cat"}]
    assert _refused(lambda: client.datasets.annotate(project, item, polygons=outside)).code == "shape_outside_image"
    result = client.datasets.annotate(project, item, polygons=[{"points": [[0, 0], [10, 0], [5, 8]], "label": "dog"}])
    assert result.annotation.polygons[0].points == [(0, 0), (10, 0), (5, 8)]
    assert result.annotation.polygons[0].label_name == "dog"


def test_unknown_label_and_wrong_field_for_the_task_are_refused(client: Client) -> None:
    project, item = _project_with_item(client, "detection")
    unknown = _refused(lambda: client.datasets.annotate(
        project, item, boxes=[{"x": 1, "y": 1, "width": 2, "height": 2, "label": "horse"}]))
    assert unknown.code == "unknown_label" and "'cat', 'dog'" in unknown.detail
    assert "`boxes` only" in _refused(lambda: client.datasets.annotate(project, item, labels=["cat"])).detail


def test_get_replace_and_delete_an_annotation_and_the_reviewed_flag(client: Client) -> None:
    project, item = _project_with_item(client, "multiclass_classification")
    assert client.datasets.annotation(project, item) is None
    client.datasets.annotate(project, item, labels=["cat"], user_reviewed=True)
    client.datasets.annotate(project, item, labels=["dog"])
    assert [label.name for label in client.datasets.annotation(project, item).labels] == ["dog"]
    assert client.datasets.item(project, item).user_reviewed is True
    cleared = client.datasets.delete_annotation(project, item)
    assert cleared.annotated is False and cleared.annotation is None
    assert client.datasets.items(project, label="dog").items == []


def test_deleting_a_used_label_is_refused_naming_the_count_unless_forced(client: Client) -> None:
    project, item = _project_with_item(client, "detection")
    client.datasets.annotate(project, item, boxes=[
        {"x": 0, "y": 0, "width": 5, "height": 5, "label": "cat"},
        {"x": 1, "y": 1, "width": 5, "height": 5, "label": "cat"},
        {"x": 2, "y": 2, "width": 5, "height": 5, "label": "dog"},
    ])
    with pytest.raises(ApiError) as error:
        client.projects.delete_label(project, "cat")
    assert error.value.status == 409
    assert "used by 2 annotation shape(s)/label(s) on 1 dataset item(s)" in error.value.detail
    assert error.value.problem["shapes"] == 2
    assert [label.name for label in client.projects.labels(project)] == ["cat", "dog"]

    client.projects.delete_label(project, "cat", force=True)
    assert [label.name for label in client.projects.labels(project)] == ["dog"]
    remaining = client.datasets.annotation(project, item)
    assert [(b.x, b.label_name) for b in remaining.boxes] == [(2, "dog")]
    client.projects.delete_label(project, "dog", force=True)
    after = client.datasets.item(project, item)
    assert after.annotated is True and after.annotation.boxes == []


def test_force_deleting_the_label_of_a_multiclass_item_leaves_it_unannotated(client: Client) -> None:
    project, item = _project_with_item(client, "multiclass_classification")
    client.datasets.annotate(project, item, labels=["cat"])
    client.projects.delete_label(project, "cat", force=True)
    assert client.datasets.item(project, item).annotated is False


def test_unused_label_deletes_without_force(client: Client) -> None:
    project, _ = _project_with_item(client, "detection")
    client.projects.delete_label(project, "dog")
    assert [label.name for label in client.projects.labels(project)] == ["cat"]
