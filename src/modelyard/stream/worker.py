"""A stream's own process: `python -m modelyard.stream.worker PROJECT_ID`, started by the supervisor.

Three stages in threads, with bounded queues between them: the source, the model, the sinks. The main thread
reports twice a second (heartbeat, metrics), swaps the model between frames when the pipeline's variant changes,
and ends the process when the stream is stopped, its configuration changed (the supervisor starts it again at
once) or the source is exhausted. Like a job's worker it dies with the server that started it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import structlog

from modelyard import cpu_threads
from modelyard.config import Settings
from modelyard.db.base import utcnow
from modelyard.db.engine import Database, transaction
from modelyard.inference import ImageInputError
from modelyard.jobs.worker import PARENT_ENV, SETTINGS_ENV, die_with_parent
from modelyard.logging import configure_logging
from modelyard.storage.factory import open_store
from modelyard.stream.frames import BoundedQueue, Frame, InOrder, PredictedFrame
from modelyard.stream.metrics import StreamCounters
from modelyard.stream.model_slot import LoadedModel, ModelSlot, predicting_threads
from modelyard.stream.paths import live_folder, uploads_folder
from modelyard.stream.predicting import frame_payload, predict_frame
from modelyard.stream.repository import StreamRepository
from modelyard.stream.schemas import SinkMetrics, SourceConfig
from modelyard.stream.sinks import FolderSink, FrameSink, LiveSink, MqttSink
from modelyard.stream.sources import CameraSource, FolderSource, FrameSource, SequenceCounter, VideoSource
from modelyard.stream.webhook import WebhookDelivery

log = structlog.get_logger("modelyard.stream.worker")
REPORT_SECONDS = 0.5
LIVE_QUEUE_FRAMES = 2
QUEUE_FRAMES = 8
EXIT_FINISHED = 0
EXIT_FAILED = 1
EXIT_RESTART = 75
"""The configuration changed (source, sinks): start again at once, no crash."""
EXIT_STOPPED = 76


class StreamWorker:
    def __init__(self, project_id: str, settings: Settings) -> None:
        self.project_id = project_id
        self.settings = settings
        self.db = Database(settings)
        self.store = open_store(settings)  # the server's store: its data directory, or the bucket
        self.stop = threading.Event()
        self.counters = StreamCounters()
        self.slot = ModelSlot(self.db, self.store, project_id)
        self.source_done = threading.Event()
        self.model_done = threading.Event()
        self._taking = threading.Lock()
        self._tickets = 0
        self.failure: BaseException | None = None

    # -- set-up ------------------------------------------------------------------------------
    def _configure(self) -> None:
        with transaction(self.db.read_sessions) as session:
            repository = StreamRepository(session)
            pipeline = repository.get(self.project_id)
            if pipeline is None or pipeline.source_kind is None:
                raise RuntimeError("the stream has no source: set one with `modelyard pipeline source`")
            self.source_config = SourceConfig.model_validate({"kind": pipeline.source_kind, **pipeline.source})
            sinks = [(sink.id, sink.kind, dict(sink.config)) for sink in repository.sinks(self.project_id)]
            processed = repository.processed_names(self.project_id) if self._file_source else set()
            last = repository.last_processed_sequence(self.project_id)
            start = max(pipeline.next_sequence, (last + 1) if last is not None else 0)
        self.fingerprint = self._fingerprint()
        self.sequence = SequenceCounter(start)
        self.source = self._source(processed)
        live = self.source.live
        self.frames: BoundedQueue[Frame] = BoundedQueue(LIVE_QUEUE_FRAMES if live else QUEUE_FRAMES, drop_oldest=live)
        self.results: InOrder[PredictedFrame] = InOrder(QUEUE_FRAMES)
        self.sinks: list[FrameSink] = []
        self.webhooks: list[WebhookDelivery] = []
        for sink_id, kind, config in sinks:
            if kind == "folder":
                self.sinks.append(FolderSink(sink_id, Path(config["path"]), bool(config.get("draw"))))
            elif kind == "mqtt":
                self.sinks.append(MqttSink(sink_id, config["host"], int(config["port"]), config["topic"]))
            elif kind == "live":
                self.sinks.append(LiveSink(sink_id, live_folder(self.settings.data_dir, self.project_id)))
            elif kind == "webhook":
                self.webhooks.append(WebhookDelivery(self.db, sink_id, config["url"], self.stop))

    @property
    def _file_source(self) -> bool:
        return self.source_config.kind in ("folder", "http")

    def _source(self, processed: set[str]) -> FrameSource:
        config = self.source_config
        if config.kind == "video":
            return VideoSource(Path(config.path or ""), self.sequence, config.loop, config.realtime)
        if config.kind == "camera":
            return CameraSource(config.device or "", self.sequence)
        folder = Path(config.path) if config.kind == "folder" and config.path else \
            uploads_folder(self.settings.data_dir, self.project_id)  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True) if config.kind == "http" else None
        return FolderSource(folder, self.sequence, processed)

    def _fingerprint(self) -> object:
        """What, when changed, needs a new worker: the source and the sinks (settings apply between frames)."""
        with transaction(self.db.read_sessions) as session:
            repository = StreamRepository(session)
            pipeline = repository.get(self.project_id)
            source = None if pipeline is None else (pipeline.source_kind, sorted(pipeline.source.items()))
            sinks = [(sink.id, sorted(sink.config.items())) for sink in repository.sinks(self.project_id)]
            desired = None if pipeline is None else pipeline.desired_state
        return source, sinks, desired

    # -- stages ------------------------------------------------------------------------------
    def _run_source(self) -> None:
        def emit(frame: Frame) -> bool:
            self.counters.frame_in()
            return self.frames.put(frame, self.stop)

        try:
            self.source.run(emit, self.stop)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread, which ends the worker
            self.failure = error
        finally:
            self.source_done.set()

    def _run_model(self) -> None:
        """As many predicting threads as the model has infer requests, plus one that prepares the next frame
        while every request is busy: the frames' preprocessing and decoding overlap the inference of others."""
        try:
            loaded = self.slot.wait_for_model(self.stop)
            if loaded is None:
                return
            count = predicting_threads(loaded.predictor)
            log.info("stream.model.threads", project=self.project_id, threads=count)
            helpers = [threading.Thread(target=self._predict_frames, name=f"model-{index}", daemon=True)
                       for index in range(1, count)]  # fmt: skip
            for helper in helpers:
                helper.start()
            self._predict_frames()
            for helper in helpers:
                helper.join()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.failure = error
        finally:
            self.model_done.set()

    def _predict_frames(self) -> None:
        try:
            while not self.stop.is_set():
                taken = self._take_frame()
                if taken is None:
                    if self.source_done.is_set() and len(self.frames) == 0:
                        return
                    continue
                ticket, frame, loaded = taken
                started = time.perf_counter()
                try:
                    prediction = predict_frame(loaded.predictor, frame, loaded.settings)
                except (ImageInputError, OSError, ValueError) as error:
                    self._frame_failed(frame, error)
                    if not self.results.skip(ticket, self.stop):
                        return
                    continue
                seconds = time.perf_counter() - started
                payload = frame_payload(self.project_id, frame, prediction, loaded.revision_id, loaded.variant)
                if not self.results.put(ticket, PredictedFrame(frame, payload, seconds), self.stop):
                    return
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.failure = error

    def _take_frame(self) -> tuple[int, Frame, LoadedModel] | None:
        """The next frame, its place in the delivery order and the model it is predicted with, taken together:
        a frame later in the stream is never predicted by an older model than an earlier one."""
        with self._taking:
            frame = self.frames.get(0.1)
            if frame is None:
                return None
            loaded = self.slot.wait_for_model(self.stop)
            if loaded is None:
                return None
            ticket, self._tickets = self._tickets, self._tickets + 1
            return ticket, frame, loaded

    def _frame_failed(self, frame: Frame, error: Exception) -> None:
        """An unreadable file is recorded as processed (it would fail again), and counted."""
        self.counters.frame_failed()
        log.warning("stream.frame.failed", project=self.project_id, frame=frame.name, error=str(error))
        if frame.path is not None:
            with transaction(self.db.sessions) as session:
                StreamRepository(session).mark_processed(self.project_id, frame.name, frame.sequence)

    def _run_sinks(self) -> None:
        try:
            while not self.stop.is_set():
                item = self.results.get(0.1)
                if item is None:
                    if self.model_done.is_set():
                        return
                    continue
                self._deliver(item)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.failure = error

    def _deliver(self, item: PredictedFrame) -> None:
        for sink in self.sinks:
            sink.write(item)
        frame = item.frame
        if self.webhooks or frame.path is not None:
            # The outbox messages and the file's record commit together: a file is done exactly when its
            # webhook messages are owed, whatever moment the process is killed at.
            with transaction(self.db.sessions) as session:
                repository = StreamRepository(session)
                repository.enqueue([webhook.id for webhook in self.webhooks], frame.sequence, item.payload)
                if frame.path is not None:
                    repository.mark_processed(self.project_id, frame.name, frame.sequence)
            for webhook in self.webhooks:
                webhook.queued.set()
            if self.source_config.kind == "http" and frame.path is not None:
                frame.path.unlink(missing_ok=True)
        self.counters.frame_done(time.time() - frame.timestamp, item.model_seconds)

    # -- the main thread ---------------------------------------------------------------------
    def run(self) -> int:
        self._configure()
        self.slot.refresh()
        stages = [threading.Thread(target=target, name=name, daemon=True) for target, name in
                  ((self._run_source, "source"), (self._run_model, "model"), (self._run_sinks, "sinks"))]  # fmt: skip
        for thread in [*stages, *self.webhooks]:
            thread.start()
        log.info("stream.worker.started", project=self.project_id, source=self.source_config.kind,
                 sinks=len(self.sinks) + len(self.webhooks))  # fmt: skip
        outcome = EXIT_STOPPED
        try:
            while True:
                self.stop.wait(REPORT_SECONDS)
                self._report()
                if self.failure is not None:
                    raise self.failure
                if self.stop.is_set():
                    break
                if not stages[2].is_alive():
                    outcome = EXIT_FINISHED
                    break
                self.slot.refresh()
                fingerprint = self._fingerprint()
                if fingerprint != self.fingerprint:
                    outcome = EXIT_STOPPED if fingerprint[2] != "running" else EXIT_RESTART  # type: ignore[index]
                    break
        finally:
            self.stop.set()
            for thread in stages:
                thread.join(5)
            for sink in self.sinks:
                sink.close()
            self._report()
        return outcome

    def _report(self) -> None:
        sinks = [SinkMetrics(id=sink.id, kind=sink.kind, delivered=sink.counters.delivered,
                             failed=sink.counters.failed) for sink in self.sinks]  # fmt: skip
        for webhook in self.webhooks:
            pending, retrying = webhook.outbox_counts()
            sinks.append(SinkMetrics(id=webhook.id, kind=webhook.kind, delivered=webhook.counters.delivered,
                                     failed=webhook.counters.failed, retrying=retrying, pending=pending))  # fmt: skip
        loaded = self.slot.current
        metrics = self.counters.snapshot(
            self.frames.dropped, len(self.frames) + len(self.results), sinks,
            loaded.revision_id if loaded else None, loaded.variant if loaded else None,
        )  # fmt: skip
        with transaction(self.db.sessions) as session:
            StreamRepository(session).update(
                self.project_id, state="running", heartbeat_at=utcnow(),
                metrics=metrics.model_dump(mode="json"), next_sequence=self.sequence.next, worker_pid=os.getpid(),
            )  # fmt: skip


def run(project_id: str, settings: Settings) -> int:
    stopping = threading.Event()
    worker = StreamWorker(project_id, settings)

    def stop_on_signal(*_: object) -> None:
        stopping.set()
        worker.stop.set()

    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        return worker.run()
    except BaseException as error:  # noqa: BLE001 - the last line of the log says why; the supervisor reports it
        if stopping.is_set():
            return EXIT_STOPPED
        traceback.print_exc()
        reason = f"{type(error).__name__}: {error}"
        print(f"stream failed: {reason}", flush=True)
        return EXIT_FAILED
    finally:
        worker.store.release()
        worker.db.dispose()


def main() -> None:
    project_id = sys.argv[1]
    parent_pid = int(os.environ.get(PARENT_ENV, os.getppid()))
    die_with_parent(parent_pid)
    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    configure_logging(settings.log_level, settings.log_json)
    choice = cpu_threads.choose(settings.job_threads)
    cpu_threads.apply(choice)  # before OpenVINO is imported: the model's streams and threads follow the CPUs
    log.info("stream.worker.threads", project=project_id, threads=choice.threads, why=choice.why)
    sys.exit(run(project_id, settings))


if __name__ == "__main__":
    main()
