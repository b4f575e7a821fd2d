"""Check an exported variant against the PyTorch checkpoint it came from, on the same prepared inputs.

Classification compares probabilities (max absolute difference). Detection matches every reference box scoring at
least ``score_threshold`` with a variant box of the same label and IoU >= 0.9 (and the other way round), and
compares the scores of matched pairs; instance segmentation also compares the 28x28 mask probabilities of the
pairs whose boxes agree to IoU >= 0.99 (a looser match samples the mask head at visibly different places).
Tolerances depend on the precision:

- fp32: only operator-implementation noise is expected (1e-4 on probabilities, 1e-3 on scores, 95 % matched,
  1e-2 on mask probabilities: box corners differing by float noise move RoIAlign's sampling points, which
  measured up to 3e-3 on a Mask R-CNN after a training step);
- fp16: weights are rounded to 11 significant bits (2e-2, 5e-2, 90 %, 0.1);
- int8: weights and activations are quantized (0.2, 0.3, 0.5, 60 %); a check, not an accuracy measure: use
  ``quantize_with_accuracy_control`` with real validation data for that.

The variant runs with OpenVINO's ``f32`` inference precision, so the check judges the exported graph and not the
CPU plugin's optional bf16 execution.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modelyard.variant.metadata import Precision, read_variant_metadata

IOU_MATCH = 0.9
MASK_IOU_MATCH = 0.99
DEFAULT_SCORE_THRESHOLD = 0.3
TIE_MARGIN = 1e-3
NMS_OVERLAP = 0.5


@dataclass(frozen=True)
class ParityTolerance:
    probability: float
    """Largest allowed absolute difference of a classification probability."""
    score: float
    """Largest allowed absolute difference of a matched detection's score."""
    matched_fraction: float
    """Smallest allowed fraction of detections above the score threshold found in the other output."""
    mask: float
    """Largest allowed absolute difference of a mask probability of a matched instance."""


TOLERANCES: dict[str, ParityTolerance] = {
    "fp32": ParityTolerance(1e-4, 1e-3, 0.95, 1e-2),
    "fp16": ParityTolerance(2e-2, 5e-2, 0.90, 0.1),
    "int8": ParityTolerance(0.2, 0.3, 0.60, 0.5),
}


@dataclass(frozen=True)
class ParityReport:
    precision: Precision
    task: str
    images: int
    tolerance: ParityTolerance
    max_probability_difference: float | None = None
    """Classification only."""
    matched_fraction: float | None = None
    """Detection only: the smaller of reference-in-variant and variant-in-reference."""
    max_score_difference: float | None = None
    """Detection only, over matched pairs."""
    compared_detections: int = 0
    max_mask_difference: float | None = None
    """Instance segmentation only, over matched pairs whose boxes agree to IoU >= 0.99."""
    compared_masks: int = 0

    @property
    def passed(self) -> bool:
        tolerance = self.tolerance
        if self.max_probability_difference is not None:
            return self.max_probability_difference <= tolerance.probability
        return (
            (self.matched_fraction or 0.0) >= tolerance.matched_fraction
            and (self.max_score_difference or 0.0) <= tolerance.score
            and (self.max_mask_difference or 0.0) <= tolerance.mask
        )


class ParityError(ValueError):
    """The exported variant's outputs differ from PyTorch's beyond the precision's tolerance."""

    code = "export_parity_failed"

    def __init__(self, report: ParityReport) -> None:
        super().__init__(
            f"{report.precision} variant differs from PyTorch beyond tolerance on {report.images} images: "
            f"probability difference {report.max_probability_difference}, matched fraction "
            f"{report.matched_fraction}, score difference {report.max_score_difference}, mask difference "
            f"{report.max_mask_difference} "
            f"(allowed {report.tolerance}); re-export the variant or use a higher precision"
        )
        self.report = report


def check_parity(
    checkpoint: Path,
    variant: Path,
    images: list[np.ndarray] | None = None,
    count: int = 3,
    tolerance: ParityTolerance | None = None,
    score_threshold: float = DEFAULT_SCORE_THRESHOLD,
) -> ParityReport:
    """Compare ``variant`` (folder or graph file) with ``checkpoint``; raises ``ParityError`` outside tolerance.

    ``images`` are RGB uint8 arrays; without them ``count`` seeded random images of the input size are used.
    """
    from modelyard.export.wrappers import exportable_module
    from modelyard.training.checkpoint import load_model
    from modelyard.variant.backends import OpenVINOBackend, TorchBackend
    from modelyard.variant.preprocess import prepare_image

    folder = variant if variant.is_dir() else variant.parent
    metadata = read_variant_metadata(folder)
    model_path = variant if variant.is_file() else folder / metadata.model_file
    reference = TorchBackend(exportable_module(load_model(checkpoint)).module)
    exported = OpenVINOBackend(model_path, inference_precision="f32", concurrency=1)
    images = images if images is not None else random_images(count, metadata.input_spec.size)
    batches = [prepare_image(image, metadata.input_spec, metadata.input_scaling).pixels[None] for image in images]
    pairs = [(reference.infer(batch), exported.infer(batch)) for batch in batches]
    tolerance = tolerance or TOLERANCES[metadata.precision]
    if metadata.classification_outputs is not None:
        logits = metadata.classification_outputs == "logits"
        difference = max(_probability_difference(ours[0], theirs[0], logits) for ours, theirs in pairs)
        report = ParityReport(metadata.precision, metadata.task, len(images), tolerance, difference)
    else:
        report = _detection_report(pairs, metadata.precision, metadata.task, tolerance, score_threshold)
    if not report.passed:
        raise ParityError(report)
    return report


def random_images(count: int, size: list[int], seed: int = 0) -> list[np.ndarray]:
    """Smooth random images: noise blurred by upsampling, closer to photographs than white noise."""
    from PIL import Image

    generator = np.random.default_rng(seed)
    height, width = size
    images = []
    for _ in range(count):
        coarse = generator.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
        images.append(np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BILINEAR)))
    return images


def _probability_difference(reference: np.ndarray, variant: np.ndarray, logits: bool) -> float:
    if logits:
        reference, variant = _sigmoid(reference), _sigmoid(variant)
    return float(np.max(np.abs(reference.astype(np.float64) - variant.astype(np.float64))))


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values.astype(np.float64)))


def _detection_report(
    pairs: list[tuple[list[np.ndarray], list[np.ndarray]]],
    precision: Precision,
    task: str,
    tolerance: ParityTolerance,
    score_threshold: float,
) -> ParityReport:
    matched = total = masks_compared = 0
    score_difference = mask_difference = 0.0
    for reference, variant in pairs:
        for first, second in ((reference, variant), (variant, reference)):
            found, compared, difference = match_detections(
                first[0][0], first[1][0], second[0][0], second[1][0], score_threshold
            )
            matched, total = matched + found, total + compared
            score_difference = max(score_difference, difference)
        if len(reference) > 2:
            count, difference = compare_masks(reference, variant, score_threshold)
            masks_compared, mask_difference = masks_compared + count, max(mask_difference, difference)
    fraction = matched / total if total else 1.0
    masks = len(pairs[0][0]) > 2 if pairs else False
    return ParityReport(precision, task, len(pairs), tolerance, None, fraction, score_difference, total,
                        mask_difference if masks else None, masks_compared)  # fmt: skip


def compare_masks(reference: list[np.ndarray], variant: list[np.ndarray], score_threshold: float) -> tuple[int, float]:
    """(pairs compared, largest mask-probability difference) over the reference instances above the threshold
    whose box the variant reproduces with the same label to IoU >= 0.99; outputs are (boxes, labels, masks)."""
    boxes, labels, masks = reference[0][0], reference[1][0], reference[2][0]
    candidates, candidate_labels, candidate_masks = variant[0][0], variant[1][0], variant[2][0]
    kept = np.flatnonzero(boxes[:, 4] >= score_threshold)
    if len(kept) == 0 or len(candidates) == 0:
        return 0, 0.0
    iou = box_iou(boxes[kept, :4], candidates[:, :4])
    iou[labels[kept, None] != candidate_labels[None, :]] = 0.0
    best = iou.argmax(axis=1)
    close = iou[np.arange(len(kept)), best] >= MASK_IOU_MATCH
    if not close.any():
        return 0, 0.0
    ours = masks[kept[close]].astype(np.float64)
    theirs = candidate_masks[best[close]].astype(np.float64)
    return int(close.sum()), float(np.max(np.abs(ours - theirs)))


def match_detections(
    boxes: np.ndarray, labels: np.ndarray, candidates: np.ndarray, candidate_labels: np.ndarray, score_threshold: float
) -> tuple[int, int, float]:
    """(matched, compared, largest score difference) of ``boxes`` (K, 5) above the threshold among candidates."""
    kept = boxes[:, 4] >= score_threshold
    if len(candidates):
        # Detectors keep their top-K boxes: a box scoring no higher than the other side's lowest kept box may
        # have been cut there, where near-equal scores break ties differently across runtimes. Only boxes
        # clearly above that floor are expected on the other side.
        kept &= boxes[:, 4] > candidates[:, 4].min() + TIE_MARGIN
    boxes, labels = boxes[kept], labels[kept]
    if len(boxes) == 0:
        return 0, 0, 0.0
    if len(candidates) == 0:
        return 0, len(boxes), 0.0
    iou = box_iou(boxes[:, :4], candidates[:, :4])
    iou[labels[:, None] != candidate_labels[None, :]] = 0.0
    best = iou.argmax(axis=1)
    found = iou[np.arange(len(boxes)), best] >= IOU_MATCH
    differences = np.abs(boxes[found, 4] - candidates[best[found], 4])
    # Non-maximum suppression keeps one of two overlapping boxes of (nearly) equal score, and which one
    # depends on the order of ties, which differs between runtimes. Such a box is the same detection as
    # the rival the other side kept: same label, overlap at NMS level, equal score.
    tied = (iou >= NMS_OVERLAP) & (np.abs(boxes[:, None, 4] - candidates[None, :, 4]) <= TIE_MARGIN)
    found |= tied.any(axis=1)
    return int(found.sum()), len(boxes), float(differences.max()) if differences.size else 0.0


def box_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    first, second = first.astype(np.float64), second.astype(np.float64)
    top_left = np.maximum(first[:, None, :2], second[None, :, :2])
    bottom_right = np.minimum(first[:, None, 2:], second[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)

    def area(boxes: np.ndarray) -> np.ndarray:
        areas: np.ndarray = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
        return areas

    union = area(first)[:, None] + area(second)[None, :] - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0)
