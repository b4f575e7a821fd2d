"""A short benchmark_app equivalent for a variant (IR or ONNX, both run by OpenVINO).

Latency: batch 1, a synchronous infer loop under the LATENCY hint, nearest-rank percentiles over the loop (as the
pipeline's metrics). Throughput: an AsyncInferQueue under the THROUGHPUT hint with as many requests as the device
asks for, per batch size (batch sizes other than 1 only where the graph's batch is dynamic). Inputs are random:
speed does not depend on values.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelyard.percentiles import percentile

DEFAULT_BATCH_SIZES = (1, 4, 8)


@dataclass(frozen=True)
class SpeedReport:
    latency_p50_ms: float
    latency_p95_ms: float
    throughput_fps: float
    """Images per second at ``best_batch``."""
    best_batch: int
    device: str
    throughput_by_batch: dict[int, float]


def measure_speed(
    model_path: Path,
    device: str = "CPU",
    duration_s: float = 2.0,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    inference_precision: str | None = None,
) -> SpeedReport:
    """Spend about ``duration_s`` seconds: half on latency, half on throughput split across batch sizes.

    ``inference_precision`` None lets the device pick (as benchmark_app does); "f32" forces full precision.
    """
    import openvino as ov

    from modelyard import cpu_threads

    core = ov.Core()
    model = core.read_model(str(model_path))
    shape = model.inputs[0].get_partial_shape()
    dynamic_batch = shape[0].is_dynamic
    item_shape = [dimension.get_length() for dimension in list(shape)[1:]]
    extra = cpu_threads.openvino_properties()
    if inference_precision is not None:
        extra["INFERENCE_PRECISION_HINT"] = inference_precision
    latencies = _latencies(
        core.compile_model(model, device, {"PERFORMANCE_HINT": "LATENCY", **extra}), item_shape, duration_s / 2
    )
    throughput_model = core.compile_model(model, device, {"PERFORMANCE_HINT": "THROUGHPUT", **extra})
    sizes = [size for size in batch_sizes if dynamic_batch or size == 1] or [1]
    by_batch = {size: _throughput(throughput_model, [size, *item_shape], duration_s / 2 / len(sizes)) for size in sizes}
    best = max(by_batch, key=lambda size: by_batch[size])
    return SpeedReport(
        latency_p50_ms=_observed(percentile(latencies, 50)),
        latency_p95_ms=_observed(percentile(latencies, 95)),
        throughput_fps=by_batch[best],
        best_batch=best,
        device=device,
        throughput_by_batch=by_batch,
    )


def _observed(value: float | None) -> float:
    assert value is not None  # _latencies measures at least three inferences
    return float(value)


def _random_input(shape: list[int]) -> np.ndarray:
    return np.random.default_rng(0).random(shape, dtype=np.float32)


def _latencies(compiled: Any, item_shape: list[int], budget_s: float) -> list[float]:
    request = compiled.create_infer_request()
    batch = _random_input([1, *item_shape])
    request.infer({0: batch})  # the first inference pays for lazy initialisation; keep it out of the figures
    latencies: list[float] = []
    deadline = time.perf_counter() + budget_s
    while time.perf_counter() < deadline or len(latencies) < 3:
        started = time.perf_counter()
        request.infer({0: batch})
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _throughput(compiled: Any, shape: list[int], budget_s: float) -> float:
    import openvino as ov

    requests = max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    infer_queue = ov.AsyncInferQueue(compiled, requests)
    batch = _random_input(shape)
    for _ in range(requests):  # warm every request once
        infer_queue.start_async({0: batch})
    infer_queue.wait_all()
    started, submitted = time.perf_counter(), 0
    deadline = started + budget_s
    while time.perf_counter() < deadline or submitted < requests:
        infer_queue.start_async({0: batch})
        submitted += 1
    infer_queue.wait_all()
    return submitted * shape[0] / (time.perf_counter() - started)
