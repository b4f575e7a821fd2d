"""Proposals: the project's enabled pipeline run on one of its items, its predictions turned into the annotation's
shapes (project labels, fitted into the image) for a person to accept, edit or reject."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.context import AppContext
from modelyard.datasets.schemas import ItemProposal, ProposedBox, ProposedLabel, ProposedPolygon
from modelyard.datasets.service import DatasetService
from modelyard.datasets.shape_fit import fit_box, fit_polygon
from modelyard.db.engine import transaction
from modelyard.pipelines.runtime import PipelineRuntime
from modelyard.pipelines.schemas import FilePrediction, LabelScoreRead
from modelyard.pipelines.service import ReceivedImage, open_serving, predict_images
from modelyard.projects.service import ProjectService
from modelyard.revisions.models import ModelRevision
from modelyard.storage.service import FileService


@dataclass(frozen=True)
class ItemToPredict:
    project_id: str
    item_id: str
    name: str
    image: Path
    width: int
    height: int
    annotation_version: int
    label_names: Mapping[str, str]


def _item_to_predict(
    context: AppContext, project_reference: str, item_reference: str, access: ProjectAccess
) -> ItemToPredict:
    """Looked up in a short read transaction: none is held while the model runs."""
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        project = ProjectService(session, files, "local", access).get(project_reference)
        datasets = DatasetService(session, files, context.settings, "local")
        item = datasets.get(project, item_reference)
        return ItemToPredict(
            project.id, item.id, item.name, datasets.image_file(item), item.width, item.height,
            item.annotation_version, {label.id: label.name for label in project.labels},
        )  # fmt: skip


def propose(
    context: AppContext,
    runtime: PipelineRuntime,
    project_reference: str,
    item_reference: str,
    access: ProjectAccess = EVERY_PROJECT,
) -> ItemProposal:
    """The enabled pipeline's predictions for an item (409 `pipeline_disabled` while none is enabled)."""
    item = _item_to_predict(context, project_reference, item_reference, access)
    active = open_serving(context, runtime, item.project_id, access)
    with transaction(context.db.read_sessions) as session:
        revision = session.get(ModelRevision, active.revision_id)
        trained_on = [str(label["id"]) for label in sorted(revision.labels, key=lambda label: label["index"])] \
            if revision is not None else []  # fmt: skip
    prediction = predict_images(active, [ReceivedImage(item.name, item.image)]).predictions[0]
    proposal = ItemProposal(
        item_id=item.item_id,
        revision_id=active.revision_id,
        variant=active.variant,
        confidence_threshold=active.key.confidence_threshold,
        annotation_version=item.annotation_version,
    )
    return as_proposal(proposal, prediction, item, trained_on)


def as_proposal(
    proposal: ItemProposal, prediction: FilePrediction, item: ItemToPredict, trained_on: Sequence[str] = ()
) -> ItemProposal:
    """Fill `proposal` with the prediction's labels and shapes that the project still has labels for.
    `trained_on`: the project label id of each output of the model (the revision's label snapshot, in order)."""
    names = item.label_names
    ids_by_name = {name: label_id for label_id, name in names.items()}

    def project_label(predicted: LabelScoreRead) -> str | None:
        """By the revision's snapshot, else by id, else by name (a model whose files were made elsewhere)."""
        if predicted.index < len(trained_on) and trained_on[predicted.index] in names:
            return trained_on[predicted.index]
        return predicted.id if predicted.id in names else ids_by_name.get(predicted.name)

    for label in prediction.labels:
        if (found_id := project_label(label)) is not None:
            proposal.labels.append(ProposedLabel(id=found_id, name=names[found_id], score=label.score))
    for found in prediction.objects:
        label_id = project_label(found.label)
        if label_id is None:
            continue
        if prediction.task == "instance_segmentation":
            for outline in found.polygons:
                points = list(zip(outline[0::2], outline[1::2], strict=True))
                fitted = fit_polygon(points, item.width, item.height)
                if isinstance(fitted.shape, list):
                    proposal.polygons.append(ProposedPolygon(
                        points=fitted.shape, label_id=label_id, label_name=names[label_id], score=found.label.score
                    ))  # fmt: skip
            continue
        box = fit_box(found.box, item.width, item.height).shape
        if isinstance(box, tuple):
            x, y, width, height = box
            proposal.boxes.append(ProposedBox(x=x, y=y, width=width, height=height, label_id=label_id,
                                              label_name=names[label_id], score=found.label.score))  # fmt: skip
    return proposal
