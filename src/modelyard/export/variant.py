"""The metadata of a variant exported from a loaded checkpoint (``variant.json`` lives in ``modelyard.variant``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.variant.metadata import Precision, VariantFormat, VariantMetadata

if TYPE_CHECKING:
    from modelyard.training.checkpoint import LoadedModel


def metadata_for(
    loaded: LoadedModel,
    format: VariantFormat,
    precision: Precision,
    model_file: str,
    exportable: Any,
    confidence_threshold: float,
) -> VariantMetadata:
    return VariantMetadata(
        format=format,
        precision=precision,
        task=loaded.task,
        architecture_id=loaded.architecture_id,
        model_file=model_file,
        labels=list(loaded.labels),
        input=loaded.input_spec.model_dump(mode="json"),
        input_scaling=exportable.input_scaling,
        output_names=list(exportable.output_names),
        classification_outputs=exportable.classification_outputs,
        dynamic_batch=exportable.dynamic_batch,
        confidence_threshold=confidence_threshold,
    )
