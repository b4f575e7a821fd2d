"""Inference speed: OpenVINO benchmark_app vs modelyard's predictor (preprocessing included) vs PyTorch eager.

For mobilenet_v3_small (224 px) and ssdlite320_mobilenet_v3_large, random weights, FP16 IR and INT8 IR (NNCF,
calibrated on 32 random images). Everything runs batch 1 with f32 inference precision, so the three columns run
the same arithmetic; "ratio" is predictor images/s over benchmark_app's.

    PYTHONPATH=src .venv/bin/python bench/inference.py --seconds 3
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, load_manifests
from modelyard.export import export_openvino, quantize_ir
from modelyard.export.wrappers import exportable_module
from modelyard.inference import Predictor
from modelyard.training.checkpoint import LabelEntry, load_model, save_checkpoint
from modelyard.training.config import TrainingConfig

MODELS = {"mobilenet_v3_small": "multiclass_classification", "ssdlite320_mobilenet_v3_large": "detection"}
LABELS = [LabelEntry(index, f"label-{index}", f"class {index}") for index in range(3)]


def make_checkpoint(folder: Path, architecture: str, task: str) -> Path:
    import torch

    from modelyard.training.models import create_model

    torch.manual_seed(0)
    manifest = load_manifests(SHIPPED_MANIFESTS_DIR, None)[architecture]
    model = create_model(manifest, len(LABELS), task, None).eval()
    return save_checkpoint(folder / "model.pt", model, manifest, task, LABELS, TrainingConfig(task=task))


def benchmark_app(xml: Path, seconds: float) -> tuple[float, float]:
    """(throughput images/s, median latency ms) from OpenVINO's own benchmark_app, sync batch 1."""
    tool = Path(sys.executable).parent / "benchmark_app"
    completed = subprocess.run(
        [str(tool), "-m", str(xml), "-d", "CPU", "-t", str(int(seconds)), "-api", "sync", "-b", "1",
         "-hint", "latency", "-infer_precision", "f32"],
        capture_output=True, text=True, check=True,
    )
    report = completed.stdout + completed.stderr  # benchmark_app logs its results to either, by version
    throughput_match = re.search(r"Throughput:\s+([\d.]+)\s+FPS", report)
    if throughput_match is None:
        raise RuntimeError(f"benchmark_app printed no throughput:\n{report[-2000:]}")
    throughput = float(throughput_match.group(1))
    median_match = re.search(r"Median:\s+([\d.]+)\s+(ms|us)", report)  # fast models are reported in us
    if median_match is None:
        raise RuntimeError(f"benchmark_app printed no median latency:\n{report[-2000:]}")
    median = float(median_match.group(1)) / (1000.0 if median_match.group(2) == "us" else 1.0)
    return throughput, median


def timed_loop(step: object, seconds: float) -> tuple[float, float]:
    """(calls per second, median ms) of ``step()`` over ``seconds`` after two warm-up calls."""
    step(), step()  # type: ignore[operator]
    durations: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        step()  # type: ignore[operator]
        durations.append(time.perf_counter() - started)
    return len(durations) / sum(durations), float(np.median(durations) * 1000)


def pytorch_eager(checkpoint: Path, seconds: float) -> tuple[float, float]:
    import torch

    exportable = exportable_module(load_model(checkpoint))
    with torch.inference_mode():
        return timed_loop(lambda: exportable.module(exportable.example_input), seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)  # a VGA camera frame
    calibration = [np.random.default_rng(seed).integers(0, 256, (480, 640, 3), dtype=np.uint8) for seed in range(32)]
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="modelyard-bench-"))
    try:
        for architecture, task in MODELS.items():
            checkpoint = make_checkpoint(workdir / architecture, architecture, task)
            torch_fps, torch_ms = pytorch_eager(checkpoint, options.seconds)
            fp16 = export_openvino(checkpoint, workdir / architecture / "fp16", "fp16")
            int8 = quantize_ir(fp16.model_path, calibration, workdir / architecture / "int8")
            for variant in (fp16, int8):
                app_fps, app_ms = benchmark_app(variant.model_path, options.seconds)
                predictor = Predictor.open(variant.folder, concurrency=1)
                ours_fps, ours_ms = timed_loop(partial(predictor.predict, image), options.seconds)
                rows.append((architecture, variant.metadata.precision, app_fps, app_ms, ours_fps, ours_ms,
                             ours_fps / app_fps, torch_fps, torch_ms))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("| model | variant | benchmark_app img/s | benchmark_app p50 ms | predictor img/s | predictor p50 ms "
          "| ratio | PyTorch FP32 img/s | PyTorch p50 ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| {} | {} | {:.1f} | {:.2f} | {:.1f} | {:.2f} | {:.2f} | {:.1f} | {:.2f} |".format(*row))


if __name__ == "__main__":
    main()
