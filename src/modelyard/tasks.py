"""The four task types a project can have."""

from __future__ import annotations

from enum import StrEnum


class TaskType(StrEnum):
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    MULTILABEL_CLASSIFICATION = "multilabel_classification"
    DETECTION = "detection"
    INSTANCE_SEGMENTATION = "instance_segmentation"
