"""Runtimes behind the predictor: OpenVINO (IR or ONNX read by openvino.Core) and PyTorch (model.pt).

A backend takes a batch and returns the wrapper's outputs (see ``export.wrappers``) as numpy arrays, so the
predictor decodes every runtime the same way. The batch is float32 NCHW, already scaled, unless the backend
``takes_pixels``: then it is the uint8 (N, H, W, 3) RGB pixels at the input size, and the compiled model scales
them and changes their layout itself (OpenVINO's preprocessing, fused into the graph's first layers).
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from modelyard.architectures.manifest import InputSpec
from modelyard.variant.preprocess import InputScaling

DEFAULT_INFERENCE_PRECISION = "f32"
"""OpenVINO's CPU plugin runs FP32/FP16 graphs in bf16 on CPUs that have it, which shifts scores by ~1e-2; f32
keeps predictions equal to PyTorch and to the evaluation. Pass None to let the device choose (faster)."""


class InferenceBackend(Protocol):
    takes_pixels: bool
    """True: uint8 (N, H, W, 3) RGB batches; False: float32 NCHW batches, scaled as the bare graph expects."""
    concurrency: int
    """Calls that run at once; more wait for one of them to finish."""

    def infer(self, batch: np.ndarray) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class PixelScaling:
    """What the compiled model does to uint8 pixels before the graph: x / 255, then (x - mean) / std to normalise."""

    spec: InputSpec
    scaling: InputScaling


class OpenVINOBackend:
    """One compiled model shared by all threads; each call borrows an infer request from a pool.

    ``concurrency`` is the number of infer requests, so of calls that run at once; None takes the number the
    compiled model calls optimal (one per stream of a ``THROUGHPUT`` hint in ``config``).
    """

    def __init__(
        self,
        model_path: Path,
        device: str = "CPU",
        inference_precision: str | None = DEFAULT_INFERENCE_PRECISION,
        concurrency: int | None = 2,
        config: dict[str, Any] | None = None,
        pixel_scaling: PixelScaling | None = None,
    ) -> None:
        import openvino as ov

        from modelyard import cpu_threads

        properties: dict[str, Any] = {**cpu_threads.openvino_properties(), **(config or {})}
        if inference_precision is not None:
            properties["INFERENCE_PRECISION_HINT"] = inference_precision
        core = ov.Core()
        model = core.read_model(str(model_path))
        if pixel_scaling is not None:
            model = with_pixel_input(model, pixel_scaling)
        self.takes_pixels = pixel_scaling is not None
        self.compiled = core.compile_model(model, device, properties)
        if concurrency is None:
            concurrency = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.concurrency = max(1, concurrency)
        self._requests: queue.Queue[Any] = queue.Queue()
        for _ in range(self.concurrency):
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
            # The batch is only read while this call waits: the request uses its memory instead of a copy.
            results = request.infer({0: np.ascontiguousarray(batch)}, share_inputs=True)
            # Copy: the request's output buffers are reused by the next caller that borrows it.
            return [np.array(results[output]) for output in self.compiled.outputs]


def with_pixel_input(model: Any, pixel_scaling: PixelScaling) -> Any:
    """``model`` taking uint8 NHWC pixels: the conversion, scaling and transposition become nodes of the graph,
    which the CPU plugin fuses into the first convolution instead of running three passes over the image in numpy."""
    import openvino as ov
    from openvino.preprocess import PrePostProcessor

    processor = PrePostProcessor(model)
    graph_input = processor.input(0)
    graph_input.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    graph_input.model().set_layout(ov.Layout("NCHW"))
    steps = graph_input.preprocess().convert_element_type(ov.Type.f32).scale(255.0)
    if pixel_scaling.scaling == "normalize":
        steps.mean(list(pixel_scaling.spec.mean)).scale(list(pixel_scaling.spec.std))
    return processor.build()


class TorchBackend:
    """The checkpoint's module inside the export wrapper, so its outputs have the exported layout."""

    takes_pixels = False
    concurrency = 1

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            outputs = self.module(torch.from_numpy(batch))
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        return [output.numpy() for output in outputs]
