"""Runtimes behind the predictor: OpenVINO (IR or ONNX read by openvino.Core) and PyTorch (model.pt).

Both take a float32 NCHW batch and return the wrapper's outputs (see ``export.wrappers``) as numpy arrays, so the
predictor decodes every runtime the same way.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_INFERENCE_PRECISION = "f32"
"""OpenVINO's CPU plugin runs FP32/FP16 graphs in bf16 on CPUs that have it, which shifts scores by ~1e-2; f32
keeps predictions equal to PyTorch and to the evaluation. Pass None to let the device choose (faster)."""


class InferenceBackend(Protocol):
    def infer(self, batch: np.ndarray) -> list[np.ndarray]: ...


class OpenVINOBackend:
    """One compiled model shared by all threads; each call borrows an infer request from a pool."""

    def __init__(
        self,
        model_path: Path,
        device: str = "CPU",
        inference_precision: str | None = DEFAULT_INFERENCE_PRECISION,
        concurrency: int = 2,
        config: dict[str, Any] | None = None,
    ) -> None:
        import openvino as ov

        properties: dict[str, Any] = dict(config or {})
        if inference_precision is not None:
            properties["INFERENCE_PRECISION_HINT"] = inference_precision
        self.compiled = ov.Core().compile_model(str(model_path), device, properties)
        self._requests: queue.Queue[Any] = queue.Queue()
        for _ in range(max(1, concurrency)):
            self._requests.put(self.compiled.create_infer_request())

    @contextmanager
    def _request(self) -> Iterator[Any]:
        request = self._requests.get()
        try:
            yield request
        finally:
            self._requests.put(request)

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        with self._request() as request:
            results = request.infer({0: batch})
            # Copy: the request's output buffers are reused by the next caller that borrows it.
            return [np.array(results[output]) for output in self.compiled.outputs]


class TorchBackend:
    """The checkpoint's module inside the export wrapper, so its outputs have the exported layout."""

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            outputs = self.module(torch.from_numpy(batch))
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        return [output.numpy() for output in outputs]
