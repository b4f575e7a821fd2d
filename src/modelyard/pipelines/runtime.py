"""The serving side of pipelines, per server process: loaded predictors and in-memory metrics.

The database row says which variant a project serves; this runtime holds what that costs to have in memory.
Predictors are cached by variant id and shared between threads (a Predictor is thread-safe). Swapping a project
to another variant loads the new predictor first and then replaces the active entry in one step: requests that
already hold the old entry finish on it, and no request ever waits on, or fails for, a half-loaded variant.
Metrics are this process's own and start again whenever the pipeline is enabled or swapped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from modelyard.db.base import utcnow
from modelyard.inference import Predictor
from modelyard.percentiles import percentile
from modelyard.pipelines.schemas import PipelineMetrics

LATENCY_WINDOW = 10_000
"""Requests whose latency the percentiles are computed over (the most recent ones)."""


@dataclass(frozen=True)
class PipelineKey:
    """What a project serves, as its database row says; a new key (re-enable, swap) means new metrics."""

    project_id: str
    variant_id: str
    confidence_threshold: float
    enabled_at: datetime


class ServingMetrics:
    """Request counters and a bounded window of latencies; safe to update from many threads."""

    def __init__(self, window: int = LATENCY_WINDOW) -> None:
        self._lock = threading.Lock()
        self.since = utcnow()
        self._started = time.monotonic()
        self._requests = 0
        self._failed = 0
        self._images = 0
        self._latencies_ms: deque[float] = deque(maxlen=window)

    def record(self, images: int, seconds: float) -> None:
        with self._lock:
            self._requests += 1
            self._images += images
            self._latencies_ms.append(seconds * 1000)

    def record_failure(self) -> None:
        with self._lock:
            self._failed += 1

    def snapshot(self) -> PipelineMetrics:
        with self._lock:
            latencies = list(self._latencies_ms)
            requests, failed, images = self._requests, self._failed, self._images
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return PipelineMetrics(
            since=self.since,
            requests=requests,
            failed_requests=failed,
            images=images,
            latency_ms_p50=_rounded(percentile(latencies, 50)),
            latency_ms_p95=_rounded(percentile(latencies, 95)),
            latency_ms_p99=_rounded(percentile(latencies, 99)),
            throughput_images_per_second=round(images / elapsed, 3),
        )


def _rounded(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds, 3)


@dataclass
class ActivePipeline:
    key: PipelineKey
    revision_id: str
    variant: str
    predictor: Predictor
    metrics: ServingMetrics = field(default_factory=ServingMetrics)


class PipelineRuntime:
    """Process-wide: the active pipeline of each project and the predictors loaded for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, ActivePipeline] = {}
        self._predictors: dict[str, Predictor] = {}
        self._loading: dict[str, threading.Lock] = {}

    def current(self, key: PipelineKey) -> ActivePipeline | None:
        """The active entry if it serves exactly `key` (same variant, threshold and enabling)."""
        with self._lock:
            active = self._active.get(key.project_id)
        return active if active is not None and active.key == key else None

    def predictor(self, variant_id: str, confidence_threshold: float, load: Callable[[], Predictor]) -> Predictor:
        """The variant's predictor with this threshold; `load` runs at most once per variant at a time."""
        with self._lock:
            loaded = self._predictors.get(variant_id)
            loading = self._loading.setdefault(variant_id, threading.Lock())
        if loaded is None:
            with loading:
                with self._lock:
                    loaded = self._predictors.get(variant_id)
                if loaded is None:
                    loaded = load()
                    with self._lock:
                        self._predictors[variant_id] = loaded
        # A thin view sharing the compiled model: the threshold is a per-pipeline setting.
        return Predictor(loaded.backend, loaded.metadata, confidence_threshold)

    def activate(self, key: PipelineKey, revision_id: str, variant: str, predictor: Predictor) -> ActivePipeline:
        return self.install(ActivePipeline(key, revision_id, variant, predictor))

    def install(self, entry: ActivePipeline) -> ActivePipeline:
        """Make `entry` its project's active pipeline, unless the same or a newer enabling is active.

        A request that read the pipeline row just before a swap gets an entry of its own and finishes
        on the old variant, without undoing the swap.
        """
        with self._lock:
            active = self._active.get(entry.key.project_id)
            if active is not None and active.key == entry.key:
                return active
            if active is not None and active.key.enabled_at > entry.key.enabled_at:
                return entry
            self._active[entry.key.project_id] = entry
            self._drop_unused_predictors()
        return entry

    def serve(self, key: PipelineKey, revision_id: str, variant: str, load: Callable[[], Predictor]) -> ActivePipeline:
        """The active entry for `key`, loading its variant first when this process does not hold it."""
        return self.current(key) or self.activate(
            key, revision_id, variant, self.predictor(key.variant_id, key.confidence_threshold, load)
        )

    def deactivate(self, project_id: str) -> None:
        with self._lock:
            self._active.pop(project_id, None)
            self._drop_unused_predictors()

    def loaded_variants(self) -> list[str]:
        with self._lock:
            return sorted(self._predictors)

    def _drop_unused_predictors(self) -> None:
        # Called with the lock held. Requests in flight keep their own reference, so dropping is safe.
        in_use = {active.key.variant_id for active in self._active.values()}
        for variant_id in [variant_id for variant_id in self._predictors if variant_id not in in_use]:
            del self._predictors[variant_id]
            self._loading.pop(variant_id, None)
