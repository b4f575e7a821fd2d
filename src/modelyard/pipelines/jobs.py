"""Batch prediction job: every image of a folder through the pipeline's current variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.db.engine import transaction
from modelyard.errors import Conflict, InvalidInput
from modelyard.jobs.context import JobContext
from modelyard.jobs.registry import JobType
from modelyard.pipelines.repository import PipelineRepository
from modelyard.pipelines.schemas import BATCH_PREDICT_JOB, BatchPredictParams
from modelyard.pipelines.service import RevisionVariants, load_predictor
from modelyard.revisions.variants import VariantFiles
from modelyard.storage.service import FileService


def batch_predict(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Writes predictions.json (and coco_results.json for detectors) into the output folder."""
    from modelyard.inference import ImageInputError, predict_folder
    from modelyard.inference.batch import IMAGE_SUFFIXES

    request = BatchPredictParams.model_validate(params)
    input_folder, output_folder = Path(request.input_folder), Path(request.output_folder)
    if not input_folder.is_dir():
        raise InvalidInput(f"input folder {input_folder} does not exist (or is not a folder)")
    context.progress(1, "loading")
    with transaction(context.db.read_sessions) as session:
        pipeline = PipelineRepository(session).get(request.project_id)
        if pipeline is None:
            raise Conflict("the project's pipeline was disabled before the batch ran: enable it and start again")
        lookup = RevisionVariants(session)
        revision = lookup.revision(pipeline.revision_id)
        variant = lookup.variants.get(pipeline.variant_id)
        assert variant is not None
        model_path = VariantFiles(FileService(session, context.store)).model_path(variant)
        threshold, variant_name, revision_id = pipeline.confidence_threshold, variant.name, revision.id
        predictor = load_predictor(model_path, variant, threshold)
    count = sum(1 for path in input_folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    context.progress(10, "predicting", f"{count} images with {variant_name} of model revision #{revision.number}")
    try:
        result = predict_folder(predictor, input_folder, output_folder)
    except ImageInputError as error:
        raise InvalidInput(f"{error}; remove or fix that file and start again") from None
    context.progress(100, "done", f"{result.count} predictions written to {result.predictions_path}")
    return {
        "count": result.count,
        "revision_id": revision_id,
        "variant": variant_name,
        "confidence_threshold": threshold,
        "output_folder": str(output_folder),
        "predictions_path": str(result.predictions_path),
        "coco_results_path": str(result.coco_results_path) if result.coco_results_path else None,
    }


JOB_TYPES = [
    JobType(
        name=BATCH_PREDICT_JOB,
        body=batch_predict,
        description="Predict every image of a server folder with the project's pipeline; writes predictions.json.",
        params_model=BatchPredictParams,
        started_by="POST /api/v1/projects/{project}/pipeline:batch-predict (modelyard pipeline batch)",
    )
]
