"""The in-memory side of pipelines: bounded latency windows, and swaps that a late request cannot undo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from modelyard.db.base import utcnow
from modelyard.pipelines.runtime import PipelineKey, PipelineRuntime, ServingMetrics


class _Loaded:
    """Stands in for a Predictor: the runtime only passes backend and metadata along."""

    def __init__(self, name: str) -> None:
        self.backend, self.metadata = name, type("Metadata", (), {"confidence_threshold": 0.5,
                                                                   "input_spec": None})()  # fmt: skip


def test_latency_percentiles_cover_only_the_most_recent_window() -> None:
    metrics = ServingMetrics(window=100)
    for _ in range(1000):
        metrics.record(images=1, seconds=1.0)  # old and slow: pushed out of the window
    for milliseconds in range(1, 101):
        metrics.record(images=2, seconds=milliseconds / 1000)
    snapshot = metrics.snapshot()
    assert (snapshot.requests, snapshot.images) == (1100, 1200)
    assert (snapshot.latency_ms_p50, snapshot.latency_ms_p95) == (50.0, 95.0)


def test_a_request_that_read_the_old_row_does_not_undo_a_swap() -> None:
    runtime = PipelineRuntime()
    loads: list[str] = []

    def loader(name: str) -> Any:
        def load() -> _Loaded:
            loads.append(name)
            return _Loaded(name)

        return load

    now = utcnow()
    old = PipelineKey("project", "variant-old", 0.5, now)
    new = PipelineKey("project", "variant-new", 0.5, now + timedelta(seconds=1))
    first = runtime.serve(old, "revision", "openvino-fp16", loader("old"))
    assert runtime.serve(old, "revision", "openvino-fp16", loader("old")) is first  # cached: loaded once
    swapped = runtime.serve(new, "revision", "openvino-int8", loader("new"))
    late = runtime.serve(old, "revision", "openvino-fp16", loader("old"))

    assert late.predictor.backend == "old" and late is not first
    assert runtime.current(new) is swapped and runtime.current(old) is None
    assert loads == ["old", "new", "old"]
    runtime.deactivate("project")
    assert runtime.current(new) is None and runtime.loaded_variants() == []
