"""Auto-configuration: a dataset's analysis, this machine's measured speed and a time budget -> a training
configuration, each choice with its reason. Pure and deterministic: no clock, no randomness, no I/O.

The budget covers the training itself (decoding the images, every epoch and its validation); the variants
and their evaluations follow it. The plan:

1. Input size: large enough for the images' detail (classification: their median side; detection: the
   median object at 24 pixels or more), within the goal's range and the manifest's allowed sizes.
2. Batch size and learning rate: per device and task, the rate scaled linearly with the batch from the
   manifest's default (and the batch kept to at most a quarter of the training images).
3. Epochs: enough optimiser steps for the start (fewer from pretrained weights than from scratch), capped
   by what the budget affords on this machine; when even that is short, smaller input sizes are tried first.
4. Architecture: among those whose planned run fits, `fast` takes the quickest, `accurate` the best
   reference metric, `balanced` the best reference metric among those that get their full epochs.
5. Augmentations and class balancing from the images' size and the label counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.datasets.analysis import DatasetAnalysis

Goal = Literal["fast", "balanced", "accurate"]

# Classification input sides per goal (floor, cap); the images' own side picks within.
CLASSIFICATION_SIDES: dict[Goal, tuple[int, int]] = {"fast": (64, 128), "balanced": (96, 160), "accurate": (128, 224)}
DETECTION_OBJECT_PIXELS = 24
"""The median object's side, in input pixels, that a detector needs to see it well."""
TARGET_STEPS = {"pretrained": 600, "scratch": 1500}
"""Optimiser steps a run aims for; epochs follow from the steps per epoch."""
EPOCH_RANGE = {"pretrained": (4, 40), "scratch": (8, 60)}
PLANNING_SHARE = 0.9
"""Share of the budget planned for; the rest absorbs the spread of the measured speed."""
SMALL_IMAGE_SIDE = 64
VALIDATION_COST = 1 / 3
"""A validation image costs about a third of a training image (forward pass only)."""
DECODE_SECONDS_PER_MEGAPIXEL = 0.02
DECODE_SECONDS_PER_IMAGE = 0.002
STARTUP_SECONDS = 5.0
"""Building the network and starting the loaders, before the first step."""
EPOCH_OVERHEAD_SECONDS = 0.5
"""Per epoch beyond the images: loaders, the validation metric, the epoch's records."""


@dataclass(frozen=True)
class MachineProfile:
    """What decides training speed on this machine: CPUs the process may use, torch threads, device."""

    cpus: int
    torch_threads: int
    device: str

    @property
    def key(self) -> str:
        return f"{self.device}|cpus={self.cpus}|threads={self.torch_threads}"


@dataclass(frozen=True)
class SpeedModel:
    """Seconds per training image at input side s: `per_image + per_pixel * s * s`."""

    per_image: float
    per_pixel: float
    measured: bool
    """False: estimated from the manifest's GFLOPs, no timed run on this machine yet."""

    def seconds_per_image(self, side: int) -> float:
        return self.per_image + self.per_pixel * side * side

    @classmethod
    def from_points(cls, points: Mapping[int, float], measured: bool = True) -> SpeedModel:
        """Fit through timed runs at one or two sides ({side: seconds per image})."""
        sides = sorted(points)
        if len(sides) == 1:
            return cls(0.0, points[sides[0]] / (sides[0] * sides[0]), measured)
        small, large = sides[0], sides[-1]
        per_pixel = max(0.0, (points[large] - points[small]) / (large * large - small * small))
        per_image = max(0.0, points[small] - per_pixel * small * small)
        return cls(per_image, per_pixel, measured)


@dataclass(frozen=True)
class Candidate:
    manifest: ArchitectureManifest
    speed: SpeedModel
    pretrained_available: bool


@dataclass(frozen=True)
class CandidatePlan:
    """What one architecture would train with under the budget, and how good it is known to be."""

    architecture: str
    input_size: int
    preferred_size: int
    """The input size the data asks for; `input_size` is smaller where that would not fit the budget."""
    epochs: int
    target_epochs: int
    predicted_seconds: float
    reference_metric: str | None
    reference_value: float | None
    speed_measured: bool
    base: str
    budget_seconds: float

    @property
    def full(self) -> bool:
        return self.epochs >= self.target_epochs


@dataclass(frozen=True)
class AutoConfiguration:
    architecture: str
    base: str
    hyperparameters: dict[str, Any]
    """Overrides in the manifest's shape (the explicit ones included), ready for `resolve_hyperparameters`."""
    reasons: dict[str, str]
    """Dotted name (and `architecture`, `base`) -> why."""
    predicted_seconds: float
    budget_seconds: float
    goal: str
    machine: str
    candidates: list[CandidatePlan] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def log_lines(self) -> list[str]:
        lines = [f"auto-configuration ({self.goal}, budget {self.budget_seconds:.0f} s on {self.machine}): "
                 f"{self.architecture}, predicted {self.predicted_seconds:.0f} s of training"]  # fmt: skip
        values = _flatten(self.hyperparameters) | {"architecture": self.architecture, "base": self.base}
        lines += [f"  {name} = {values.get(name)!r}: {reason}" for name, reason in self.reasons.items()]
        return lines


class AutoConfigurationError(ValueError):
    """No architecture can train the task."""

    code = "auto_configuration_impossible"


def auto_configure(
    analysis: DatasetAnalysis,
    candidates: Sequence[Candidate],
    profile: MachineProfile,
    budget_seconds: float,
    goal: Goal = "balanced",
    explicit: Mapping[str, Any] | None = None,
    architecture: str | None = None,
    base: str | None = None,
) -> AutoConfiguration:
    """The configuration for `analysis` on this machine within `budget_seconds`. `explicit` hyperparameters
    (manifest shape), `architecture` and `base` are kept as given; everything else is chosen."""
    explicit = dict(explicit or {})
    usable = sorted(
        (c for c in candidates if c.manifest.supports(analysis.task) and architecture in (None, c.manifest.id)),
        key=lambda c: c.manifest.id,
    )
    if not usable:
        raise AutoConfigurationError(f"no architecture {architecture or ''} trains {analysis.task}".replace("  ", " "))
    plans = [_plan(analysis, c, profile, budget_seconds, goal, explicit, base) for c in usable]
    chosen, why = _choose(plans, goal, architecture)
    candidate = next(c for c in usable if c.manifest.id == chosen.architecture)
    others = sorted((plan for plan in plans if plan is not chosen), key=lambda plan: plan.architecture)
    return _configuration(analysis, candidate, chosen, why, profile, budget_seconds, goal, explicit, base, others)


def _plan(
    analysis: DatasetAnalysis,
    candidate: Candidate,
    profile: MachineProfile,
    budget: float,
    goal: Goal,
    explicit: Mapping[str, Any],
    base: str | None,
) -> CandidatePlan:
    manifest = candidate.manifest
    start = base or ("pretrained" if candidate.pretrained_available else "scratch")
    start = "scratch" if start == "scratch" else "pretrained"
    batch = explicit.get("batch_size") or _batch_size(analysis, profile, manifest)
    target = explicit.get("epochs") or _target_epochs(analysis, batch, start)
    sizes = _allowed_sizes(manifest)
    preferred = explicit.get("input_size") or _preferred_size(analysis, sizes, goal)
    tried = [preferred] if "input_size" in explicit else [s for s in sorted(sizes, reverse=True) if s <= preferred]
    side, epochs = tried[0], 1
    for side in tried:
        epochs = _affordable_epochs(analysis, candidate.speed, side, budget)
        if epochs >= target:
            break
    epochs = max(1, min(target, epochs)) if "epochs" not in explicit else target
    name, value = _reference(manifest)
    return CandidatePlan(
        architecture=manifest.id,
        input_size=side,
        preferred_size=preferred,
        epochs=epochs,
        target_epochs=target,
        predicted_seconds=round(_predicted_seconds(analysis, candidate.speed, side, epochs), 1),
        reference_metric=name,
        reference_value=value,
        speed_measured=candidate.speed.measured,
        base=start,
        budget_seconds=budget,
    )


def _choose(plans: list[CandidatePlan], goal: Goal, architecture: str | None) -> tuple[CandidatePlan, str]:
    if architecture is not None:
        return plans[0], "given explicitly"
    full = [plan for plan in plans if plan.full]

    def quality(plan: CandidatePlan) -> tuple[float, float]:
        return plan.reference_value or 0.0, -plan.predicted_seconds

    if goal == "fast":
        chosen = min(plans, key=lambda plan: (plan.predicted_seconds / max(plan.epochs, 1), plan.architecture))
        return chosen, "goal fast: the quickest per epoch on this machine"
    if goal == "accurate":
        pool = full or [plan for plan in plans if plan.predicted_seconds <= plan.budget_seconds] or plans
        chosen = max(pool, key=quality)
        return chosen, "goal accurate: the best reference metric " + (
            "among those that get their full epochs in the budget" if full else "(none gets its full epochs)"
        )
    if full:
        chosen = max(full, key=quality)
        return chosen, "goal balanced: the best reference metric among those that get their full epochs in the budget"
    within = [plan for plan in plans if plan.predicted_seconds <= plan.budget_seconds]
    if not within:
        chosen = min(plans, key=lambda plan: (plan.predicted_seconds, plan.architecture))
        return chosen, "goal balanced: not even one epoch fits the budget; this one is the quickest"
    chosen = max(within, key=lambda plan: (plan.epochs / plan.target_epochs, plan.reference_value or 0.0))
    return chosen, "goal balanced: none gets its full epochs in the budget; this one gets the largest share"


def _configuration(
    analysis: DatasetAnalysis,
    candidate: Candidate,
    plan: CandidatePlan,
    why_architecture: str,
    profile: MachineProfile,
    budget: float,
    goal: Goal,
    explicit: Mapping[str, Any],
    base: str | None,
    others: list[CandidatePlan],
) -> AutoConfiguration:
    manifest = candidate.manifest
    defaults = manifest.hyperparameters
    chosen: dict[str, Any] = {}
    reasons: dict[str, str] = {"architecture": f"{why_architecture} ({_describe_plan(plan)})"}
    reasons["base"] = _why_base(candidate, base)
    chosen["input_size"] = plan.input_size
    reasons["input_size"] = _why_size(analysis, plan, goal)
    chosen["epochs"] = plan.epochs
    reasons["epochs"] = (
        f"{plan.target_epochs} aimed for (about {TARGET_STEPS[plan.base]} steps from {plan.base}); "
        + ("all fit" if plan.full else f"the budget affords {plan.epochs}")
        + f", predicted {plan.predicted_seconds:.0f} s of {budget:.0f} s"
    )
    batch = _batch_size(analysis, profile, manifest)
    chosen["batch_size"] = batch
    reasons["batch_size"] = (
        f"{'GPU' if profile.device.startswith('cuda') else 'CPU'} default for {manifest.family}, "
        f"at most a quarter of the {analysis.subset('training')} training images"
    )
    rate = defaults.learning_rate.default * batch / defaults.batch_size.default
    chosen["learning_rate"] = _clamp(round(rate, 6), defaults.learning_rate.min, defaults.learning_rate.max)
    reasons["learning_rate"] = (
        f"the manifest's {defaults.learning_rate.default:g} at batch {defaults.batch_size.default}, scaled to batch "
        f"{batch}"
    )
    chosen["warmup_epochs"] = 1 if plan.epochs >= 5 else 0
    reasons["warmup_epochs"] = "one epoch of warm-up" if plan.epochs >= 5 else "too few epochs for a warm-up"
    chosen["early_stopping_patience"] = max(5, plan.epochs // 3)
    reasons["early_stopping_patience"] = "a third of the epochs (at least 5): stop when validation stalls"
    augmentations, augmentation_reasons = _augmentations(analysis, manifest, plan)
    chosen["augmentations"] = augmentations
    reasons.update(augmentation_reasons)
    balancing, why_balancing = _class_balancing(analysis, manifest)
    if balancing is not None:
        chosen["class_balancing"] = balancing
        reasons["class_balancing"] = why_balancing
    merged, reasons = _apply_explicit(chosen, reasons, explicit)
    return AutoConfiguration(
        architecture=manifest.id,
        base=plan.base,
        hyperparameters=merged,
        reasons=reasons,
        predicted_seconds=plan.predicted_seconds,
        budget_seconds=budget,
        goal=goal,
        machine=profile.key,
        candidates=[plan, *others],
    )


def _apply_explicit(
    chosen: dict[str, Any], reasons: dict[str, str], explicit: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    merged = dict(chosen)
    for name, value in explicit.items():
        if isinstance(value, Mapping):
            merged[name] = {**merged.get(name, {}), **value}
            for inner in value:
                reasons[f"{name}.{inner}"] = "given explicitly"
        else:
            merged[name] = value
            reasons[name] = "given explicitly"
    return merged, reasons


def _allowed_sizes(manifest: ArchitectureManifest) -> list[int]:
    spec = manifest.hyperparameters.input_size
    return sorted(spec.choices) if spec is not None else [manifest.input.size[0]]


def _preferred_size(analysis: DatasetAnalysis, sizes: list[int], goal: Goal) -> int:
    if analysis.task.endswith("classification"):
        floor, cap = CLASSIFICATION_SIDES[goal]
        wanted = min(max(analysis.smallest_side, floor), cap)
    else:
        relative = analysis.object_sizes.median_relative_side if analysis.object_sizes else 0.3
        wanted = DETECTION_OBJECT_PIXELS / max(relative, 1e-3)
        if analysis.object_sizes and analysis.object_sizes.small > analysis.object_sizes.large:
            wanted = max(wanted, sizes[-1])
        if goal == "accurate":
            wanted = max(wanted, sizes[len(sizes) // 2])
    return next((size for size in sizes if size >= wanted), sizes[-1])


def _why_size(analysis: DatasetAnalysis, plan: CandidatePlan, goal: Goal) -> str:
    preferred = plan.preferred_size
    if analysis.task.endswith("classification"):
        floor, cap = CLASSIFICATION_SIDES[goal]
        reason = f"images' median side {analysis.smallest_side:g} px, kept within {floor}-{cap} px for goal {goal}"
    else:
        sizes = analysis.object_sizes
        median = sizes.median_relative_side if sizes else 0.3
        reason = (f"the median object is {median:.2f} of the image's side: {DETECTION_OBJECT_PIXELS} px or more of it "
                  "needs this input")  # fmt: skip
        if sizes and sizes.small > sizes.large:
            reason += f"; small objects dominate ({sizes.small} small, {sizes.large} large): the largest size"
    if plan.input_size < preferred:
        reason += f"; {preferred} px would not fit the budget, so lowered to {plan.input_size} px"
    return reason


def _batch_size(analysis: DatasetAnalysis, profile: MachineProfile, manifest: ArchitectureManifest) -> int:
    gpu = profile.device.startswith("cuda")
    preferred = (64 if gpu else 32) if manifest.family == "classification" else (16 if gpu else 8)
    quarter = max(2, analysis.subset("training") // 4)
    spec = manifest.hyperparameters.batch_size
    return int(_clamp(min(preferred, quarter), max(spec.min, 2), spec.max))


def _target_epochs(analysis: DatasetAnalysis, batch: int, base: str) -> int:
    steps_per_epoch = max(1, analysis.subset("training") // batch)
    low, high = EPOCH_RANGE[base]
    return int(_clamp(math.ceil(TARGET_STEPS[base] / steps_per_epoch), low, high))


def _preparation_seconds(analysis: DatasetAnalysis) -> float:
    megapixels = analysis.image_width.mean * analysis.image_height.mean / 1e6
    return STARTUP_SECONDS + analysis.items * (DECODE_SECONDS_PER_IMAGE + DECODE_SECONDS_PER_MEGAPIXEL * megapixels)


def _epoch_seconds(analysis: DatasetAnalysis, speed: SpeedModel, side: int) -> float:
    per_image = speed.seconds_per_image(side)
    images = analysis.subset("training") + VALIDATION_COST * analysis.subset("validation")
    return EPOCH_OVERHEAD_SECONDS + per_image * images


def _affordable_epochs(analysis: DatasetAnalysis, speed: SpeedModel, side: int, budget: float) -> int:
    left = budget * PLANNING_SHARE - _preparation_seconds(analysis)
    return max(0, int(left / max(_epoch_seconds(analysis, speed, side), 1e-9)))


def _predicted_seconds(analysis: DatasetAnalysis, speed: SpeedModel, side: int, epochs: int) -> float:
    return _preparation_seconds(analysis) + epochs * _epoch_seconds(analysis, speed, side)


def _reference(manifest: ArchitectureManifest) -> tuple[str | None, float | None]:
    metrics = manifest.stats.reference_metrics
    name = next(iter(metrics), None)
    return name, (metrics[name] if name is not None else None)


def _describe_plan(plan: CandidatePlan) -> str:
    reference = f"{plan.reference_metric} {plan.reference_value:g}" if plan.reference_metric else "no reference metric"
    speed = "measured" if plan.speed_measured else "estimated"
    return f"{reference}; {plan.epochs} epochs at {plan.input_size} px, {plan.predicted_seconds:.0f} s {speed}"


def _why_base(candidate: Candidate, base: str | None) -> str:
    if base is not None:
        return "given explicitly"
    if candidate.pretrained_available:
        return "published pretrained weights are available: fine-tuning needs fewer steps"
    if candidate.manifest.pretrained_weights is None:
        return "the architecture has no published weights"
    return "its pretrained weights are not in the cache and could not be fetched (`modelyard weights import`)"


def _augmentations(
    analysis: DatasetAnalysis, manifest: ArchitectureManifest, plan: CandidatePlan
) -> tuple[dict[str, Any], dict[str, str]]:
    small = analysis.smallest_side <= SMALL_IMAGE_SIDE
    classification = manifest.family == "classification"
    short = plan.epochs < 10
    values: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    if small and classification:
        values["horizontal_flip"] = False
        reasons["augmentations.horizontal_flip"] = (
            f"images of {SMALL_IMAGE_SIDE} px or less are often symbols (digits, characters, icons) whose mirror "
            "image means something else"
        )
    else:
        values["horizontal_flip"] = True
        reasons["augmentations.horizontal_flip"] = "mirroring keeps the meaning of natural images and scenes"
    values["color_jitter"] = 0.0 if small else (0.1 if short else 0.2)
    reasons["augmentations.color_jitter"] = (
        "small images carry little colour to vary" if small else ("mild: few epochs" if short else "moderate")
    )
    if classification:
        values["random_resized_crop"] = 0.85 if small or short else 0.6
        reasons["augmentations.random_resized_crop"] = (
            "gentle crops: small images lose their subject to strong ones" if small
            else ("gentle crops: few epochs" if short else "crops down to 60 % of the image")
        )  # fmt: skip
    else:
        values["random_resized_crop"] = 1.0
        reasons["augmentations.random_resized_crop"] = "no crops: every object stays whole in its image"
    spec = manifest.hyperparameters.augmentations
    values["color_jitter"] = _clamp(values["color_jitter"], spec.color_jitter.min, spec.color_jitter.max)
    crop = spec.random_resized_crop
    values["random_resized_crop"] = _clamp(values["random_resized_crop"], crop.min, crop.max)
    return values, reasons


def _class_balancing(analysis: DatasetAnalysis, manifest: ArchitectureManifest) -> tuple[str | None, str]:
    spec = manifest.hyperparameters.class_balancing
    if spec is None:
        return None, ""
    ratio = f"most / least common label {analysis.imbalance_ratio:g}"
    if not analysis.imbalanced:
        return "none", f"{ratio}: balanced enough"
    preferred = "loss" if manifest.family == "classification" else "sampling"
    if preferred not in spec.choices:
        preferred = next((choice for choice in spec.choices if choice != "none"), "none")
    how = {"loss": "weigh each label's loss by its rarity", "sampling": "draw images of rare labels more often"}
    return preferred, f"{ratio}: imbalanced, so {how.get(preferred, 'none available')}"


def _clamp(value: float, low: float, high: float) -> Any:
    return min(max(value, low), high)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
