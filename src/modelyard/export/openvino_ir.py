"""Export a ``model.pt`` checkpoint to OpenVINO IR (FP16 by default, or FP32) with model_api metadata.

Shapes: the spatial size is fixed to the manifest's input size. Preprocessing always resizes to it, so a dynamic
size would buy nothing, and model_api embeds its resize into the graph only for static sizes. Classifiers keep a
dynamic batch; detectors take batch 1 (see ``wrappers``).

The IR's rt_info carries what openvino-model-api 0.4.7 reads (``model_info``), so that
``model_api.models.Model.create_model("model.xml")`` runs the variant without modelyard:

- classification -> ``Classification`` wrapper, one ``scores`` output (softmax, or logits with ``multilabel``);
- detection -> ``SSD`` wrapper, whose "boxes-labels" parser takes ``boxes`` (1, K, 5) in input pixels and
  ``labels`` (1, K) counted from 0;
- instance segmentation -> ``MaskRCNN`` wrapper: ``labels`` (1, K), ``boxes`` (1, K, 5), ``masks`` (1, K, 28, 28).
  That wrapper adds 1 to every label before looking its name up, so its label list starts with "background".

model_api callers pass BGR images (``cv2.imread``) and our graphs expect RGB, hence ``reverse_input_channels``.
model_api splits its label list on whitespace, so spaces in label names are written as underscores there
(the exact names stay in ``variant.json``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from modelyard.export.files import FileEntry, write_files_manifest
from modelyard.export.variant import metadata_for
from modelyard.variant.metadata import DEFAULT_CONFIDENCE_THRESHOLD, VariantMetadata, write_variant_metadata

if TYPE_CHECKING:
    import openvino as ov

    from modelyard.export.wrappers import ExportableModule

IR_MODEL_FILE = "model.xml"
_MODEL_API_TYPES = {"classification": "Classification", "detection": "SSD", "instance_segmentation": "MaskRCNN"}
_MODEL_API_RESIZE = {"stretch": "standard", "letterbox": "fit_to_window"}  # both pad right and bottom


@dataclass(frozen=True)
class ExportedVariant:
    folder: Path
    model_path: Path
    metadata: VariantMetadata
    files: list[FileEntry]
    """The variant's files (graph, weights, variant.json) with size and sha256, as written to files.json."""


def export_openvino(
    checkpoint: Path,
    output_dir: Path,
    precision: Literal["fp16", "fp32"] = "fp16",
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> ExportedVariant:
    """Convert ``checkpoint`` into ``output_dir/model.xml`` + ``model.bin`` with variant.json and files.json."""
    import openvino as ov

    from modelyard.export.wrappers import exportable_module
    from modelyard.training.checkpoint import load_model

    loaded = load_model(checkpoint)
    exportable = exportable_module(loaded)
    metadata = metadata_for(loaded, "openvino", precision, IR_MODEL_FILE, exportable, confidence_threshold)
    metadata = metadata.with_changes(extra={"source_metadata": loaded.metadata})
    ov_model = convert_to_openvino(exportable)
    embed_model_info(ov_model, model_api_info(metadata))
    output_dir.mkdir(parents=True, exist_ok=True)
    ov.save_model(ov_model, output_dir / IR_MODEL_FILE, compress_to_fp16=precision == "fp16")
    return finish_variant(output_dir, metadata, [IR_MODEL_FILE, "model.bin"])


def convert_to_openvino(exportable: ExportableModule) -> ov.Model:
    """Trace the wrapper into an ``ov.Model`` with named, NCHW-laid-out input and named outputs."""
    import openvino as ov
    import torch

    example = exportable.example_input
    shape = [-1 if exportable.dynamic_batch else example.shape[0], *example.shape[1:]]
    with torch.no_grad(), warnings.catch_warnings():
        # Tracing torchvision detectors warns about every Python-side shape computation it freezes.
        warnings.simplefilter("ignore")
        ov_model = ov.convert_model(exportable.module, example_input=example, input=[ov.PartialShape(shape)])
    ov_model.inputs[0].get_tensor().set_names({"image"})
    ov.layout_helpers.set_layout(ov_model.input(0), ov.Layout("NCHW"))
    for output, name in zip(ov_model.outputs, exportable.output_names, strict=True):
        output.get_tensor().set_names({name})
    return ov_model


def model_api_info(metadata: VariantMetadata) -> dict[str, str]:
    """The ``model_info`` entries model_api reads, as strings (its parsers split lists on whitespace)."""
    spec = metadata.input_spec
    family = "classification" if metadata.classification_outputs else metadata.task
    label_names = [name.replace(" ", "_") for name in metadata.label_names]
    if family == "instance_segmentation":
        label_names = ["background", *label_names]
    if metadata.input_scaling == "normalize":
        mean, scale = [value * 255 for value in spec.mean], [value * 255 for value in spec.std]
    else:
        mean, scale = [0.0, 0.0, 0.0], [255.0, 255.0, 255.0]
    info = {
        "model_type": _MODEL_API_TYPES[family],
        "labels": " ".join(label_names),
        "label_ids": " ".join(label.id.replace(" ", "_") for label in metadata.labels),
        "mean_values": _numbers(mean),
        "scale_values": _numbers(scale),
        "reverse_input_channels": "True",
        "resize_type": _MODEL_API_RESIZE[spec.resize],
        "pad_value": "0",
        "confidence_threshold": repr(float(metadata.confidence_threshold)),
        "task_type": metadata.task,
        "architecture_id": metadata.architecture_id,
    }
    if family == "classification":
        info["multilabel"] = str(metadata.task == "multilabel_classification")
        info["topk"] = "1"
    return info


def _numbers(values: list[float]) -> str:
    return " ".join(f"{value:.6g}" for value in values)


def embed_model_info(ov_model: ov.Model, info: dict[str, str]) -> None:
    for key, value in info.items():
        ov_model.set_rt_info(value, ["model_info", key])


def finish_variant(folder: Path, metadata: VariantMetadata, model_files: list[str]) -> ExportedVariant:
    """Write variant.json and files.json for a folder whose graph files are in place."""
    write_variant_metadata(folder, metadata)
    files = write_files_manifest(folder, [*model_files, "variant.json"])
    return ExportedVariant(folder, folder / metadata.model_file, metadata, files)
