"""Jobs on a trained revision: `export` a variant, `evaluate` a variant, `optimize` to INT8."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelyard.db.engine import transaction
from modelyard.errors import Conflict
from modelyard.evaluations.service import run_evaluation
from modelyard.jobs.context import JobContext
from modelyard.jobs.registry import JobType
from modelyard.revisions.job_params import (
    EVALUATE_JOB,
    EXPORT_JOB,
    OPTIMIZE_JOB,
    EvaluateParams,
    ExportParams,
    OptimizeParams,
)
from modelyard.revisions.usable import require_usable
from modelyard.revisions.variants import export_variant, quantize_variant

MAX_CALIBRATION_IMAGES = 300


def export(context: JobContext, raw: dict[str, Any]) -> dict[str, Any]:
    params = ExportParams.model_validate(raw)
    name = f"{params.format}-{params.precision}"
    context.progress(5, f"exporting {name}")
    variant_id = export_variant(context, params.revision_id, params.format, params.precision)
    result: dict[str, Any] = {"variant_id": variant_id, "variant": name}
    if params.evaluate:
        context.progress(70, f"evaluating {name}")
        evaluated = evaluate_if_possible(context, params.revision_id, name)
        result["evaluation_id"] = evaluated.evaluation_id
        if evaluated.skipped_because:
            result["evaluation_skipped"] = evaluated.skipped_because
    return result


def evaluate(context: JobContext, raw: dict[str, Any]) -> dict[str, Any]:
    params = EvaluateParams.model_validate(raw)
    context.progress(5, f"evaluating {params.variant} on {params.subset}")
    evaluation_id = run_evaluation(context, params.revision_id, params.variant, params.dataset_revision, params.subset,
                                   reuse_stored=not params.force)  # fmt: skip
    return {"evaluation_id": evaluation_id}


def optimize(context: JobContext, raw: dict[str, Any]) -> dict[str, Any]:
    """INT8 post-training quantization, calibrated on up to 300 training images."""
    params = OptimizeParams.model_validate(raw)
    context.progress(5, "calibration images")
    calibration, validation = _calibration_and_validation(context, params)
    context.progress(15, "quantizing" if params.max_drop is None else f"quantizing (max drop {params.max_drop})")
    variant_id = quantize_variant(context, params.revision_id, calibration, params.max_drop, validation)
    context.progress(75, "evaluating openvino-int8")
    evaluated = evaluate_if_possible(context, params.revision_id, "openvino-int8")
    result = {"variant_id": variant_id, "variant": "openvino-int8", "evaluation_id": evaluated.evaluation_id}
    if evaluated.skipped_because:
        result["evaluation_skipped"] = evaluated.skipped_because
    return result


@dataclass(frozen=True)
class AutomaticEvaluation:
    """The evaluation a job runs after making a variant: its id, or why there is none."""

    evaluation_id: str | None
    skipped_because: str | None = None


def evaluate_if_possible(
    context: JobContext, revision_id: str, variant: str, subset: str = "testing"
) -> AutomaticEvaluation:
    """Evaluate on the revision's own `subset`. When that cannot be done (no images in it), say so as a
    warning in the job log, with what to do, and return the reason instead of an id."""
    reason = _why_not_evaluable(context, revision_id, subset)
    if reason is None:
        try:
            return AutomaticEvaluation(run_evaluation(context, revision_id, variant, None, subset))
        except ValueError as error:
            reason = str(error)
    context.log.warning("no evaluation of %s on the %s subset: %s", variant, subset, reason)
    return AutomaticEvaluation(None, reason)


def _why_not_evaluable(context: JobContext, revision_id: str, subset: str) -> str | None:
    from modelyard.datasets.repository import RevisionRepository
    from modelyard.datasets.revisions import require_items_in_subset
    from modelyard.projects.repository import ProjectRepository

    with transaction(context.db.read_sessions) as session:
        revision = require_usable(session, revision_id)
        project = ProjectRepository(session).get(revision.project_id)
        data = RevisionRepository(session).get(revision.project_id, revision.dataset_revision_id)
        assert project is not None and data is not None  # foreign keys keep both
        try:
            require_items_in_subset(project, data, subset)
        except Conflict as conflict:
            return conflict.message
    return None


def _calibration_and_validation(context: JobContext, params: OptimizeParams) -> tuple[list[Any], Any]:
    from modelyard.datasets.revisions import DatasetRevisionService
    from modelyard.projects.repository import ProjectRepository
    from modelyard.storage.service import FileService

    with transaction(context.db.read_sessions) as session:
        revision = require_usable(session, params.revision_id)
        project = ProjectRepository(session).get(revision.project_id)
        assert project is not None  # the revision's foreign key cascades from its project
        files = FileService(session, context.store)
        datasets = DatasetRevisionService(session, files, context.actor)
        dataset_revision = datasets.get(project, revision.dataset_revision_id)
        task, label_ids = revision.task_type, [label["id"] for label in revision.labels]
        training = datasets.read_items(dataset_revision, "training")[:MAX_CALIBRATION_IMAGES]
        validation = datasets.read_items(dataset_revision, "validation") if params.max_drop is not None else []
    calibration = [item.image_path for item in training]
    if not calibration:
        raise ValueError("the dataset revision has no training images to calibrate with")
    if params.max_drop is None:
        return calibration, None
    if task != "multiclass_classification":
        raise ValueError("accuracy-controlled quantization (max_drop) is available for multiclass classification")
    if not validation:
        raise ValueError("accuracy-controlled quantization needs validation images")
    index = {label_id: position for position, label_id in enumerate(label_ids)}
    return calibration, [(item.image_path, index[item.label_ids[0]]) for item in validation]


JOB_TYPES = [
    JobType(EXPORT_JOB, export, "Export a revision to an OpenVINO or ONNX variant (parity-checked, benchmarked).",
            ExportParams, started_by="POST /api/v1/models/{revision_id}/variants (modelyard export)"),
    JobType(EVALUATE_JOB, evaluate, "Evaluate a variant on a subset of a dataset revision.", EvaluateParams,
            started_by="POST /api/v1/models/{revision_id}:evaluate (modelyard evaluate)"),
    JobType(OPTIMIZE_JOB, optimize, "Quantize a revision's OpenVINO variant to INT8 with NNCF.", OptimizeParams,
            started_by="POST /api/v1/models/{revision_id}:optimize (modelyard optimize)"),
]  # fmt: skip
