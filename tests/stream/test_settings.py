"""Stream settings on the predictor itself: the region of interest and the label filter."""

from __future__ import annotations

import dataclasses

import numpy as np

from modelyard.export import ExportedVariant
from modelyard.inference import Predictor
from modelyard.stream.frames import Frame
from modelyard.stream.predicting import predict_frame
from modelyard.stream.schemas import Region, StreamSettings
from tests.stream.factories import shapes_frame


def _frame(pixels: np.ndarray) -> Frame:
    return Frame(0, 0.0, "frame-00000000", image=pixels)


def test_a_region_of_interest_predicts_the_crop_and_answers_in_frame_pixels(detector_fp32: ExportedVariant) -> None:
    predictor = Predictor.open(detector_fp32.folder, confidence_threshold=0.05)
    pixels = shapes_frame(3, 200, 150)
    region = Region(x=30, y=20, width=120, height=100)

    found = predict_frame(predictor, _frame(pixels), StreamSettings(region=region))

    crop = predictor.predict(np.ascontiguousarray(pixels[20:120, 30:150]))
    assert (found.width, found.height) == (200, 150) and len(crop.objects) > 0
    assert [item.label.index for item in found.objects] == [item.label.index for item in crop.objects]
    for shifted, inside in zip(found.objects, crop.objects, strict=True):
        assert np.allclose(shifted.box, (inside.box[0] + 30, inside.box[1] + 20, *inside.box[2:]), atol=1e-4)
        assert shifted.box[0] >= 30 and shifted.box[1] >= 20


def test_the_label_filter_keeps_only_the_named_labels(detector_fp32: ExportedVariant) -> None:
    predictor = Predictor.open(detector_fp32.folder, confidence_threshold=0.05)
    pixels = shapes_frame(5, 160, 120)
    everything = predict_frame(predictor, _frame(pixels), StreamSettings())
    names = {item.label.name for item in everything.objects}
    assert names == {"cat", "hot dog"}, "the tiny detector finds both labels at this threshold"

    only_cats = predict_frame(predictor, _frame(pixels), StreamSettings(labels=["cat"]))

    assert only_cats.objects == [item for item in everything.objects if item.label.name == "cat"]
    assert dataclasses.replace(only_cats, objects=[]) == dataclasses.replace(everything, objects=[])
