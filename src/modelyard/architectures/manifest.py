"""Architecture manifests: the YAML files that describe each trainable network.

A manifest names the torchvision builder, the input the network expects, every hyperparameter with its default
and bounds, the pretrained weights (URL and hash) and published statistics. Shipped manifests live in this package
under ``manifests/<family>/<id>.yaml``; users add their own under ``DATA_DIR/model_manifests/<family>/<id>.yaml``.

This module is imported by the API and the CLI, so it must stay free of torch and torchvision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

TaskType = Literal[
    "multiclass_classification",
    "multilabel_classification",
    "detection",
    "instance_segmentation",
]
TaskFamily = Literal["classification", "detection", "instance_segmentation"]

TASK_FAMILY: dict[str, TaskFamily] = {
    "multiclass_classification": "classification",
    "multilabel_classification": "classification",
    "detection": "detection",
    "instance_segmentation": "instance_segmentation",
}
OPTIMIZERS = ("sgd", "adam", "adamw")
CLASS_BALANCING = ("none", "sampling", "loss")
"""none; sampling: draw images of rare labels more often; loss: weigh each label's loss by its rarity."""
SCHEDULERS = ("cosine", "step", "constant")
SHIPPED_MANIFESTS_DIR = Path(__file__).parent / "manifests"


class ManifestError(ValueError):
    """A manifest file is missing, unreadable or invalid; the message names the file and the field."""

    code = "manifest_invalid"

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class HyperparameterError(ValueError):
    """A hyperparameter override is unknown, of the wrong type or outside the manifest's bounds."""

    code = "hyperparameter_invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


class _Strict(BaseModel):
    # Strict: a YAML typo such as `1e-3` (a string to PyYAML) or `"true"` must fail, not be coerced.
    model_config = ConfigDict(extra="forbid", strict=True)


class FloatParameter(_Strict):
    type: Literal["float"]
    default: float
    min: float
    max: float
    description: str = ""

    @model_validator(mode="after")
    def _default_within_bounds(self) -> FloatParameter:
        _check_bounds(self.min, self.max, self.default)
        return self

    def validate_value(self, field: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HyperparameterError(field, f"must be a number, got {value!r}")
        return float(_within_bounds(field, value, self.min, self.max))


class IntParameter(_Strict):
    type: Literal["int"]
    default: int
    min: int
    max: int
    description: str = ""

    @model_validator(mode="after")
    def _default_within_bounds(self) -> IntParameter:
        _check_bounds(self.min, self.max, self.default)
        return self

    def validate_value(self, field: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise HyperparameterError(field, f"must be an integer, got {value!r}")
        return int(_within_bounds(field, value, self.min, self.max))


class ChoiceParameter(_Strict):
    type: Literal["choice"]
    default: str
    choices: list[str] = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _default_among_choices(self) -> ChoiceParameter:
        if self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not one of the choices {self.choices}")
        return self

    def validate_value(self, field: str, value: object) -> str:
        if value not in self.choices:
            raise HyperparameterError(field, f"must be one of {', '.join(self.choices)}, got {value!r}")
        return str(value)


class BoolParameter(_Strict):
    type: Literal["bool"]
    default: bool
    description: str = ""

    def validate_value(self, field: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise HyperparameterError(field, f"must be true or false, got {value!r}")
        return value


class SizeParameter(_Strict):
    """The side of the square input, one of the sizes the architecture is known to work at."""

    type: Literal["size"]
    default: int
    choices: list[int] = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _default_among_choices(self) -> SizeParameter:
        if self.default not in self.choices:
            raise ValueError(f"default {self.default} is not one of the sizes {self.choices}")
        if min(self.choices) < 32:
            raise ValueError("input sizes must be 32 pixels or more")
        return self

    def validate_value(self, field: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.choices:
            raise HyperparameterError(field, f"must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        return value


Parameter = FloatParameter | IntParameter | ChoiceParameter | BoolParameter | SizeParameter


def _check_bounds(minimum: float, maximum: float, default: float) -> None:
    if minimum > maximum:
        raise ValueError(f"min {minimum} is greater than max {maximum}")
    if not minimum <= default <= maximum:
        raise ValueError(f"default {default} is outside [{minimum}, {maximum}]")


def _within_bounds(field: str, value: float, minimum: float, maximum: float) -> float:
    if value < minimum:
        raise HyperparameterError(field, f"must be >= {minimum}, got {value}")
    if value > maximum:
        raise HyperparameterError(field, f"must be <= {maximum}, got {value}")
    return value


class Augmentations(_Strict):
    horizontal_flip: BoolParameter
    color_jitter: FloatParameter = Field(description="Brightness/contrast/saturation jitter strength; 0 disables.")
    random_resized_crop: FloatParameter = Field(description="Smallest crop area as a fraction; 1 disables.")


class Hyperparameters(_Strict):
    learning_rate: FloatParameter
    batch_size: IntParameter
    epochs: IntParameter
    weight_decay: FloatParameter
    optimizer: ChoiceParameter
    scheduler: ChoiceParameter
    warmup_epochs: IntParameter
    early_stopping_patience: IntParameter = Field(description="Epochs without improvement before stopping; 0 never.")
    gradient_clip_norm: FloatParameter = Field(description="Maximum gradient L2 norm; 0 disables clipping.")
    augmentations: Augmentations
    input_size: SizeParameter | None = Field(
        default=None,
        description="Side of the square input (its default is input.size's side); absent: the input's size is fixed.",
    )
    class_balancing: ChoiceParameter | None = Field(
        default=None, description="none | sampling | loss; absent: the architecture trains unbalanced only."
    )

    @model_validator(mode="after")
    def _choices_are_implemented(self) -> Hyperparameters:
        # A manifest may narrow the choices but never offer one the training loop does not implement.
        checks = [("optimizer", self.optimizer, OPTIMIZERS), ("scheduler", self.scheduler, SCHEDULERS)]
        if self.class_balancing is not None:
            checks.append(("class_balancing", self.class_balancing, CLASS_BALANCING))
        for name, spec, implemented in checks:
            unknown = set(spec.choices) - set(implemented)
            if unknown:
                raise ValueError(f"{name} choices {sorted(unknown)} are not implemented; use {list(implemented)}")
        return self


class BuilderSpec(_Strict):
    function: str = Field(description="torchvision.models builder name registered in modelyard.training.networks.")
    kwargs: dict[str, Any] = Field(default_factory=dict)


class InputSpec(_Strict):
    size: Annotated[list[int], Field(min_length=2, max_length=2)] = Field(description="[height, width] in pixels.")
    mean: Annotated[list[float], Field(min_length=3, max_length=3)]
    std: Annotated[list[float], Field(min_length=3, max_length=3)]
    channel_order: Literal["RGB"] = "RGB"
    resize: Literal["stretch", "letterbox"] = Field(
        default="stretch", description="stretch: ignore aspect ratio; letterbox: keep it, pad right and bottom."
    )

    @model_validator(mode="after")
    def _positive(self) -> InputSpec:
        if min(self.size) < 1 or min(self.std) <= 0:
            raise ValueError("size and std must be positive")
        return self


_HEX = re.compile(r"^[0-9a-f]+$")


class PretrainedWeights(_Strict):
    url: str
    file_name: str
    sha256: str | None = Field(default=None, description="Full hex digest when known.")
    sha256_prefix: str | None = Field(
        default=None, description="Leading hex digits of the digest, as published in torchvision file names."
    )
    size_bytes: int | None = None
    digest_recorded_at_download: bool = Field(
        default=False,
        description="No digest is published: the first download's sha256 is recorded beside the cached file and "
        "the cache is checked against it from then on (trust on first use). Excludes sha256 and sha256_prefix.",
    )

    @model_validator(mode="after")
    def _has_a_hash(self) -> PretrainedWeights:
        checks = (("sha256", self.sha256, (64, 64)), ("sha256_prefix", self.sha256_prefix, (8, 64)))
        for name, digest, lengths in checks:
            if digest is not None and (not _HEX.match(digest) or not lengths[0] <= len(digest) <= lengths[1]):
                raise ValueError(f"{name} must be {lengths[0]}-{lengths[1]} lowercase hex digits")
        published = self.sha256 is not None or self.sha256_prefix is not None
        if self.digest_recorded_at_download:
            if published:
                raise ValueError("digest_recorded_at_download is only for weights without a published sha256")
            return self
        if not published:
            raise ValueError(
                "give sha256 or sha256_prefix so downloads can be verified (or, where none is published, "
                "digest_recorded_at_download: true)"
            )
        if self.sha256 and self.sha256_prefix and not self.sha256.startswith(self.sha256_prefix):
            raise ValueError("sha256 does not start with sha256_prefix")
        return self

    def matches(self, hex_digest: str) -> bool:
        """Whether a file's sha256 agrees with what the manifest knows (the full hash, else the prefix); with no
        published digest any file matches, and the digest recorded at its download guards the cache."""
        if self.sha256 is not None:
            return hex_digest == self.sha256
        return hex_digest.startswith(self.sha256_prefix or "")

    @property
    def expected(self) -> str:
        if self.digest_recorded_at_download:
            return "(no published digest; recorded at download)"
        return self.sha256 or f"{self.sha256_prefix}..."


class Stats(_Strict):
    parameters: int
    gflops: float
    file_size_mb: float | None = None
    reference_metrics: dict[str, float] = Field(
        default_factory=dict, description="Published figures of the pretrained weights, e.g. ImageNet-1K acc@1."
    )


class ArchitectureManifest(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    name: str
    tasks: list[TaskType] = Field(min_length=1)
    description: str
    license: str
    builder: BuilderSpec
    input: InputSpec
    hyperparameters: Hyperparameters
    pretrained_weights: PretrainedWeights | None = None
    stats: Stats
    support_status: Literal["stable", "experimental", "deprecated"]

    @model_validator(mode="after")
    def _one_family(self) -> ArchitectureManifest:
        if len({TASK_FAMILY[task] for task in self.tasks}) != 1 or len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks {self.tasks} must be distinct and of one family (classification, ...)")
        return self

    def at_input_size(self, hyperparameters: Mapping[str, Any]) -> ArchitectureManifest:
        """This manifest with its input resized to the resolved `input_size` hyperparameter (when it has one)."""
        side = hyperparameters.get("input_size")
        sizes = self.hyperparameters.input_size
        if side is None or sizes is None or [side, side] == self.input.size:
            return self
        # The input_size default follows, so the resized manifest (saved in model.pt) validates again.
        resized = self.hyperparameters.model_copy(update={"input_size": sizes.model_copy(update={"default": side})})
        return self.model_copy(
            update={"input": self.input.model_copy(update={"size": [side, side]}), "hyperparameters": resized}
        )

    @property
    def family(self) -> TaskFamily:
        return TASK_FAMILY[self.tasks[0]]

    def supports(self, task: str) -> bool:
        return task in self.tasks


def load_manifest(path: Path) -> ArchitectureManifest:
    """Read and validate one manifest file; errors name the file and the dotted field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ManifestError(path, f"cannot read YAML: {error}") from error
    if not isinstance(data, dict):
        raise ManifestError(path, "the top level must be a mapping of fields")
    try:
        manifest = ArchitectureManifest.model_validate(data)
    except ValidationError as error:
        raise ManifestError(path, _describe(error)) from error
    if manifest.id != path.stem:
        raise ManifestError(path, f"field 'id' is {manifest.id!r} but the file is named {path.name}")
    if manifest.family != path.parent.name:
        raise ManifestError(path, f"a {manifest.family} manifest must live in a folder named {manifest.family}/")
    return manifest


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = "unknown key; check the spelling" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append(f"field '{field}': {message}")
    return "; ".join(problems)


def load_manifests(package_dir: Path, user_dir: Path | None) -> dict[str, ArchitectureManifest]:
    """Shipped manifests plus the user's; a user manifest may add an architecture but not replace one."""
    manifests = {manifest.id: manifest for manifest in _load_folder(package_dir)}
    for path, manifest in zip(_manifest_paths(user_dir), _load_folder(user_dir), strict=True):
        if manifest.id in manifests:
            raise ManifestError(path, f"id {manifest.id!r} is already a shipped architecture; choose another id")
        manifests[manifest.id] = manifest
    return dict(sorted(manifests.items()))


def _manifest_paths(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*/*.yaml") if path.is_file())


def _load_folder(folder: Path | None) -> list[ArchitectureManifest]:
    return [load_manifest(path) for path in _manifest_paths(folder)]


def resolve_hyperparameters(manifest: ArchitectureManifest, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's defaults with ``overrides`` applied, each checked against its type and bounds.

    Overrides use the manifest's shape: ``{"learning_rate": 0.01, "augmentations": {"horizontal_flip": False}}``.
    """
    return _resolve_group(manifest.hyperparameters, overrides, prefix="")


def _resolve_group(group: BaseModel, overrides: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    if not isinstance(overrides, Mapping):
        raise HyperparameterError(prefix.rstrip(".") or "hyperparameters", "must be a mapping of names to values")
    known = [name for name in type(group).model_fields if getattr(group, name) is not None]
    for name in overrides:
        if name not in known:
            raise HyperparameterError(
                f"{prefix}{name}", f"is not a hyperparameter of this architecture; known: {', '.join(known)}"
            )
    resolved: dict[str, Any] = {}
    for name in known:
        spec = getattr(group, name)
        field = f"{prefix}{name}"
        if isinstance(spec, BaseModel) and not hasattr(spec, "validate_value"):
            resolved[name] = _resolve_group(spec, overrides.get(name, {}), prefix=f"{field}.")
        elif name in overrides:
            resolved[name] = spec.validate_value(field, overrides[name])
        else:
            resolved[name] = spec.default
    return resolved
