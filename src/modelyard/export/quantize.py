"""Post-training INT8 quantization of an OpenVINO IR variant with NNCF.

Calibration images go through the variant's own preprocessing (``modelyard.variant.preprocess``), so NNCF sees the value
ranges the deployed model will see. Quantize from the FP32 IR where there is one: NNCF then starts from unrounded
weights. The result is a new variant folder (model.xml, model.bin, variant.json with precision int8, files.json).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from modelyard.export.openvino_ir import (
    IR_MODEL_FILE,
    ExportedVariant,
    embed_model_info,
    finish_variant,
    model_api_info,
)
from modelyard.variant.metadata import ExportError, VariantMetadata, read_variant_metadata
from modelyard.variant.preprocess import ImageInput, prepare_image

MAX_CALIBRATION_IMAGES = 300

ValidationFunction = Callable[[Any, Iterable[tuple[ImageInput, Any]]], float]
"""(compiled OpenVINO model, iterable of (image, target)) -> metric, higher is better. Prepare each image with
``modelyard.variant.prepare_image`` and the variant's metadata."""


def quantize_ir(
    xml_path: Path,
    calibration_images: Sequence[ImageInput],
    output_dir: Path,
    subset_size: int = MAX_CALIBRATION_IMAGES,
    fast_bias_correction: bool = True,
) -> ExportedVariant:
    """INT8 copy of the IR at ``xml_path`` calibrated on up to ``subset_size`` (at most 300) images."""
    import nncf
    import openvino as ov

    metadata, model, dataset = _prepare(xml_path, calibration_images)
    quantized = nncf.quantize(
        model,
        dataset,
        subset_size=_subset(subset_size, calibration_images),
        fast_bias_correction=fast_bias_correction,
    )
    settings = {"method": "post_training", "calibration_images": _subset(subset_size, calibration_images)}
    return _save(quantized, metadata, output_dir, settings, ov)


def quantize_with_accuracy_control(
    xml_path: Path,
    calibration_images: Sequence[ImageInput],
    validation_items: Sequence[tuple[ImageInput, Any]],
    validation_fn: ValidationFunction,
    output_dir: Path,
    max_drop: float = 0.01,
    subset_size: int = MAX_CALIBRATION_IMAGES,
) -> ExportedVariant:
    """INT8 copy whose ``validation_fn`` metric drops by at most ``max_drop`` (absolute) from the original's; NNCF
    keeps the layers that cost the most accuracy in floating point until the drop is small enough."""
    import nncf
    import openvino as ov

    metadata, model, calibration = _prepare(xml_path, calibration_images)
    spec, scaling = metadata.input_spec, metadata.input_scaling
    validation = nncf.Dataset(list(validation_items), lambda item: prepare_image(item[0], spec, scaling).pixels[None])
    quantized = nncf.quantize_with_accuracy_control(
        model,
        calibration_dataset=calibration,
        validation_dataset=validation,
        validation_fn=validation_fn,
        max_drop=max_drop,
        drop_type=nncf.DropType.ABSOLUTE,
        subset_size=_subset(subset_size, calibration_images),
    )
    settings = {
        "method": "accuracy_control",
        "max_drop": max_drop,
        "calibration_images": _subset(subset_size, calibration_images),
    }
    return _save(quantized, metadata, output_dir, settings, ov)


def _prepare(xml_path: Path, calibration_images: Sequence[ImageInput]) -> tuple[VariantMetadata, Any, Any]:
    import nncf
    import openvino as ov

    if not calibration_images:
        raise ExportError("quantization needs at least one calibration image")
    metadata = read_variant_metadata(xml_path.parent)
    if metadata.format != "openvino":
        raise ExportError(f"quantization needs an OpenVINO IR variant, got {metadata.format}")
    spec, scaling = metadata.input_spec, metadata.input_scaling
    images = list(calibration_images)[:MAX_CALIBRATION_IMAGES]
    dataset = nncf.Dataset(images, lambda image: prepare_image(image, spec, scaling).pixels[None])
    return metadata, ov.Core().read_model(str(xml_path)), dataset


def _subset(subset_size: int, images: Sequence[ImageInput]) -> int:
    return max(1, min(subset_size, MAX_CALIBRATION_IMAGES, len(images)))


def _save(
    model: Any, metadata: VariantMetadata, output_dir: Path, settings: dict[str, Any], ov: Any
) -> ExportedVariant:
    quantized_metadata = metadata.with_changes(
        precision="int8", extra={**metadata.extra, "quantization": settings, "source_precision": metadata.precision}
    )
    # NNCF copies rt_info, but write the entries again so the IR is right whatever NNCF's version does.
    embed_model_info(model, model_api_info(quantized_metadata))
    _float_weights_to_fp16(model)
    output_dir.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, output_dir / IR_MODEL_FILE)
    return finish_variant(output_dir, quantized_metadata, [IR_MODEL_FILE, "model.bin"])


# Weights NNCF leaves in floating point (squeeze-and-excitation blocks, first and last layers) are kept
# as FP32 by save_model once a model holds quantized parts; stored as FP16 they take half the space,
# as they do in the FP16 variant, and are converted back when the model is compiled.
_WEIGHT_CONSUMERS = {"Convolution", "GroupConvolution", "MatMul"}
_SMALLEST_COMPRESSED_BYTES = 1024


def _float_weights_to_fp16(model: Any) -> None:
    import numpy as np
    import openvino.opset13 as ops

    for node in model.get_ops():
        if node.get_type_name() != "Constant" or str(node.get_element_type()) != "<Type: 'float32'>":
            continue
        if node.get_byte_size() < _SMALLEST_COMPRESSED_BYTES:
            continue
        targets = list(node.output(0).get_target_inputs())
        if not targets or any(t.get_node().get_type_name() not in _WEIGHT_CONSUMERS for t in targets):
            continue
        half = ops.constant(node.get_data().astype(np.float16))
        restored = ops.convert(half, "f32")
        for target in targets:
            target.replace_source_output(restored.output(0))
