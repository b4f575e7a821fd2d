"""ML core: export checkpoints to OpenVINO IR and ONNX, check parity, quantize to INT8, measure speed.

Heavy libraries (torch, openvino, nncf, onnx) are imported inside the functions that use them.
"""

from __future__ import annotations

from modelyard.export.files import FileEntry, read_files_manifest, verify_files, write_files_manifest
from modelyard.export.onnx_export import export_onnx
from modelyard.export.openvino_ir import ExportedVariant, export_openvino, model_api_info
from modelyard.export.parity import TOLERANCES, ParityError, ParityReport, ParityTolerance, check_parity
from modelyard.export.quantize import quantize_ir, quantize_with_accuracy_control
from modelyard.export.speed import SpeedReport, measure_speed
from modelyard.variant.metadata import ExportError, VariantMetadata, read_variant_metadata

__all__ = [
    "TOLERANCES",
    "ExportError",
    "ExportedVariant",
    "FileEntry",
    "ParityError",
    "ParityReport",
    "ParityTolerance",
    "SpeedReport",
    "VariantMetadata",
    "check_parity",
    "export_onnx",
    "export_openvino",
    "measure_speed",
    "model_api_info",
    "quantize_ir",
    "quantize_with_accuracy_control",
    "read_files_manifest",
    "read_variant_metadata",
    "verify_files",
    "write_files_manifest",
]
