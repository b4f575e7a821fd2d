"""Proposals: the enabled pipeline's predictions for a dataset item, in the annotation's form."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.datasets.proposals import ItemToPredict, as_proposal
from modelyard.datasets.schemas import ItemProposal
from modelyard.inference import Predictor
from modelyard.pipelines.schemas import FilePrediction
from modelyard.sdk import ApiError, Client
from tests.pipelines.factories import ServedModel, TinyModel


def test_a_proposal_is_the_enabled_model_s_prediction_for_the_item(
    app_client: Client, served: ServedModel, tiny_model: TinyModel
) -> None:
    item = next(app_client.datasets.iterate_items(served.project))
    with pytest.raises(ApiError) as disabled:
        app_client.datasets.propose(served.project, item.id)
    assert (disabled.value.status, disabled.value.code) == (409, "pipeline_disabled")

    app_client.pipelines.enable(served.project, served.revision_id)
    proposal = app_client.datasets.propose(served.project, item.id)

    image = app_client.datasets.image(served.project, item.id)
    path = Path(served.images[0].parent) / "proposed.png"
    path.write_bytes(image)
    expected = Predictor.open(tiny_model.fp16.folder).predict(path).labels[0]
    # The tiny model was made outside the project: its labels are the project's by name.
    project_labels = {label.name: label.id for label in app_client.projects.labels(served.project)}
    assert [(label.id, label.name) for label in proposal.labels] == [(project_labels[expected.name], expected.name)]
    assert abs(proposal.labels[0].score - expected.score) < 1e-5
    assert (proposal.item_id, proposal.revision_id, proposal.variant) == (item.id, served.revision_id, "openvino-fp16")
    assert proposal.annotation_version == item.annotation_version
    assert proposal.boxes == [] and proposal.polygons == []


def _detection(task: str, objects: list[dict]) -> FilePrediction:
    return FilePrediction.model_validate({"file": "a.png", "task": task, "width": 40, "height": 30, "objects": objects})


ITEM = ItemToPredict("p", "i", "a.png", Path("a.png"), 40, 30, 4, {"cat": "cat", "dog": "dog"})


def _empty() -> ItemProposal:
    return ItemProposal(item_id="i", revision_id="r", variant="v", confidence_threshold=0.5, annotation_version=4)


def test_proposed_boxes_are_cut_to_the_image_and_labels_the_project_lost_are_left_out() -> None:
    prediction = _detection("detection", [
        {"label": {"index": 0, "id": "cat", "name": "cat", "score": 0.9}, "box": [30, 20, 20, 20]},
        {"label": {"index": 1, "id": "gone", "name": "gone", "score": 0.8}, "box": [1, 1, 5, 5]},
        {"label": {"index": 0, "id": "dog", "name": "dog", "score": 0.7}, "box": [50, 40, 5, 5]},
    ])  # fmt: skip
    proposal = as_proposal(_empty(), prediction, ITEM)
    assert [(b.x, b.y, b.width, b.height, b.label_name, b.score) for b in proposal.boxes] == [
        (30, 20, 10, 10, "cat", 0.9)
    ]


def test_proposed_polygons_come_from_the_outlines_of_each_object() -> None:
    prediction = _detection("instance_segmentation", [
        {"label": {"index": 1, "id": "dog", "name": "dog", "score": 0.6}, "box": [0, 0, 10, 10],
         "polygons": [[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 28]]},
    ])  # fmt: skip
    proposal = as_proposal(_empty(), prediction, ITEM)
    assert [(p.points, p.label_id) for p in proposal.polygons] == [
        ([(0, 0), (10, 0), (10, 10)], "dog"),
        ([(20, 20), (30, 20), (30, 28)], "dog"),
    ]


def test_predicted_labels_are_the_project_s_through_the_revision_s_label_snapshot() -> None:
    prediction = _detection("detection", [
        {"label": {"index": 1, "id": "model-own-id", "name": "hot dog", "score": 0.9}, "box": [1, 1, 5, 5]},
    ])  # fmt: skip
    proposal = as_proposal(_empty(), prediction, ITEM, trained_on=["cat", "dog"])
    assert [(box.label_id, box.label_name) for box in proposal.boxes] == [("dog", "dog")]
