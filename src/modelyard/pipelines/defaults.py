"""A pipeline's defaults, apart from its API models so that the CLI can show them without loading pydantic."""

from __future__ import annotations

DEFAULT_VARIANT = "openvino-fp16"
DEFAULT_CONFIDENCE_THRESHOLD = 0.5
