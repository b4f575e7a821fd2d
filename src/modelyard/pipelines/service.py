"""Pipelines: which variant a project serves, answering predictions with it, batch jobs, deployment packages."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import structlog
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.context import AppContext
from modelyard.db.base import utcnow
from modelyard.db.engine import run_after_commit, transaction
from modelyard.errors import Conflict, InvalidInput, ModelyardError
from modelyard.inference import ImageInputError, Predictor
from modelyard.jobs.models import Job
from modelyard.jobs.registry import build_params
from modelyard.jobs.service import JobService
from modelyard.pipelines.models import Pipeline
from modelyard.pipelines.repository import PipelineRepository
from modelyard.pipelines.runtime import ActivePipeline, PipelineKey, PipelineRuntime
from modelyard.pipelines.schemas import (
    BATCH_PREDICT_JOB,
    BatchPredictParams,
    BatchPredictRequest,
    FilePrediction,
    PipelineEnable,
    PipelineStatus,
    PredictionsRead,
)
from modelyard.projects.models import Project
from modelyard.projects.service import ProjectService
from modelyard.revisions.models import ModelRevision, Variant
from modelyard.revisions.repository import VariantRepository
from modelyard.revisions.states import WeightsStatus
from modelyard.revisions.usable import ensure_usable, require_revision
from modelyard.revisions.variants import VariantFiles, parse_variant, require_variant
from modelyard.storage.service import FileService

log = structlog.get_logger("modelyard.pipelines")
PACKAGE_FORMATS = ("openvino", "onnx")
THROUGHPUT_CONFIG = {"PERFORMANCE_HINT": "THROUGHPUT"}
"""How a stream compiles its model (`load_predictor(..., throughput=True)`); benchmark_app's `-hint throughput`."""


def load_predictor(
    model_path: Path, variant: Variant, confidence_threshold: float | None = None, throughput: bool = False
) -> Predictor:
    """Open a variant's predictor; a variant that cannot be loaded is a conflict the caller can act on.

    ``throughput``: compiled for frames in flight at once (OpenVINO's ``THROUGHPUT`` hint, as many infer requests
    as it calls optimal) rather than for the latency of one request at a time."""
    options: dict[str, Any] = {"concurrency": None, "config": THROUGHPUT_CONFIG} if throughput else {}
    try:
        return Predictor.open(model_path, confidence_threshold=confidence_threshold, **options)
    except ModelyardError:
        raise
    except (ValueError, RuntimeError, OSError) as error:
        raise Conflict(
            f"variant {variant.name} of model revision {variant.revision_id} cannot be loaded ({error}): "
            "export it again"
        ) from error


class RevisionVariants:
    """Finding a revision and one of its variants, with the checks that serving or packaging it needs."""

    def __init__(self, session: Session, access: ProjectAccess = EVERY_PROJECT) -> None:
        self.session = session
        self.access = access
        self.variants = VariantRepository(session)

    def revision(self, revision_id: str) -> ModelRevision:
        return require_revision(self.session, revision_id, self.access)

    def usable_variant(self, revision: ModelRevision, name: str) -> Variant:
        parse_variant(name)  # a malformed name is the caller's typo: say so before anything else
        ensure_usable(revision)
        return require_variant(self.session, revision, name)


class PipelineService:
    def __init__(
        self,
        session: Session,
        files: FileService,
        runtime: PipelineRuntime,
        actor: str,
        access: ProjectAccess = EVERY_PROJECT,
    ) -> None:
        self.session = session
        self.files = files
        self.runtime = runtime
        self.actor = actor
        self.access = access
        self.pipelines = PipelineRepository(session)
        self.lookup = RevisionVariants(session, access)
        self.variant_files = VariantFiles(files)

    def project(self, reference: str) -> Project:
        return ProjectService(self.session, self.files, self.actor, self.access).get(reference)

    # -- enable / disable / status -------------------------------------------------------------
    def enable(self, project: Project, request: PipelineEnable) -> PipelineStatus:
        """Point the project's pipeline at a variant; it is loaded now, and serves once this commits."""
        revision = self.lookup.revision(request.revision)
        if revision.project_id != project.id:
            raise InvalidInput(f"model revision {revision.id} belongs to another project, not {project.name}")
        variant = self.lookup.usable_variant(revision, request.variant)
        threshold = request.confidence_threshold
        predictor = self.runtime.predictor(variant.id, threshold, lambda: self._load(variant))
        pipeline = self.pipelines.get(project.id)
        if pipeline is None:
            pipeline = Pipeline(project_id=project.id)
            self.session.add(pipeline)
        pipeline.revision_id, pipeline.variant_id = revision.id, variant.id
        pipeline.confidence_threshold, pipeline.enabled_at, pipeline.enabled_by = threshold, utcnow(), self.actor
        self.session.flush()
        entry = ActivePipeline(_key(pipeline), revision.id, variant.name, predictor)
        run_after_commit(self.session, lambda: self.runtime.install(entry))
        log.info("pipelines.pipeline.enabled", project=project.id, revision=revision.id, variant=variant.name,
                 threshold=threshold)  # fmt: skip
        return self._status(project, pipeline, revision, variant, entry)

    def disable(self, project: Project) -> PipelineStatus:
        pipeline = self.pipelines.get(project.id)
        if pipeline is not None:
            self.pipelines.delete(pipeline)
            project_id = project.id
            run_after_commit(self.session, lambda: self.runtime.deactivate(project_id))
            log.info("pipelines.pipeline.disabled", project=project.id, variant=pipeline.variant_id)
        return PipelineStatus(project_id=project.id, enabled=False)

    def status(self, project: Project) -> PipelineStatus:
        pipeline = self.pipelines.get(project.id)
        if pipeline is None:
            return PipelineStatus(project_id=project.id, enabled=False)
        revision = self.lookup.revision(pipeline.revision_id)
        variant = self.lookup.variants.get(pipeline.variant_id)
        assert variant is not None  # a foreign key
        return self._status(project, pipeline, revision, variant, self.runtime.current(_key(pipeline)))

    def _status(self, project: Project, pipeline: Pipeline, revision: ModelRevision, variant: Variant,
                active: ActivePipeline | None) -> PipelineStatus:  # fmt: skip
        return PipelineStatus(
            project_id=project.id,
            enabled=True,
            revision_id=revision.id,
            revision_number=revision.number,
            revision_name=revision.name,
            variant=variant.name,
            variant_id=variant.id,
            confidence_threshold=pipeline.confidence_threshold,
            enabled_at=pipeline.enabled_at,
            enabled_by=pipeline.enabled_by,
            loaded=active is not None,
            metrics=active.metrics.snapshot() if active is not None else None,
        )

    # -- serving -------------------------------------------------------------------------------
    def serving(self, project: Project) -> ActivePipeline:
        """The project's active pipeline, loaded in this process (409 when it is disabled)."""
        pipeline = self.require_enabled(project)
        key = _key(pipeline)
        active = self.runtime.current(key)
        if active is not None:
            return active
        revision = self.lookup.revision(pipeline.revision_id)
        variant = self.lookup.variants.get(pipeline.variant_id)
        assert variant is not None
        if revision.weights_status != WeightsStatus.AVAILABLE:
            raise Conflict(
                f"the pipeline of {project.name} serves model revision #{revision.number}, whose weights are "
                f"{revision.weights_status}: enable another revision",
                code="weights_unavailable",
            )
        return self.runtime.serve(key, revision.id, variant.name, lambda: self._load(variant))

    def require_enabled(self, project: Project) -> Pipeline:
        pipeline = self.pipelines.get(project.id)
        if pipeline is None:
            raise Conflict(
                f"the pipeline of project {project.name} is disabled: enable a model first with "
                f"`modelyard pipeline enable {project.name} REVISION`",
                code="pipeline_disabled",
            )
        return pipeline

    def _load(self, variant: Variant) -> Predictor:
        started = time.perf_counter()
        predictor = load_predictor(self.variant_files.model_path(variant), variant)
        log.info("pipelines.variant.loaded", variant=variant.id, name=variant.name,
                 ms=round((time.perf_counter() - started) * 1000, 1))  # fmt: skip
        return predictor

    # -- batch ---------------------------------------------------------------------------------
    def start_batch(self, project: Project, request: BatchPredictRequest, jobs: JobService) -> Job:
        """Queue a batch prediction over a folder on the server with the pipeline's current variant."""
        self.require_enabled(project)
        input_folder, output_folder = Path(request.input_folder), Path(request.output_folder)
        for path in (input_folder, output_folder):
            if not path.is_absolute():
                raise InvalidInput(f"{path} is relative: give absolute paths on the server")
        if not input_folder.is_dir():
            raise InvalidInput(f"input folder {input_folder} does not exist on the server (or is not a folder)")
        data_dir = self.files.store.data_dir.resolve()
        if output_folder.resolve().is_relative_to(data_dir):
            raise InvalidInput(f"output folder {output_folder} is inside the data directory {data_dir}: "
                               "write predictions somewhere else")  # fmt: skip
        params = build_params(BatchPredictParams, BATCH_PREDICT_JOB, project_id=project.id,
                              input_folder=str(input_folder), output_folder=str(output_folder))  # fmt: skip
        job = jobs.submit(BATCH_PREDICT_JOB, params, project.id)
        log.info("pipelines.batch.queued", project=project.id, job=job.id)
        return job


def _key(pipeline: Pipeline) -> PipelineKey:
    return PipelineKey(pipeline.project_id, pipeline.variant_id, pipeline.confidence_threshold, pipeline.enabled_at)


def open_serving(
    context: AppContext, runtime: PipelineRuntime, project_reference: str, access: ProjectAccess = EVERY_PROJECT
) -> ActivePipeline:
    """The project's active pipeline, looked up in a short read transaction (none is held while predicting)."""
    with transaction(context.db.read_sessions) as session:
        service = PipelineService(session, FileService(session, context.store), runtime, "local", access)
        found = service.pipelines.project_with_pipeline(project_reference)
        if found is None or not access.allows(found[0].id):
            project = service.project(project_reference)  # raises NotFound, unless the project is there unserved
        else:
            project = found[0]
        return service.serving(project)


@dataclass(frozen=True)
class ReceivedImage:
    name: str
    source: Path | BinaryIO
    """The file on disk, or the upload itself: decoding it in place spares a copy through the disk."""


def predict_images(active: ActivePipeline, images: Sequence[ReceivedImage]) -> PredictionsRead:
    """Run the active pipeline on each image; an unreadable one fails the request, naming the file."""
    started = time.perf_counter()
    predictions = []
    for image in images:
        try:
            prediction = active.predictor.predict(image.source)
        except (ImageInputError, OSError, ValueError) as error:  # the decoder's errors on a bad file
            active.metrics.record_failure()
            reason = str(error).replace(str(image.source), image.name)
            raise InvalidInput(f"{image.name} cannot be read as an image ({reason}); send JPEG, PNG, BMP, TIFF or "
                               "WebP files", code="prediction_image_invalid", file=image.name) from None  # fmt: skip
        predictions.append(FilePrediction.model_validate({"file": image.name, **prediction.to_dict()}))
    active.metrics.record(len(images), time.perf_counter() - started)
    return PredictionsRead(
        project_id=active.key.project_id,
        revision_id=active.revision_id,
        variant=active.variant,
        confidence_threshold=active.key.confidence_threshold,
        predictions=predictions,
    )


# -- deployment packages ---------------------------------------------------------------------------
class DeploymentPackages:
    def __init__(self, session: Session, files: FileService, access: ProjectAccess = EVERY_PROJECT) -> None:
        self.lookup = RevisionVariants(session, access)
        self.variant_files = VariantFiles(files)
        self.scratch_root = files.store.tmp

    def build(self, revision_id: str, variant_name: str) -> tuple[Path, str]:
        """A zip (in the data directory's scratch folder; the caller deletes it) and its download name."""
        from modelyard.deploy import build_deployment_package
        from modelyard.export import ExportError

        revision = self.lookup.revision(revision_id)
        variant = self.lookup.usable_variant(revision, variant_name)
        if variant.format not in PACKAGE_FORMATS:
            raise Conflict(f"a deployment package needs an OpenVINO or ONNX variant, not {variant.name}: "
                           "ask for openvino-fp16, openvino-int8 or onnx-fp32")  # fmt: skip
        staging = Path(tempfile.mkdtemp(prefix="package-", dir=self.scratch_root))
        handle, zip_name = tempfile.mkstemp(prefix="package-", suffix=".zip", dir=self.scratch_root)
        os.close(handle)
        try:
            self.variant_files.stage(variant, staging / "variant")
            build_deployment_package(staging / "variant", Path(zip_name))
        except ExportError as error:
            Path(zip_name).unlink(missing_ok=True)
            message = f"variant {variant.name} of model revision {revision.id} cannot be packaged: {error}"
            raise Conflict(message) from None
        except BaseException:
            Path(zip_name).unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("pipelines.package.built", revision=revision.id, variant=variant.name)
        return Path(zip_name), f"{revision.architecture_id}-{revision.number}-{variant.name}.zip"
