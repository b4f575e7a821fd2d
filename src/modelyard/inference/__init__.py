"""ML core: predictors over exported variants (OpenVINO IR, ONNX) and ``model.pt`` checkpoints."""

from __future__ import annotations

from modelyard.inference.batch import BatchPredictionResult, coco_results, predict_folder
from modelyard.inference.predictor import DetectedObject, LabelScore, Prediction, Predictor
from modelyard.variant.preprocess import ImageInput, ImageInputError, PreparedImage, prepare_image

__all__ = [
    "BatchPredictionResult",
    "DetectedObject",
    "ImageInput",
    "ImageInputError",
    "LabelScore",
    "Prediction",
    "Predictor",
    "PreparedImage",
    "coco_results",
    "predict_folder",
    "prepare_image",
]
