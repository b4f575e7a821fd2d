"""The search space of a study: which hyperparameters vary, and over what range or choices.

Names are dotted as in the manifest (`learning_rate`, `augmentations.color_jitter`). Without a space of the
user's, the space comes from the manifest: the learning rate and weight decay a decade either side of their
defaults (log scale), the batch size from half to twice its default, the optimizers it offers, and the
augmentations (flip or not, colour jitter, crop); every range is cut to the manifest's bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelyard.architectures.manifest import ArchitectureManifest, HyperparameterError

Number = Annotated[float, Field(allow_inf_nan=False)]
Choice = str | bool | int | Number


class SearchDimension(BaseModel):
    """One varying hyperparameter: a range (`low`, `high`, optionally on a log scale) or a list of choices."""

    model_config = ConfigDict(extra="forbid")

    low: Number | None = None
    high: Number | None = None
    log: bool = Field(default=False, description="Sample the range on a log scale (both ends above zero).")
    choices: list[Choice] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _range_or_choices(self) -> SearchDimension:
        ranged = self.low is not None and self.high is not None
        if ranged == (self.choices is not None) or (self.low is None) != (self.high is None):
            raise ValueError("give either low and high, or choices")
        if ranged and self.low > self.high:  # type: ignore[operator]
            raise ValueError(f"low {self.low} is greater than high {self.high}")
        if ranged and self.log and self.low <= 0:  # type: ignore[operator]
            raise ValueError("a log scale needs low above zero")
        return self


def parameter_specs(manifest: ArchitectureManifest) -> dict[str, Any]:
    """Dotted name -> the manifest's description of that hyperparameter (type, default, bounds or choices)."""
    specs: dict[str, Any] = {}

    def walk(group: BaseModel, prefix: str) -> None:
        for name in type(group).model_fields:
            spec = getattr(group, name)
            if spec is None:
                continue
            if hasattr(spec, "validate_value"):
                specs[f"{prefix}{name}"] = spec
            elif isinstance(spec, BaseModel):
                walk(spec, f"{prefix}{name}.")

    walk(manifest.hyperparameters, "")
    return specs


def default_space(manifest: ArchitectureManifest) -> dict[str, SearchDimension]:
    specs = parameter_specs(manifest)
    space: dict[str, SearchDimension] = {}
    for name in ("learning_rate", "weight_decay"):
        spec = specs[name]
        low, high = max(spec.min, spec.default / 10), min(spec.max, spec.default * 10)
        if spec.default > 0 and low < high:
            space[name] = SearchDimension(low=low, high=high, log=True)
    batch = specs["batch_size"]
    low, high = max(batch.min, batch.default // 2), min(batch.max, batch.default * 2)
    if low < high:
        space["batch_size"] = SearchDimension(low=low, high=high, log=True)
    if len(specs["optimizer"].choices) > 1:
        space["optimizer"] = SearchDimension(choices=list(specs["optimizer"].choices))
    jitter = specs["augmentations.color_jitter"]
    if jitter.min < min(jitter.max, 0.4):
        space["augmentations.color_jitter"] = SearchDimension(low=jitter.min, high=min(jitter.max, 0.4))
    space["augmentations.horizontal_flip"] = SearchDimension(choices=[True, False])
    crop = specs["augmentations.random_resized_crop"]
    if max(crop.min, 0.5) < crop.max:
        space["augmentations.random_resized_crop"] = SearchDimension(low=max(crop.min, 0.5), high=crop.max)
    return space


def check_space(manifest: ArchitectureManifest, space: Mapping[str, SearchDimension]) -> None:
    """Every dimension names a hyperparameter of the architecture and stays within its bounds or choices."""
    specs = parameter_specs(manifest)
    if not space:
        raise HyperparameterError("space", "is empty: name at least one hyperparameter to search")
    for name, dimension in space.items():
        spec = specs.get(name)
        if spec is None:
            raise HyperparameterError(name, f"is not a hyperparameter of {manifest.id}; known: {', '.join(specs)}")
        if dimension.choices is not None:
            for choice in dimension.choices:
                spec.validate_value(name, choice)
        elif spec.type not in ("float", "int"):
            raise HyperparameterError(name, "takes choices, not a range: give {\"choices\": [...]}")
        else:
            for end in (dimension.low or 0.0, dimension.high or 0.0):
                spec.validate_value(name, int(end) if spec.type == "int" else float(end))


def is_integer(manifest: ArchitectureManifest, name: str) -> bool:
    return parameter_specs(manifest)[name].type == "int"


def nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """`{"a.b": 1}` -> `{"a": {"b": 1}}`: dotted names as hyperparameter overrides in the manifest's shape."""
    tree: dict[str, Any] = {}
    for name, value in values.items():
        target = tree
        *parents, leaf = name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return tree
