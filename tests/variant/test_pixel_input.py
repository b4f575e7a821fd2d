"""OpenVINO variants take uint8 pixels and scale them inside the graph: same predictions as the float input that
parity, quantization and evaluation feed the bare graph, checked with a model trained on scikit-learn's digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modelyard.architectures.manifest import InputSpec
from modelyard.export import TOLERANCES
from modelyard.inference import Predictor
from modelyard.variant import LabelEntry, VariantMetadata, prepare_image, write_variant_metadata
from modelyard.variant.backends import OpenVINOBackend

INPUT_SIZE = 16
IMAGE_SIZE = 40  # larger than the input and not a multiple of it, so every image goes through the resize
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SPEC = InputSpec(size=[INPUT_SIZE, INPUT_SIZE], mean=MEAN, std=STD)


def _digit_images(folder: Path) -> tuple[list[Path], np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    folder.mkdir(parents=True)
    paths = []
    for index, image in enumerate(digits.images):
        pixels = Image.fromarray((image / 16.0 * 255).astype(np.uint8), "L")
        path = folder / f"{index:04d}.png"
        pixels.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR).convert("RGB").save(path)
        paths.append(path)
    return paths, digits.target


def _linear_classifier_variant(folder: Path, weights: np.ndarray, bias: np.ndarray) -> Path:
    """A trained softmax classifier as an IR variant: flatten the normalised NCHW input, one matrix, softmax."""
    import openvino as ov
    import openvino.opset13 as ops

    image = ops.parameter([1, 3, INPUT_SIZE, INPUT_SIZE], ov.Type.f32, name="image")
    flat = ops.reshape(image, ops.constant(np.array([1, -1], dtype=np.int64)), special_zero=False)
    logits = ops.add(ops.matmul(flat, ops.constant(weights.astype(np.float32)), False, False),
                     ops.constant(bias.astype(np.float32)))  # fmt: skip
    model = ov.Model([ops.softmax(logits, 1)], [image], "digits")
    model.outputs[0].get_tensor().set_names({"scores"})
    folder.mkdir(parents=True)
    ov.save_model(model, folder / "model.xml", compress_to_fp16=False)
    write_variant_metadata(folder, VariantMetadata(
        format="openvino", precision="fp32", task="multiclass_classification", architecture_id="digits_linear",
        model_file="model.xml", labels=[LabelEntry(digit, f"digit-{digit}", str(digit)) for digit in range(10)],
        input=SPEC.model_dump(mode="json"),
        input_scaling="normalize", output_names=["scores"], classification_outputs="probabilities",
    ))  # fmt: skip
    return folder


def test_digits_accuracy_and_predictions_equal_the_float_input_path(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    paths, targets = _digit_images(tmp_path / "digits")
    train, test = train_test_split(np.arange(len(paths)), test_size=0.2, random_state=0, stratify=targets)
    features = np.stack([prepare_image(path, SPEC, "normalize").pixels.reshape(-1) for path in paths])
    trained = LogisticRegression(max_iter=2000).fit(features[train], targets[train])
    folder = _linear_classifier_variant(tmp_path / "variant", trained.coef_.T, trained.intercept_)

    predictor = Predictor.open(folder)
    assert predictor.backend.takes_pixels
    bare = OpenVINOBackend(folder / "model.xml")  # the float input path: training's scaling done in numpy
    in_graph = np.stack([predictor.predict(paths[index]).scores for index in test])
    in_numpy = np.stack([bare.infer(features[index].reshape(1, 3, INPUT_SIZE, INPUT_SIZE))[0][0] for index in test])

    assert np.abs(in_graph - in_numpy).max() <= TOLERANCES["fp32"].probability
    assert (in_graph.argmax(axis=1) == in_numpy.argmax(axis=1)).all()
    accuracy = (in_graph.argmax(axis=1) == targets[test]).mean()
    assert accuracy == (in_numpy.argmax(axis=1) == targets[test]).mean()
    assert accuracy == pytest.approx(trained.score(features[test], targets[test]))
    assert accuracy > 0.9  # a model that reads the pixels, so a scaling mistake could not go unnoticed
