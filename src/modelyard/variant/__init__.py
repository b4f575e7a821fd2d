"""ML core shared by export and inference: what an exported variant is and how an image becomes its input.

``metadata``: ``variant.json`` (task, label map, input spec, output layout). ``preprocess``: an image to the pixels the
model saw in training. ``backends``: the runtimes that run a variant's graph (OpenVINO) or its checkpoint (PyTorch).
Export writes and checks variants with these; inference serves them. Neither torch nor openvino is imported here.
"""

from __future__ import annotations

from modelyard.variant.metadata import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    ExportError,
    LabelEntry,
    VariantMetadata,
    read_variant_metadata,
    write_variant_metadata,
)
from modelyard.variant.preprocess import ImageInput, ImageInputError, PreparedImage, prepare_image

__all__ = [
    "DEFAULT_CONFIDENCE_THRESHOLD",
    "ExportError",
    "ImageInput",
    "ImageInputError",
    "LabelEntry",
    "PreparedImage",
    "VariantMetadata",
    "prepare_image",
    "read_variant_metadata",
    "write_variant_metadata",
]
