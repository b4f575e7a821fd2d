"""The variant a running stream predicts with, and its settings; swapped between two frames.

The pipeline's row (the enable/swap API) says which variant; the stream's row holds its settings. A change is
loaded first, then replaces the slot's content in one assignment: the frame being predicted finishes on the old
model and the next one uses the new, so no frame is lost or predicted twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import structlog

from modelyard.db.engine import Database, transaction
from modelyard.inference import Predictor
from modelyard.pipelines.repository import PipelineRepository
from modelyard.pipelines.service import load_predictor
from modelyard.revisions.repository import VariantRepository
from modelyard.revisions.variants import VariantFiles
from modelyard.storage.base import ArtifactStore
from modelyard.storage.service import FileService
from modelyard.stream.repository import StreamRepository
from modelyard.stream.schemas import StreamSettings

log = structlog.get_logger("modelyard.stream.model")


@dataclass(frozen=True)
class ModelKey:
    variant_id: str
    confidence_threshold: float
    enabled_at: datetime


@dataclass(frozen=True)
class LoadedModel:
    key: ModelKey
    predictor: Predictor
    revision_id: str
    variant: str
    settings: StreamSettings


class ModelSlot:
    def __init__(self, db: Database, store: ArtifactStore, project_id: str) -> None:
        self.db, self.store, self.project_id = db, store, project_id
        self.current: LoadedModel | None = None
        self._changed = threading.Event()

    def refresh(self) -> None:
        """Load the pipeline's variant if it changed, and take the stream's latest settings."""
        with transaction(self.db.read_sessions) as session:
            pipeline = PipelineRepository(session).get(self.project_id)
            stream = StreamRepository(session).get(self.project_id)
            settings = StreamSettings.model_validate(stream.settings if stream is not None else {})
            if pipeline is None:
                self.current = None  # disabled: frames wait until a variant is enabled again
                return
            threshold = pipeline.confidence_threshold if settings.confidence_threshold is None else \
                settings.confidence_threshold  # fmt: skip
            key = ModelKey(pipeline.variant_id, threshold, pipeline.enabled_at)
            current = self.current
            if current is not None and current.key == key:
                if current.settings != settings:
                    self.current = LoadedModel(key, current.predictor, current.revision_id, current.variant, settings)
                return
            variant = VariantRepository(session).get(pipeline.variant_id)
            assert variant is not None  # a foreign key
            model_path = VariantFiles(FileService(session, self.store)).model_path(variant)
            predictor = load_predictor(model_path, variant, threshold, throughput=True)
            warm_up(predictor)
            self.current = LoadedModel(key, predictor, pipeline.revision_id, variant.name, settings)
        log.info("stream.model.loaded", project=self.project_id, variant=variant.name, revision=pipeline.revision_id,
                 infer_requests=predictor.backend.concurrency)  # fmt: skip
        self._changed.set()

    def wait_for_model(self, stop: threading.Event) -> LoadedModel | None:
        while not stop.is_set():
            if self.current is not None:
                return self.current
            self._changed.wait(0.2)
            self._changed.clear()
        return None


def warm_up(predictor: Predictor) -> None:
    """One prediction on a blank frame, in this thread, before the model is handed to the predicting threads.

    The first prediction in a process imports modules lazily (Pillow's, OpenVINO's data conversion); several threads
    making their first one at once could deadlock on the import lock, and the stream stalled for good. It also
    pays the model's slow first inference before the swap rather than on a frame.
    """
    height, width = predictor.spec.size
    predictor.predict(np.zeros((height, width, 3), dtype=np.uint8))


def predicting_threads(predictor: Predictor) -> int:
    """Threads that predict frames at once: one per infer request, plus one preparing a frame while all infer."""
    return predictor.backend.concurrency + 1
