"""Class balancing: per-image sampling weights and per-label loss weights from the training samples' labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from modelyard.training.data import TrainingSample


def label_frequencies(samples: Sequence[TrainingSample], num_labels: int) -> list[int]:
    """Per label index: the training images that use it."""
    counts = Counter(label for sample in samples for label in set(sample.labels))
    return [counts.get(index, 0) for index in range(num_labels)]


def sampling_weights(samples: Sequence[TrainingSample], num_labels: int) -> list[float]:
    """Each image's chance to be drawn, proportional to 1 / (images of its rarest label): every label then
    shows up about equally often. An image without labels weighs as much as the commonest label's images."""
    frequencies = label_frequencies(samples, num_labels)
    commonest = max(frequencies, default=1) or 1
    return [1.0 / min((frequencies[label] for label in sample.labels), default=commonest) for sample in samples]


def loss_weights(samples: Sequence[TrainingSample], num_labels: int) -> list[float]:
    """Per label: its inverse frequency, scaled so the weights of the labels in use average 1 (unused: 1)."""
    frequencies = label_frequencies(samples, num_labels)
    used = [count for count in frequencies if count]
    if not used:
        return [1.0] * num_labels
    inverse = [1.0 / count if count else 0.0 for count in frequencies]
    scale = len(used) / sum(inverse)
    return [value * scale if value else 1.0 for value in inverse]
