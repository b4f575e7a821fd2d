"""Run the model in this folder on images and print JSON predictions, one object per image.

Usage: python predict.py IMAGE [IMAGE ...] [--threshold 0.5] [--device CPU]

Needs only openvino, numpy and pillow (see requirements.txt). The label map and the preprocessing come from
config.json next to this file; the preprocessing repeats the training pipeline's exactly (EXIF orientation,
bilinear resize, letterbox padding right and bottom, mean/std, the last inside the compiled model as the server
does it), so results match the server's predictions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import openvino as ov
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}
MASK_THRESHOLD = 0.5


def load_config() -> dict:
    return json.loads((HERE / "config.json").read_text(encoding="utf-8"))


def scales(width: int, height: int, config: dict) -> tuple[float, float]:
    target_height, target_width = config["input"]["size"]
    scale_x, scale_y = target_width / width, target_height / height
    if config["input"]["resize"] == "letterbox":
        scale_x = scale_y = min(scale_x, scale_y)
    return scale_x, scale_y


def read_resized(path: Path, config: dict) -> tuple[np.ndarray, int, int]:
    """uint8 (input height, input width, 3), original width and height."""
    with Image.open(path) as image:
        rotated = image.getexif().get(0x0112) in TRANSPOSING_ORIENTATIONS
        width, height = (image.size[1], image.size[0]) if rotated else image.size
        scale_x, scale_y = scales(width, height, config)
        size = (max(1, round(width * scale_x)), max(1, round(height * scale_y)))
        image.draft("RGB", (size[1], size[0]) if rotated else size)  # cheaper JPEG decoding, as in training
        resized = ImageOps.exif_transpose(image).convert("RGB").resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, dtype=np.uint8)
    target_height, target_width = config["input"]["size"]
    canvas = np.zeros((target_height, target_width, 3), dtype=np.uint8)
    rows, columns = min(pixels.shape[0], target_height), min(pixels.shape[1], target_width)
    canvas[:rows, :columns] = pixels[:rows, :columns]
    return canvas, width, height


def compile_model(config: dict, device: str) -> ov.CompiledModel:
    """The graph taking uint8 RGB pixels (1, height, width, 3): x / 255, then (x - mean) / std to normalise, and the
    change to NCHW run inside it, the same steps as modelyard's server, so both compute the same numbers."""
    from openvino.preprocess import PrePostProcessor

    core = ov.Core()
    processor = PrePostProcessor(core.read_model(str(HERE / config["model_file"])))
    graph_input = processor.input(0)
    graph_input.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    graph_input.model().set_layout(ov.Layout("NCHW"))
    steps = graph_input.preprocess().convert_element_type(ov.Type.f32).scale(255.0)
    if config["input_scaling"] == "normalize":
        steps.mean(list(config["input"]["mean"])).scale(list(config["input"]["std"]))
    # f32 keeps results equal to the server's; drop the hint to let the CPU use bf16 where it is faster.
    return core.compile_model(processor.build(), device, {"INFERENCE_PRECISION_HINT": "f32"})


def label(config: dict, index: int, score: float) -> dict:
    entry = config["labels"][index]
    return {"index": entry["index"], "id": entry["id"], "name": entry["name"], "score": float(score)}


def classify(scores: np.ndarray, config: dict, threshold: float) -> dict:
    if config["classification_outputs"] == "logits":
        scores = 1.0 / (1.0 + np.exp(-scores.astype(np.float64)))
    if config["task"] == "multilabel_classification":
        chosen = [int(index) for index in np.argsort(-scores) if scores[index] >= threshold]
    else:
        chosen = [int(np.argmax(scores))]
    return {"labels": [label(config, index, scores[index]) for index in chosen], "scores": [float(s) for s in scores]}


def detect(outputs: list[np.ndarray], config: dict, threshold: float, width: int, height: int) -> dict:
    boxes, labels = outputs[0][0], outputs[1][0].astype(np.int64)
    keep = (boxes[:, 4] >= threshold) & (labels >= 0) & (labels < len(config["labels"]))
    scale_x, scale_y = scales(width, height, config)
    scale = np.array([scale_x, scale_y, scale_x, scale_y], dtype=np.float32)
    limits = np.array([width, height, width, height], dtype=np.float32)
    original = np.clip(boxes[keep, :4] / scale, 0, limits)
    masks = outputs[2][0][keep] if len(outputs) > 2 else None
    objects = []
    for position, (box, index, score) in enumerate(zip(original, labels[keep], boxes[keep, 4], strict=True)):
        x_min, y_min, x_max, y_max = (float(value) for value in box)
        found = {"label": label(config, int(index), score), "box": [x_min, y_min, x_max - x_min, y_max - y_min]}
        if masks is not None:
            found["mask_rle"] = mask_rle(masks[position], box, width, height)
        objects.append(found)
    return {"objects": objects}


def mask_rle(box_mask: np.ndarray, box: np.ndarray, width: int, height: int) -> dict:
    """The box mask pasted into the image, as COCO uncompressed RLE (column-major run lengths, zeros first)."""
    left, top = int(np.floor(box[0])), int(np.floor(box[1]))
    right, bottom = max(left + 1, int(np.ceil(box[2]))), max(top + 1, int(np.ceil(box[3])))
    resized = Image.fromarray(box_mask.astype(np.float32), "F").resize(
        (right - left, bottom - top), Image.Resampling.BILINEAR
    )
    full = np.zeros((height, width), dtype=np.uint8)
    full[top:bottom, left:right] = (np.asarray(resized) >= MASK_THRESHOLD)[: height - top, : width - left]
    flat = full.flatten(order="F")
    boundaries = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    counts = np.diff(np.concatenate([[0], boundaries, [flat.size]])).tolist()
    if flat.size and flat[0] == 1:
        counts = [0, *counts]  # RLE starts with a run of zeros, even an empty one
    return {"size": [height, width], "counts": counts}


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--threshold", type=float, default=None, help="confidence threshold (default: config)")
    parser.add_argument("--device", default="CPU")
    options = parser.parse_args(arguments)
    config = load_config()
    threshold = config["confidence_threshold"] if options.threshold is None else options.threshold
    compiled = compile_model(config, options.device)
    request = compiled.create_infer_request()
    for path in options.images:
        pixels, width, height = read_resized(path, config)
        results = request.infer({0: pixels[np.newaxis]})
        outputs = [np.array(results[output]) for output in compiled.outputs]
        if config["classification_outputs"] is not None:
            prediction = classify(outputs[0][0], config, threshold)
        else:
            prediction = detect(outputs, config, threshold, width, height)
        print(json.dumps({"image": str(path), "task": config["task"], "width": width, "height": height, **prediction}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
