"""Model factory: one registry of builders (torchvision, timm, transformers), one ``create_model`` for them all.

Each builder constructs the network with a head sized for the project's labels; pretrained weights are then
loaded into everything except the head (``head_prefixes``), so the same path serves ImageNet/COCO weights, a
parent revision trained on other labels, and a parent revision with the same labels (``keep_head=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from modelyard.architectures.manifest import ArchitectureManifest, TaskFamily

BuildFunction = Callable[[str, ArchitectureManifest, int, bool], nn.Module]
"""(torchvision function name, manifest, number of labels, pretrained) -> module with a fresh head."""


class ModelBuildError(ValueError):
    """The manifest names an unknown builder, or weights do not fit the architecture."""

    code = "model_build_failed"


@dataclass(frozen=True)
class RegisteredBuilder:
    function: str
    family: TaskFamily
    head_prefixes: tuple[str, ...]
    build: BuildFunction


_BUILDERS: dict[str, RegisteredBuilder] = {}


def register_builder(
    *functions: str, family: TaskFamily, head_prefixes: tuple[str, ...]
) -> Callable[[BuildFunction], BuildFunction]:
    """Register ``build`` for the given builder names, which manifests name in ``builder.function``."""

    def decorate(build: BuildFunction) -> BuildFunction:
        for function in functions:
            if function in _BUILDERS:
                raise ValueError(f"builder {function} is registered twice")
            _BUILDERS[function] = RegisteredBuilder(function, family, head_prefixes, build)
        return build

    return decorate


def registered_builders() -> dict[str, RegisteredBuilder]:
    return dict(_BUILDERS)


def get_builder(manifest: ArchitectureManifest) -> RegisteredBuilder:
    builder = _BUILDERS.get(manifest.builder.function)
    if builder is None:
        raise ModelBuildError(
            f"architecture {manifest.id} names builder {manifest.builder.function!r}, which modelyard does not "
            f"know; known builders: {', '.join(sorted(_BUILDERS))}"
        )
    if builder.family != manifest.family:
        raise ModelBuildError(f"builder {builder.function} makes {builder.family} models, not {manifest.family}")
    return builder


def create_model(
    manifest: ArchitectureManifest,
    num_labels: int,
    task: str,
    pretrained_weights: Path | None,
    keep_head: bool = False,
) -> nn.Module:
    """Build the network for ``num_labels`` labels, loading ``pretrained_weights`` (torchvision file or model.pt).

    With ``keep_head`` the head's weights are loaded too, which only makes sense when the labels are unchanged.
    """
    if not manifest.supports(task):
        raise ModelBuildError(f"architecture {manifest.id} does not support {task}; it supports {manifest.tasks}")
    if num_labels < 1:
        raise ModelBuildError("a model needs at least one label")
    builder = get_builder(manifest)
    model = builder.build(builder.function, manifest, num_labels, pretrained_weights is not None)
    if pretrained_weights is not None:
        load_body_weights(model, read_state_dict(pretrained_weights), builder.head_prefixes, keep_head=keep_head)
    else:
        speed_up_norm_statistics(model)
    return model


# Some torchvision networks (MobileNetV3, EfficientNet) keep batch-norm running statistics with momentum
# 0.01, tuned for long ImageNet runs from pretrained statistics. From random initialisation on a small
# dataset that takes hundreds of steps to forget the initial statistics, and until then evaluation-mode
# predictions are constant. PyTorch's default 0.1 catches up within an epoch.
SCRATCH_NORM_MOMENTUM = 0.1


def speed_up_norm_statistics(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.momentum is not None:
            module.momentum = max(module.momentum, SCRATCH_NORM_MOMENTUM)


def rebuild_head(model: nn.Module, manifest: ArchitectureManifest, num_labels: int, task: str) -> nn.Module:
    """A copy of ``model`` whose head is freshly initialised for ``num_labels``; every other weight is kept."""
    builder = get_builder(manifest)
    fresh = builder.build(builder.function, manifest, num_labels, uses_frozen_norms(model))
    load_body_weights(fresh, model.state_dict(), builder.head_prefixes, keep_head=False)
    return fresh


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a PyTorch or safetensors weights file (as torchvision and timm publish them) or from a
    modelyard checkpoint (its ``state_dict`` entry)."""
    if _is_safetensors(path):
        from safetensors.torch import load_file

        return dict(load_file(str(path), device="cpu"))
    # weights_only: a weights file from the internet must not be able to run code when unpickled.
    content = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(content, Mapping) and "state_dict" in content and "architecture_id" in content:
        content = content["state_dict"]
    if not isinstance(content, Mapping):
        raise ModelBuildError(f"{path} does not hold a state_dict")
    return dict(content)


def _is_safetensors(path: Path) -> bool:
    # A safetensors file opens with its JSON header's length (8 bytes, little-endian) and then the header itself;
    # PyTorch files are zip archives ("PK") or, in the legacy format, pickles (0x80).
    with path.open("rb") as stream:
        head = stream.read(9)
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < path.stat().st_size


def load_body_weights(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], head_prefixes: tuple[str, ...], keep_head: bool
) -> None:
    """Load every weight outside the head; fail loudly if anything else is missing, surplus or misshapen."""

    def is_head(key: str) -> bool:
        return key.startswith(head_prefixes)

    wanted = {key: value for key, value in state_dict.items() if keep_head or not is_head(key)}
    expected = model.state_dict()
    misshapen = [key for key, value in wanted.items() if key in expected and expected[key].shape != value.shape]
    if misshapen:
        raise ModelBuildError(f"weights do not fit this architecture; shapes differ for {misshapen[:5]}")
    result = model.load_state_dict(wanted, strict=False)
    missing = [key for key in result.missing_keys if keep_head or not is_head(key)]
    if missing or result.unexpected_keys:
        raise ModelBuildError(
            f"weights do not fit this architecture: missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}"
        )


# --- classification ---------------------------------------------------------------------------------------------


def _torchvision_classifier(
    function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool
) -> nn.Module:
    import torchvision.models

    # The same module serves multiclass (softmax) and multilabel (sigmoid): only the loss and decoding differ.
    build = getattr(torchvision.models, function)
    model: nn.Module = build(weights=None, num_classes=num_labels, **manifest.builder.kwargs)
    return model


register_builder("resnet18", "resnet34", "resnet50", family="classification", head_prefixes=("fc.",))(
    _torchvision_classifier
)
register_builder("mobilenet_v3_small", "mobilenet_v3_large", family="classification", head_prefixes=("classifier.3.",))(
    _torchvision_classifier
)
register_builder(
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", family="classification", head_prefixes=("classifier.1.",)
)(_torchvision_classifier)


def _timm_classifier(function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool) -> nn.Module:
    import timm

    # pretrained=False: timm would fetch from its hub; weights come through the manifest's verified cache instead.
    model: nn.Module = timm.create_model(function, pretrained=False, num_classes=num_labels, **manifest.builder.kwargs)
    return model


# timm names its heads per family: EfficientNet and MobileNet "classifier", ConvNeXt "head.fc".
register_builder("tf_efficientnetv2_b0", "mobilenetv4_conv_small", family="classification",
                 head_prefixes=("classifier.",))(_timm_classifier)  # fmt: skip
register_builder("convnext_nano", family="classification", head_prefixes=("head.fc.",))(_timm_classifier)


# --- detection and instance segmentation -------------------------------------------------------------------------


@register_builder("ssdlite320_mobilenet_v3_large", family="detection", head_prefixes=("head.classification_head.",))
def _build_ssdlite(function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool) -> nn.Module:
    import torchvision.models.detection as detection

    # Class 0 is the background in torchvision detectors, hence the +1.
    model: nn.Module = getattr(detection, function)(
        weights=None, weights_backbone=None, num_classes=num_labels + 1, **manifest.builder.kwargs
    )
    _configure_transform(model, manifest, resizes=False)
    return model


@register_builder(
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_resnet50_fpn",
    family="detection",
    head_prefixes=("roi_heads.box_predictor.",),
)
def _build_faster_rcnn(function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool) -> nn.Module:
    return _build_rcnn(function, manifest, num_labels, pretrained)


@register_builder(
    "maskrcnn_resnet50_fpn",
    family="instance_segmentation",
    # The mask head's first layers are label-agnostic; only its per-label output layer is replaced.
    head_prefixes=("roi_heads.box_predictor.", "roi_heads.mask_predictor.mask_fcn_logits."),
)
def _build_mask_rcnn(function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool) -> nn.Module:
    return _build_rcnn(function, manifest, num_labels, pretrained)


def _build_rcnn(function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool) -> nn.Module:
    import torchvision.models.detection as detection

    model: nn.Module = getattr(detection, function)(
        weights=None, weights_backbone=None, num_classes=num_labels + 1, **manifest.builder.kwargs
    )
    if pretrained:
        # torchvision fine-tunes R-CNNs with frozen batch-norm statistics: detection batches are too small to
        # estimate them, and the published COCO weights were saved from FrozenBatchNorm2d layers.
        _freeze_batch_norms(model.get_submodule("backbone"))
    _configure_transform(model, manifest, resizes=True)
    return model


# RT-DETR (transformers): the label-sized layers are the encoder's query-selection scores, the decoder's class
# heads and the denoising embedding of the ground-truth labels (one row per label, plus one for "no label").
@register_builder(
    "rt_detr_r18vd",
    "rt_detr_r34vd",
    family="detection",
    head_prefixes=("model.decoder.class_embed.", "model.enc_score_head.", "model.denoising_class_embed."),
)
def _build_rt_detr(function: str, manifest: ArchitectureManifest, num_labels: int, pretrained: bool) -> nn.Module:
    from modelyard.training.detr import build_rt_detr

    return build_rt_detr(function, manifest, num_labels)


def _configure_transform(model: nn.Module, manifest: ArchitectureManifest, resizes: bool) -> None:
    # The data pipeline already resized to the manifest's size; make the model's own transform agree with it
    # (normalisation from the manifest, and no second resize for the R-CNNs whose input size is free).
    transform: Any = model.transform  # torchvision ships no types for GeneralizedRCNNTransform
    transform.image_mean = list(manifest.input.mean)
    transform.image_std = list(manifest.input.std)
    if resizes:
        height, width = manifest.input.size
        transform.min_size = (min(height, width),)
        transform.max_size = max(height, width)


def _freeze_batch_norms(module: nn.Module) -> None:
    from torchvision.ops.misc import FrozenBatchNorm2d

    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            for buffer in ("weight", "bias", "running_mean", "running_var"):
                getattr(frozen, buffer).copy_(getattr(child, buffer).detach())
            setattr(module, name, frozen)
        else:
            _freeze_batch_norms(child)


def uses_frozen_norms(model: nn.Module) -> bool:
    """Whether the module was built for fine-tuning from pretrained weights (needed to rebuild it identically)."""
    from torchvision.ops.misc import FrozenBatchNorm2d

    return any(isinstance(module, FrozenBatchNorm2d) for module in model.modules())
