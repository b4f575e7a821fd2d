"""``variant.json``: what a runtime needs besides the graph (task, label map, preprocessing, output layout).

Written next to every exported graph so a variant can be run, evaluated or packaged from its folder alone. Reading
it needs neither torch nor openvino, so a server that only serves a variant never loads PyTorch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from modelyard.architectures.manifest import InputSpec

VARIANT_METADATA_NAME = "variant.json"
VariantFormat = Literal["pytorch", "openvino", "onnx"]
Precision = Literal["fp32", "fp16", "int8"]
DEFAULT_CONFIDENCE_THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelEntry:
    """One label of the model's output, in output order: ``index`` is the class the network predicts."""

    index: int
    id: str
    name: str


class ExportError(ValueError):
    """A model cannot be exported, or a variant folder is incomplete."""

    code = "export_failed"


@dataclass(frozen=True)
class VariantMetadata:
    format: VariantFormat
    precision: Precision
    task: str
    architecture_id: str
    model_file: str
    """The graph's file name inside the variant folder (model.xml, model.onnx)."""
    labels: list[LabelEntry]
    input: dict[str, Any]
    """The manifest's input spec as saved in the checkpoint (size, mean, std, channel_order, resize)."""
    input_scaling: Literal["normalize", "unit"]
    output_names: list[str]
    classification_outputs: Literal["probabilities", "logits"] | None = None
    dynamic_batch: bool = False
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD
    extra: dict[str, Any] = field(default_factory=dict)
    """Plain values such as the source revision's metadata or the quantization settings."""

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec.model_validate(self.input)

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]

    def with_changes(self, **changes: Any) -> VariantMetadata:
        return VariantMetadata(**{**self.__dict__, **changes})


def write_variant_metadata(folder: Path, metadata: VariantMetadata) -> Path:
    path = folder / VARIANT_METADATA_NAME
    path.write_text(json.dumps(asdict(metadata), indent=2) + "\n", encoding="utf-8")
    return path


def read_variant_metadata(folder: Path) -> VariantMetadata:
    path = folder / VARIANT_METADATA_NAME
    if not path.is_file():
        raise ExportError(f"{folder} has no {VARIANT_METADATA_NAME}; export the variant again")
    content = json.loads(path.read_text(encoding="utf-8"))
    content["labels"] = [LabelEntry(**label) for label in content["labels"]]
    return VariantMetadata(**content)
