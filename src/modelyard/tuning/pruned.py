"""The stop of a trial its study judged not worth finishing (light: the training job imports it)."""

from __future__ import annotations


class TrialPruned(Exception):
    """The study judged the trial not worth finishing after an epoch."""

    def __init__(self, epoch: int, value: float) -> None:
        super().__init__(f"pruned by the study after epoch {epoch} (metric {value:.4f})")
        self.epoch = epoch
