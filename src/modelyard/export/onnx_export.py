"""Export a ``model.pt`` checkpoint to ONNX FP32 through the TorchScript exporter (``dynamo=False``).

The graph is the same wrapper the IR is made from (see ``wrappers``): dynamic batch for classifiers, batch 1 and a
dynamic number of detections for detectors. The model_api ``model_info`` entries go into ``metadata_props`` under
``"model_info <key>"``, where model_api's OpenVINO adapter looks for them when it reads an ``.onnx`` file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.export.openvino_ir import ExportedVariant, finish_variant, model_api_info
from modelyard.export.variant import metadata_for
from modelyard.variant.metadata import DEFAULT_CONFIDENCE_THRESHOLD

if TYPE_CHECKING:
    from modelyard.export.wrappers import ExportableModule

ONNX_MODEL_FILE = "model.onnx"
ONNX_OPSET = 17


def export_onnx(
    checkpoint: Path, output_dir: Path, confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD
) -> ExportedVariant:
    """Write ``output_dir/model.onnx`` (FP32) with variant.json and files.json."""
    from modelyard.export.wrappers import exportable_module
    from modelyard.training.checkpoint import load_model

    loaded = load_model(checkpoint)
    exportable = exportable_module(loaded)
    metadata = metadata_for(loaded, "onnx", "fp32", ONNX_MODEL_FILE, exportable, confidence_threshold)
    metadata = metadata.with_changes(extra={"source_metadata": loaded.metadata})
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / ONNX_MODEL_FILE
    trace_to_onnx(exportable, path)
    add_onnx_metadata(path, model_api_info(metadata))
    return finish_variant(output_dir, metadata, [ONNX_MODEL_FILE])


def trace_to_onnx(exportable: ExportableModule, path: Path) -> None:
    import torch

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about frozen Python shape arithmetic
        torch.onnx.export(
            exportable.module,
            (exportable.example_input,),
            str(path),
            dynamo=False,
            input_names=["image"],
            output_names=list(exportable.output_names),
            dynamic_axes=_dynamic_axes(exportable),
            opset_version=ONNX_OPSET,
        )


def _dynamic_axes(exportable: ExportableModule) -> dict[str, dict[int, str]]:
    if exportable.dynamic_batch:
        return {"image": {0: "batch"}, **{name: {0: "batch"} for name in exportable.output_names}}
    return {name: {1: "detections"} for name in exportable.output_names}


def add_onnx_metadata(path: Path, info: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    for key, value in info.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = f"model_info {key}", value
    onnx.save(model, str(path))
