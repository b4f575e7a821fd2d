"""A running stream's counters, and every stream's metrics as Prometheus text."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from modelyard.db.base import utcnow
from modelyard.percentiles import percentile
from modelyard.stream.schemas import SinkMetrics, StreamMetrics

LATENCY_WINDOW = 2_000
"""Frames whose latencies the percentiles are computed over (the most recent ones)."""


class StreamCounters:
    """Frames in, processed and failed, and windows of latencies; updated by the stages' threads."""

    def __init__(self) -> None:
        self.since = utcnow()
        self._lock = threading.Lock()
        self.frames_in = 0
        self.frames_processed = 0
        self.frames_failed = 0
        self._end_to_end_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._model_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)

    def frame_in(self) -> None:
        with self._lock:
            self.frames_in += 1

    def frame_failed(self) -> None:
        with self._lock:
            self.frames_failed += 1

    def frame_done(self, end_to_end_seconds: float, model_seconds: float) -> None:
        with self._lock:
            self.frames_processed += 1
            self._end_to_end_ms.append(end_to_end_seconds * 1000)
            self._model_ms.append(model_seconds * 1000)

    def snapshot(self, dropped: int, queue_depth: int, sinks: list[SinkMetrics], revision_id: str | None,
                 variant: str | None) -> StreamMetrics:  # fmt: skip
        with self._lock:
            end_to_end, model = list(self._end_to_end_ms), list(self._model_ms)
            frames_in, processed, failed = self.frames_in, self.frames_processed, self.frames_failed
        return StreamMetrics(
            since=self.since, frames_in=frames_in, frames_processed=processed, frames_dropped=dropped,
            frames_failed=failed, latency_ms_p50=_rounded(percentile(end_to_end, 50)),
            latency_ms_p99=_rounded(percentile(end_to_end, 99)), model_ms_p50=_rounded(percentile(model, 50)),
            model_ms_p99=_rounded(percentile(model, 99)), queue_depth=queue_depth, revision_id=revision_id,
            variant=variant, sinks=sinks,
        )  # fmt: skip


def _rounded(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds, 3)


@dataclass(frozen=True)
class PipelineReading:
    """One stream as /metrics shows it."""

    project_id: str
    project: str
    state: str
    restarts: int
    heartbeat_at: datetime | None
    metrics: StreamMetrics | None


class _ReadingsCollector:
    """Prometheus families over the readings taken for one scrape (nothing is kept between scrapes)."""

    def __init__(self, readings: Iterable[PipelineReading]) -> None:
        self.readings = list(readings)

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        labels = ["project", "project_id"]
        running = GaugeMetricFamily("modelyard_stream_running", "1 while the stream's worker runs.", labels=labels)
        restarts = CounterMetricFamily("modelyard_stream_restarts", "Worker crashes restarted.", labels=labels)
        frames = CounterMetricFamily("modelyard_stream_frames", "Frames since the worker started, by outcome.",
                                     labels=[*labels, "outcome"])  # fmt: skip
        latency = GaugeMetricFamily("modelyard_stream_latency_seconds",
                                    "Source timestamp to every sink written, recent frames.",
                                    labels=[*labels, "quantile"])  # fmt: skip
        model = GaugeMetricFamily("modelyard_stream_model_seconds", "Model time per frame, recent frames.",
                                  labels=[*labels, "quantile"])  # fmt: skip
        depth = GaugeMetricFamily("modelyard_stream_queue_depth", "Frames waiting inside the worker.", labels=labels)
        sinks = CounterMetricFamily("modelyard_stream_sink_messages", "Sink deliveries by outcome.",
                                    labels=[*labels, "sink", "kind", "outcome"])  # fmt: skip
        retrying = GaugeMetricFamily("modelyard_stream_sink_retrying", "Webhook messages waiting for a retry.",
                                     labels=[*labels, "sink", "kind"])  # fmt: skip
        for reading in self.readings:
            key = [reading.project, reading.project_id]
            running.add_metric(key, 1.0 if reading.state == "running" else 0.0)
            restarts.add_metric(key, reading.restarts)
            found = reading.metrics
            if found is None:
                continue
            for outcome, count in (("in", found.frames_in), ("processed", found.frames_processed),
                                   ("dropped", found.frames_dropped), ("failed", found.frames_failed)):  # fmt: skip
                frames.add_metric([*key, outcome], count)
            for quantile, value in (("0.5", found.latency_ms_p50), ("0.99", found.latency_ms_p99)):
                if value is not None:
                    latency.add_metric([*key, quantile], value / 1000)
            for quantile, value in (("0.5", found.model_ms_p50), ("0.99", found.model_ms_p99)):
                if value is not None:
                    model.add_metric([*key, quantile], value / 1000)
            depth.add_metric(key, found.queue_depth)
            for sink in found.sinks:
                for outcome, count in (("delivered", sink.delivered), ("failed", sink.failed)):
                    sinks.add_metric([*key, sink.id, sink.kind, outcome], count)
                retrying.add_metric([*key, sink.id, sink.kind], sink.retrying)
        yield from (running, restarts, frames, latency, model, depth, sinks, retrying)


def prometheus_text(readings: Iterable[PipelineReading]) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ReadingsCollector(readings))  # type: ignore[arg-type]
    return generate_latest(registry)
