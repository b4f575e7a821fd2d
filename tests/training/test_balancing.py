"""Class balancing weights from the training samples' labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.training.balancing import label_frequencies, loss_weights, sampling_weights
from modelyard.training.data import TrainingSample


def samples(*labels: tuple[int, ...]) -> list[TrainingSample]:
    return [TrainingSample(Path(f"{index}.png"), 8, 8, item) for index, item in enumerate(labels)]


def test_sampling_draws_every_label_equally_often() -> None:
    data = samples((0,), (0,), (0,), (1,))
    weights = sampling_weights(data, 2)
    assert weights == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0])  # three images of label 0 weigh what one of 1 does


def test_sampling_weighs_an_image_by_its_rarest_label() -> None:
    data = samples((0,), (0,), (0,), (1,), (0, 1), ())
    assert label_frequencies(data, 3) == [4, 2, 0]
    assert sampling_weights(data, 3) == [0.25, 0.25, 0.25, 0.5, 0.5, 0.25]  # unlabelled: as the commonest label


def test_loss_weights_favour_the_rare_label_and_average_one() -> None:
    weights = loss_weights(samples((0,), (0,), (0,), (1,)), 3)
    assert weights == pytest.approx([0.5, 1.5, 1.0])  # label 2 is unused: weight 1
    assert loss_weights(samples(), 2) == [1.0, 1.0]
