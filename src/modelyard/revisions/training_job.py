"""The `train` job: dataset revision -> weights -> revision record -> training -> files -> succeeded.

Runs in a job worker process. The database is touched in short transactions between the steps; the
training itself is the pure core (`modelyard.training`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.architectures.service import ArchitectureCatalog
from modelyard.datasets.analysis import DatasetAnalysis
from modelyard.datasets.parquet import RevisionItem, read_revision_metadata
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.datasets.schemas import RevisionCreate
from modelyard.db.base import utcnow
from modelyard.db.engine import transaction
from modelyard.jobs.context import CleanupContext, JobCancelled, JobContext
from modelyard.jobs.registry import JobType
from modelyard.projects.service import ProjectService
from modelyard.revisions.hyperparameter_sources import describe as describe_hyperparameter_sources
from modelyard.revisions.job_params import TRAIN_JOB, TrainParams
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.paths import revision_file, revision_folder
from modelyard.revisions.repository import ModelRevisionRepository
from modelyard.revisions.states import RevisionStatus, WeightsStatus
from modelyard.storage.service import FileService
from modelyard.tuning.pruned import TrialPruned

if TYPE_CHECKING:
    from modelyard.tuning.trial import TrialReporter

# Progress bands of the steps (percent of the whole job).
WEIGHTS_AT, RECORD_AT, TRAINING_FROM, TRAINING_TO, FILES_AT = 3.0, 6.0, 8.0, 88.0, 89.0
VARIANTS_AT, EVALUATION_AT = 90.0, 96.0


@dataclass
class _Data:
    dataset_revision_id: str
    task: str
    labels: list[dict[str, Any]]
    training: list[RevisionItem]
    validation: list[RevisionItem]
    analysis: DatasetAnalysis
    testing_items: int


class _TrainingLog:
    """Lines for the revision's training.log, mirrored into the job log."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.path = context.work_dir / "training.log"

    def __call__(self, line: str) -> None:
        self.context.log.info(line)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{utcnow().isoformat(timespec='seconds')} {line}\n")


def train(context: JobContext, raw_params: dict[str, Any]) -> dict[str, Any]:
    params = TrainParams.model_validate(raw_params)
    emit = _TrainingLog(context)
    context.progress(1, "dataset revision")
    data = _dataset(context, params, emit)
    if params.auto is not None:
        from modelyard.revisions.auto_training import configure

        params = configure(context.settings, params, data.analysis, emit, lambda step: context.progress(2, step))
    manifest = ArchitectureCatalog(context.settings).get(params.architecture).at_input_size(params.hyperparameters)
    context.progress(WEIGHTS_AT, "weights")
    weights, keep_head = _initial_weights(context, params, manifest, data, emit)
    context.progress(RECORD_AT, "revision record")
    revision_id = _create_record(context, params, data)
    trial = _trial_reporter(context, params)
    try:
        try:
            result, device = _run_training(context, params, manifest, data, weights, keep_head, emit, trial)
        except TrialPruned as pruned:
            emit(f"trial {pruned}")
            _close_record(context, revision_id, RevisionStatus.CANCELLED, "pruned", None)
            if trial is not None:  # only a trial's reporter prunes
                trial.pruned()
            raise JobCancelled(str(pruned), reason="pruned") from None
        context.progress(FILES_AT, "files")
        _store_outcome(context, params, manifest, data, revision_id, result, device, emit)
    except JobCancelled:
        _close_record(context, revision_id, RevisionStatus.CANCELLED, "cancelled", None)
        raise
    except Exception as error:
        emit(f"training failed: {type(error).__name__}: {error}")
        _close_record(context, revision_id, RevisionStatus.FAILED, "error", f"{type(error).__name__}: {error}")
        raise
    subset = "testing"
    if data.testing_items == 0 and params.auto is not None and data.validation:
        subset = "validation"
        emit("the dataset revision has no testing subset: the variants are evaluated on the validation subset, "
             "which also chose the best epoch, so the figures are optimistic; give the project testing items "
             "(import with `--testing-fraction`) for an unbiased one")  # fmt: skip
    outcome: dict[str, Any] = {
        "architecture": params.architecture,
        "evaluated_on": subset,
        "revision_id": revision_id,
        "dataset_revision_id": data.dataset_revision_id,
        "metric_name": result.metric_name,
        "best_metric": result.best_metric,
        "best_epoch": result.best_epoch,
    }
    if trial is not None:
        outcome["trial_value"] = trial.complete(revision_id)
    if params.variants:
        outcome["variants"], outcome["evaluations_skipped"] = make_variants(context, revision_id, emit, subset=subset)
    else:
        from modelyard.revisions.variants import record_pytorch_variant

        record_pytorch_variant(context, revision_id)
        emit("variants: pytorch-fp32 only (export the others with `modelyard export`)")
    context.progress(100, "succeeded")
    return outcome


def _trial_reporter(context: JobContext, params: TrainParams) -> TrialReporter | None:
    """The link to the study this training is a trial of (None for a plain training)."""
    if params.trial is None:
        return None
    from modelyard.tuning.trial import TrialReporter

    return TrialReporter(params.trial, lambda: transaction(context.db.sessions))


def make_variants(
    context: JobContext,
    revision_id: str,
    emit: Callable[[str], None],
    *,
    pytorch_recorded: bool = False,
    subset: str = "testing",
) -> tuple[dict[str, str | None], dict[str, str]]:
    """PyTorch FP32 (the weights), OpenVINO FP16 and ONNX FP32, each evaluated on the testing subset.

    A variant that fails to export or to pass its parity check is logged and left out; the revision
    itself stays succeeded, and the variant can be made again with `modelyard export`. A variant that
    cannot be evaluated (no testing images) is named in the log, with why and what to do, and in the result."""
    from modelyard.revisions.variant_jobs import evaluate_if_possible
    from modelyard.revisions.variants import AUTOMATIC_VARIANTS, export_variant, record_pytorch_variant

    context.progress(VARIANTS_AT, "variants")
    if not pytorch_recorded:  # a study's trial recorded its own when it ended
        record_pytorch_variant(context, revision_id)
    made = ["pytorch-fp32"]
    for format_, precision in AUTOMATIC_VARIANTS:
        try:
            export_variant(context, revision_id, format_, precision)
            made.append(f"{format_}-{precision}")
        except Exception as error:  # noqa: BLE001 - one failed export must not lose the trained revision
            emit(f"variant {format_}-{precision} was not made: {type(error).__name__}: {error}")
    evaluations: dict[str, str | None] = {}
    skipped: dict[str, str] = {}
    for position, name in enumerate(made):
        context.progress(EVALUATION_AT + position, f"evaluating {name}")
        outcome = evaluate_if_possible(context, revision_id, name, subset)
        evaluations[name] = outcome.evaluation_id
        if outcome.skipped_because:
            skipped[name] = outcome.skipped_because
    evaluated = ", ".join(name for name, found in evaluations.items() if found) or "none"
    emit(f"variants: {', '.join(made)}; evaluated on the {subset} subset: {evaluated}")
    for reason in dict.fromkeys(skipped.values()):  # one line per reason, not one per variant
        names = ", ".join(name for name, why in skipped.items() if why == reason)
        emit(f"not evaluated ({names}): {reason}")
    return evaluations, skipped


def _dataset(context: JobContext, params: TrainParams, emit: _TrainingLog) -> _Data:
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        project = ProjectService(session, files, context.actor).get(params.project_id)
        datasets = DatasetRevisionService(session, files, context.actor)
        if params.dataset_revision_id:
            revision, reused = datasets.get(project, params.dataset_revision_id), True
        else:
            revision, reused = datasets.create(project, RevisionCreate())
        parquet = datasets.parquet_path(revision)
        revision_id, number = revision.id, revision.number
        items = datasets.read_items(revision)
        analysis = datasets.analysis(project, revision)
    emit(f"dataset revision {number} ({'reused' if reused else 'new'}, id {revision_id})")
    metadata = read_revision_metadata(parquet)
    labels = [
        {"index": index, "id": label.id, "name": label.name, "color": label.color}
        for index, label in enumerate(sorted(metadata.labels, key=lambda label: label.position))
    ]
    data = _Data(
        revision_id, metadata.task_type, labels,
        [item for item in items if item.subset == "training"],
        [item for item in items if item.subset == "validation"],
        analysis, sum(item.subset == "testing" for item in items),
    )  # fmt: skip
    emit(f"{len(data.training)} training and {len(data.validation)} validation images, {len(labels)} labels")
    if not data.training:
        raise ValueError("the dataset revision has no training images: annotate more images and train again")
    if data.task.endswith("classification") and len(labels) < 2:
        raise ValueError("classification needs at least two labels: add labels and annotate images with them")
    return data


def _initial_weights(
    context: JobContext, params: TrainParams, manifest: ArchitectureManifest, data: _Data, emit: _TrainingLog
) -> tuple[Path | None, bool]:
    """The file to start from, and whether its head fits the current labels as it is."""
    from modelyard.architectures.weights import ensure_weights

    if params.base == "scratch":
        emit("training from scratch (random initialisation)")
        return None, False
    if params.base == "pretrained":
        path = ensure_weights(manifest, context.settings.data_dir)
        emit(f"pretrained weights: {path}")
        return path, False
    with transaction(context.db.read_sessions) as session:
        parent = ModelRevisionRepository(session).get(params.parent_id or "")
        if parent is None or parent.weights_status != WeightsStatus.AVAILABLE:
            raise ValueError(f"parent revision {params.parent_id} is gone or has no weights")
        files = FileService(session, context.store)
        path = files.local_path(files.get(revision_file(parent.project_id, parent.id, "model.pt")))
        parent_labels, parent_number = parent.labels, parent.number
    same_labels = [label["id"] for label in parent_labels] == [label["id"] for label in data.labels]
    emit(f"fine-tuning from revision {parent_number} ({params.parent_id})")
    if not same_labels:
        before = {label["id"]: label["name"] for label in parent_labels}
        after = {label["id"]: label["name"] for label in data.labels}
        added = [name for key, name in after.items() if key not in before]
        removed = [name for key, name in before.items() if key not in after]
        emit(f"labels changed since the parent (added {added}, removed {removed}, or reordered): "
             "the head is rebuilt for the new label set, the rest of the network is kept")  # fmt: skip
    return path, same_labels


def _create_record(context: JobContext, params: TrainParams, data: _Data) -> str:
    with transaction(context.db.sessions) as session:
        project = ProjectService(session, FileService(session, context.store), context.actor).get(params.project_id)
        session.refresh(project, with_for_update=True)  # serialise numbering on PostgreSQL
        revisions = ModelRevisionRepository(session)
        number = revisions.next_number(project.id)
        revision = revisions.add(ModelRevision(
            project_id=project.id, number=number, name=params.name or f"{params.architecture} #{number}",
            architecture_id=params.architecture, task_type=data.task, status=RevisionStatus.RUNNING, base=params.base,
            dataset_revision_id=data.dataset_revision_id, parent_id=params.parent_id, job_id=context.job_id,
            configuration=params.hyperparameters, labels=data.labels, weights_status=WeightsStatus.PENDING,
            auto_configuration=params.auto_configuration,
            started_at=utcnow(), created_by=context.actor,
        ))  # fmt: skip
        return revision.id


def _run_training(
    context: JobContext,
    params: TrainParams,
    manifest: ArchitectureManifest,
    data: _Data,
    weights: Path | None,
    keep_head: bool,
    emit: _TrainingLog,
    trial: TrialReporter | None = None,
) -> tuple[Any, str]:
    """The TrainingResult and the device it ran on. `trial`: a TrialReporter, told each epoch's figures (it raises
    TrialPruned when its study stops the trial)."""
    from modelyard.training.config import TrainingConfig
    from modelyard.training.loop import TrainingCancelled, resolve_device, train_model

    budget = {"time_limit_seconds": params.auto.budget_seconds} if params.auto is not None else {}
    config = TrainingConfig.from_hyperparameters(data.task, params.hyperparameters, **budget)
    device = resolve_device(config.device).type
    emit(
        f"architecture {manifest.id} on {device}; hyperparameters {json.dumps(params.hyperparameters, sort_keys=True)}"
    )
    if params.hyperparameter_sources:
        emit(describe_hyperparameter_sources(params.hyperparameter_sources, params.hyperparameters))
    started = time.monotonic()
    band = TRAINING_TO - TRAINING_FROM
    last_report = 0.0
    last_metric = ""

    def progress(step: Any) -> None:
        nonlocal last_report
        if time.monotonic() - last_report < 1.0 and step.step != step.steps_per_epoch:
            return  # the database hears about progress at most once a second
        last_report = time.monotonic()
        fraction = step.fraction
        eta = (time.monotonic() - started) * (1 - fraction) / max(fraction, 1e-9)
        context.progress(TRAINING_FROM + band * fraction, f"training epoch {step.epoch}/{step.epochs}",
                         f"loss {step.train_loss:.4f}{last_metric}, ETA {eta:.0f} s")  # fmt: skip

    def on_epoch(record: Any) -> None:
        nonlocal last_metric
        last_metric = f", {record.metric_name} {record.metric_value:.4f}"
        context.record_metrics(record.to_dict())
        details = "".join(f", {name} {value:.4f}" for name, value in record.details.items())
        emit(f"epoch {record.epoch}: train loss {record.train_loss:.4f}, {record.metric_name} "
             f"{record.metric_value:.4f}{details}, {record.seconds:.1f} s")  # fmt: skip
        if trial is not None:
            trial.report(record)

    labels = [label["name"] for label in data.labels]
    index = {label["id"]: label["index"] for label in data.labels}
    try:
        result = train_model(
            manifest, config, labels,
            [_sample(item, data.task, index) for item in data.training],
            [_sample(item, data.task, index) for item in data.validation],
            pretrained_weights=weights, keep_head=keep_head,
            cache_dir=context.settings.data_dir / "cache" / "decoded" / data.dataset_revision_id,
            progress=progress, should_stop=lambda: context.cancel_requested, on_epoch=on_epoch,
        )  # fmt: skip
    except TrainingCancelled as cancelled:
        emit(str(cancelled))
        raise JobCancelled(str(cancelled)) from None
    stopped = " (stopped early)" if result.stopped_early else ""
    if result.stopped_by_time_limit:
        stopped = f" (stopped in epoch {len(result.records)} of {config.epochs}: the budget was reached)"
    emit(f"best epoch {result.best_epoch}: {result.metric_name} {result.best_metric:.4f}{stopped}; "
         f"{result.images_per_second:.1f} images/s, {result.seconds:.1f} s of training")  # fmt: skip
    return result, device


def _sample(item: RevisionItem, task: str, index: dict[str, int]) -> Any:
    from modelyard.training.data import TrainingSample

    if task == "detection":
        return TrainingSample(
            item.image_path,
            item.width,
            item.height,
            tuple(index[b.label_id] for b in item.boxes),
            boxes=tuple((b.x, b.y, b.x + b.width, b.y + b.height) for b in item.boxes),
        )
    if task == "instance_segmentation":
        return TrainingSample(
            item.image_path,
            item.width,
            item.height,
            tuple(index[p.label_id] for p in item.polygons),
            polygons=tuple(tuple(c for point in p.points for c in point) for p in item.polygons),
        )
    return TrainingSample(item.image_path, item.width, item.height, tuple(index[i] for i in item.label_ids))


def _store_outcome(
    context: JobContext,
    params: TrainParams,
    manifest: ArchitectureManifest,
    data: _Data,
    revision_id: str,
    result: Any,
    device: str,
    emit: _TrainingLog,
) -> None:
    from modelyard.training.checkpoint import save_checkpoint
    from modelyard.training.config import TrainingConfig
    from modelyard.variant import LabelEntry

    work = context.work_dir
    labels = [LabelEntry(label["index"], label["id"], label["name"]) for label in data.labels]
    config = TrainingConfig.from_hyperparameters(data.task, params.hyperparameters)
    metadata = {"revision_id": revision_id, "project_id": params.project_id, "parent_id": params.parent_id,
                "dataset_revision_id": data.dataset_revision_id, "best_epoch": result.best_epoch,
                result.metric_name: result.best_metric}  # fmt: skip
    save_checkpoint(work / "model.pt", result.model, manifest, data.task, labels, config, metadata)
    (work / "training_metrics.json").write_text(json.dumps([record.to_dict() for record in result.records], indent=2))
    (work / "hyperparameters.yaml").write_text(
        yaml.safe_dump(
            {
                "architecture": manifest.id,
                "task": data.task,
                "base": params.base,
                "parent": params.parent_id,
                "dataset_revision": data.dataset_revision_id,
                "hyperparameters": params.hyperparameters,
                **({"auto_configuration": params.auto_configuration} if params.auto_configuration else {}),
            },
            sort_keys=False,
        )
    )
    emit("files written: model.pt, training_metrics.json, hyperparameters.yaml, training.log")
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        revision = ModelRevisionRepository(session).get(revision_id)
        assert revision is not None
        for name in ("model.pt", "training_metrics.json", "hyperparameters.yaml", "training.log"):
            files.save(
                revision_file(revision.project_id, revision.id, name), work / name, actor=context.actor, move=True
            )
        revision.status, revision.weights_status = RevisionStatus.SUCCEEDED, WeightsStatus.AVAILABLE
        revision.finished_at = utcnow()
        revision.training_device = device
        revision.metric_name, revision.best_metric = result.metric_name, result.best_metric
        revision.best_epoch, revision.epochs_trained = result.best_epoch, len(result.records)


def _close_record(
    context: JobContext, revision_id: str, status: RevisionStatus, reason: str, error: str | None
) -> None:
    """Mark the revision finished without weights and remove whatever files it got."""
    with transaction(context.db.sessions) as session:
        revision = ModelRevisionRepository(session).get(revision_id)
        if revision is None or revision.status != RevisionStatus.RUNNING:
            return
        _finish_without_weights(session, FileService(session, context.store), revision, status, reason, error)


def _finish_without_weights(
    session: Any, files: FileService, revision: ModelRevision, status: RevisionStatus, reason: str, error: str | None
) -> None:
    revision.status, revision.reason, revision.error = status, reason, error
    revision.weights_status, revision.finished_at = WeightsStatus.NONE, utcnow()
    files.delete_tree(revision_folder(revision.project_id, revision.id))
    session.flush()


def cleanup(context: CleanupContext) -> None:
    """After an interrupted or crashed run: the revision it left `running` becomes failed (or cancelled).

    Only what this job made is touched: the revision found by this job's id (the job creates it) and that
    revision's own folder. A dataset revision it made or reused stays (the next training reuses it), and the
    parent revision's weights it read are never touched."""
    with transaction(context.db.sessions) as session:
        revision = ModelRevisionRepository(session).by_job(context.job_id)
        if revision is None or revision.status != RevisionStatus.RUNNING:
            return
        status = RevisionStatus.CANCELLED if context.reason == "cancelled" else RevisionStatus.FAILED
        error = None if status == RevisionStatus.CANCELLED else f"the training job ended abruptly ({context.reason})"
        _finish_without_weights(session, FileService(session, context.store), revision, status, context.reason, error)


JOB_TYPES = [
    JobType(TRAIN_JOB, train, "Fine-tune an architecture on a dataset revision.", TrainParams, cleanup,
            started_by="POST /api/v1/projects/{project}/models:train (modelyard train)", uses_gpu=True),
]
