"""Model revisions: starting trainings, reading what they produced, lineage, configurations."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import structlog
from sqlalchemy.orm import Session

from modelyard.architectures.service import ArchitectureCatalog
from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.datasets.revisions import DatasetRevisionService, require_items_in_subset
from modelyard.db.base import utcnow
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.evaluations.models import Evaluation
from modelyard.evaluations.repository import EvaluationRepository
from modelyard.jobs.models import Job
from modelyard.jobs.registry import build_params
from modelyard.jobs.repository import JobMetricsRepository
from modelyard.jobs.service import JobService
from modelyard.kit.pagination import Order
from modelyard.pipelines.repository import PipelineRepository
from modelyard.projects.models import Project
from modelyard.projects.repository import ProjectRepository
from modelyard.revisions.hyperparameter_sources import (
    OVERRIDE,
    PROJECT_CONFIGURATION,
    known_only,
    merge,
    parent_source,
    sources_of,
)
from modelyard.revisions.job_params import (
    EVALUATE_JOB,
    EXPORT_JOB,
    OPTIMIZE_JOB,
    TRAIN_JOB,
    EvaluateParams,
    ExportParams,
    OptimizeParams,
    TrainParams,
)
from modelyard.revisions.models import ModelRevision, TrainingConfiguration, Variant
from modelyard.revisions.paths import revision_file, revision_folder
from modelyard.revisions.repository import (
    ModelRevisionRepository,
    TrainingConfigurationRepository,
    VariantRepository,
)
from modelyard.revisions.schemas import CandidateRead, RecommendationRead, TrainRequest
from modelyard.revisions.states import RevisionStatus, WeightsStatus
from modelyard.revisions.usable import ensure_usable, require_revision
from modelyard.revisions.variants import parse_variant, require_variant
from modelyard.storage.service import FileService
from modelyard.training.auto_config import Goal

log = structlog.get_logger("modelyard.revisions")


class ModelRevisionService:
    def __init__(
        self,
        session: Session,
        files: FileService,
        catalog: ArchitectureCatalog,
        actor: str,
        access: ProjectAccess = EVERY_PROJECT,
    ) -> None:
        self.session = session
        self.access = access
        self.files = files
        self.catalog = catalog
        self.actor = actor
        self.revisions = ModelRevisionRepository(session)
        self.configurations = TrainingConfigurationRepository(session)

    # -- training ----------------------------------------------------------------------------
    def start_training(self, project: Project, request: TrainRequest, jobs: JobService) -> Job:
        """Check everything that can be checked now, then queue the training job."""
        if request.auto is not None:
            return self._start_auto_training(project, request, jobs)
        if request.architecture is None:
            raise InvalidInput("name the architecture to train, or ask for auto-configuration (`--auto`)")
        manifest = self.catalog.for_task(request.architecture, project.task_type)
        parent_id = None
        base = request.base or "pretrained"
        if base not in ("pretrained", "scratch"):
            parent = self.get(base)
            self._check_can_fine_tune(project, parent, manifest.id)
            parent_id = parent.id
            defaults = self.catalog.resolve(manifest, {})
            layers = [(parent_source(parent.number, parent.id), known_only(parent.configuration, defaults)),
                      (OVERRIDE, request.overrides)]  # fmt: skip
        else:
            if base == "pretrained" and manifest.pretrained_weights is None:
                raise InvalidInput(f"architecture {manifest.id} has no pretrained weights; use base 'scratch'")
            stored = self.configurations.get(project.id, manifest.id)
            layers = [(PROJECT_CONFIGURATION, stored.overrides if stored else {}), (OVERRIDE, request.overrides)]
        hyperparameters = self.catalog.resolve(manifest, merge(layers[0][1], layers[1][1]))
        dataset_revision_id = self._dataset_revision_id(project, request)
        params = build_params(
            TrainParams,
            TRAIN_JOB,
            project_id=project.id,
            architecture=manifest.id,
            hyperparameters=hyperparameters,
            hyperparameter_sources=sources_of(layers, hyperparameters),
            base="revision" if parent_id else base,
            parent_id=parent_id,
            dataset_revision_id=dataset_revision_id,
            name=request.name,
        )
        job = jobs.submit(TRAIN_JOB, params, project.id)
        log.info("revisions.training.queued", project=project.id, job=job.id, architecture=manifest.id)
        return job

    def _start_auto_training(self, project: Project, request: TrainRequest, jobs: JobService) -> Job:
        """Queue a training whose job chooses what was not given (the choice needs the dataset's analysis and
        this machine's measured speed, both at hand in the job). Given overrides are checked now."""
        from modelyard.revisions.auto_training import candidate_manifests

        assert request.auto is not None  # the caller checked
        if request.base not in (None, "pretrained", "scratch"):
            raise InvalidInput("auto-configuration trains from pretrained weights or from scratch, not from a revision")
        manifests = candidate_manifests(self.catalog, project.task_type, request.architecture)
        if not manifests:
            raise InvalidInput(f"no architecture trains {project.task_type}")
        for manifest in manifests:
            self.catalog.resolve(manifest, request.overrides)  # a 400 names the field and the bound
        params = build_params(
            TrainParams,
            TRAIN_JOB,
            project_id=project.id,
            architecture="",
            hyperparameters={},
            base=request.base or "pretrained",
            dataset_revision_id=self._dataset_revision_id(project, request),
            name=request.name,
            auto={"budget_seconds": request.auto.budget_seconds, "goal": request.auto.goal,
                  "explicit": request.overrides, "architecture": request.architecture, "base": request.base},
        )  # fmt: skip
        job = jobs.submit(TRAIN_JOB, params, project.id)
        log.info("revisions.training.queued", project=project.id, job=job.id, architecture="auto")
        return job

    def recommend(self, project: Project, budget_seconds: float, goal: Goal) -> RecommendationRead:
        """What auto-configuration would choose for the project's current annotated items on this machine,
        every candidate with its predicted time and expected quality. Nothing is trained or stored."""
        from modelyard.cpu_threads import choose
        from modelyard.revisions.auto_training import candidate_manifests, candidates
        from modelyard.training.auto_config import auto_configure
        from modelyard.training.speed import machine_profile

        analysis = DatasetRevisionService(self.session, self.files, self.actor).analyse_current(project)
        manifests = candidate_manifests(self.catalog, project.task_type, None)
        if not manifests:
            raise InvalidInput(f"no architecture trains {project.task_type}")
        settings = self.catalog.settings
        profile = machine_profile(choose(settings.job_threads).threads)
        chosen = auto_configure(analysis, candidates(manifests, settings, profile), profile, budget_seconds, goal)
        return RecommendationRead(
            budget_seconds=budget_seconds,
            goal=chosen.goal,
            machine=chosen.machine,
            candidates=[
                CandidateRead(**{**asdict(plan), "recommended": index == 0})
                for index, plan in enumerate(chosen.candidates)
            ],
            reasons=chosen.reasons,
            hyperparameters=chosen.hyperparameters,
        )

    def _dataset_revision_id(self, project: Project, request: TrainRequest) -> str | None:
        if request.dataset_revision is None:
            return None
        dataset_revision = DatasetRevisionService(self.session, self.files, self.actor).get(
            project, request.dataset_revision
        )
        if dataset_revision.files_deleted:
            raise Conflict(f"dataset revision {dataset_revision.number} had its files deleted; it cannot be trained on")
        return dataset_revision.id

    def _check_can_fine_tune(self, project: Project, parent: ModelRevision, architecture_id: str) -> None:
        if parent.project_id != project.id:
            raise InvalidInput(f"model revision {parent.id} belongs to another project")
        if parent.architecture_id != architecture_id:
            raise InvalidInput(
                f"model revision {parent.id} is a {parent.architecture_id}; fine-tune it with that architecture"
            )
        ensure_usable(parent)

    # -- reads -------------------------------------------------------------------------------
    def get(self, revision_id: str) -> ModelRevision:
        return require_revision(self.session, revision_id, self.access)

    def page(self, project: Project, *, order: Order = "desc", limit: int = 50, cursor: str | None = None,
             **filters: str | None) -> list[ModelRevision]:  # fmt: skip
        return list(self.revisions.page(project.id, order=order, limit=limit, cursor=cursor, **filters))

    def sizes(self, revisions: list[ModelRevision]) -> dict[str, int]:
        """Bytes of each revision's stored variants (0 when it has none)."""
        found = VariantRepository(self.session).total_sizes([revision.id for revision in revisions])
        return {revision.id: found.get(revision.id, 0) for revision in revisions}

    def rename(self, revision: ModelRevision, name: str) -> ModelRevision:
        revision.name = name
        revision.updated_at = utcnow()
        self.session.flush()
        return revision

    def training_metrics(self, revision: ModelRevision) -> list[dict[str, Any]]:
        """The stored per-epoch records; while it trains, the ones its job has recorded so far."""
        if revision.status == RevisionStatus.RUNNING and revision.job_id:
            return [record for _, record in JobMetricsRepository(self.session).after(revision.job_id, 0)]
        record = self._file(revision, "training_metrics.json")
        return json.loads(b"".join(self.files.open(record)))

    def training_log(self, revision: ModelRevision) -> str:
        record = self._file(revision, "training.log")
        return b"".join(self.files.open(record)).decode("utf-8", errors="replace")

    def _file(self, revision: ModelRevision, name: str):  # noqa: ANN202
        record = self.files.files.get(revision_file(revision.project_id, revision.id, name))
        if record is None:
            raise NotFound(f"model revision {revision.id} has no {name} (it is {revision.status})")
        return record

    def lineage(self, revision: ModelRevision) -> tuple[list[ModelRevision], list[ModelRevision]]:
        ancestors, seen = [], {revision.id}
        current = revision
        while current.parent_id and current.parent_id not in seen:
            parent = self.revisions.get(current.parent_id)
            if parent is None:
                break
            ancestors.append(parent)
            seen.add(parent.id)
            current = parent
        descendants, frontier = [], [revision.id]
        while frontier:
            children = [child for parent_id in frontier for child in self.revisions.children(parent_id)]
            descendants.extend(children)
            frontier = [child.id for child in children]
        return ancestors, descendants

    # -- variants, evaluations, deletion -----------------------------------------------------
    def submit_export(self, revision: ModelRevision, format_: str, precision: str, jobs: JobService) -> Job:
        ensure_usable(revision)
        parse_variant(f"{format_}-{precision}")
        params = build_params(ExportParams, EXPORT_JOB, revision_id=revision.id, format=format_, precision=precision)
        return jobs.submit(EXPORT_JOB, params, revision.project_id)

    def submit_evaluation(self, revision: ModelRevision, variant: str, dataset_revision: str | None, subset: str,
                          jobs: JobService, *, force: bool = False) -> Job | Evaluation:  # fmt: skip
        """Queue an evaluation; or, unless `force`, return the one already stored for the same variant,
        dataset revision and subset. A subset with no items is refused (409) before any job is queued."""
        ensure_usable(revision)
        found = require_variant(self.session, revision, variant)
        project = ProjectRepository(self.session).get(revision.project_id)
        assert project is not None  # the revision's foreign key cascades from its project
        datasets = DatasetRevisionService(self.session, self.files, self.actor)
        data = datasets.get(project, dataset_revision or revision.dataset_revision_id)
        require_items_in_subset(project, data, subset)
        if not force:
            stored = EvaluationRepository(self.session).latest_of(found.id, data.id, subset)
            if stored is not None:
                log.info("revisions.evaluation.reused", revision=revision.id, evaluation=stored.id)
                return stored
        params = build_params(EvaluateParams, EVALUATE_JOB, revision_id=revision.id, variant=variant,
                              dataset_revision=data.id, subset=subset, force=force)  # fmt: skip
        return jobs.submit(EVALUATE_JOB, params, revision.project_id)

    def submit_optimization(self, revision: ModelRevision, max_drop: float | None, jobs: JobService) -> Job:
        ensure_usable(revision)
        params = build_params(OptimizeParams, OPTIMIZE_JOB, revision_id=revision.id, max_drop=max_drop)
        return jobs.submit(OPTIMIZE_JOB, params, revision.project_id)

    def variants(self, revision: ModelRevision) -> list[Variant]:
        return list(VariantRepository(self.session).of_revision(revision.id))

    def delete(self, revision: ModelRevision, *, weights_only: bool) -> ModelRevision | None:
        """Delete a revision (record and files) or only its weights (record, metrics, evaluations stay)."""
        if revision.status == RevisionStatus.RUNNING:
            raise Conflict(f"model revision {revision.id} is still training: cancel its job {revision.job_id} first")
        if PipelineRepository(self.session).using_revision(revision.id):
            raise Conflict(
                f"model revision {revision.id} is enabled in the project's pipeline: "
                "disable it (`modelyard pipeline disable PROJECT`) or enable another revision first"
            )
        folder = revision_folder(revision.project_id, revision.id)
        if not weights_only:
            self.files.delete_tree(folder)
            self.revisions.delete(revision)
            log.info("revisions.revision.deleted", revision=revision.id)
            return None
        if revision.weights_status != WeightsStatus.AVAILABLE:
            raise Conflict(f"model revision {revision.id} has no weights to delete (weights {revision.weights_status})")
        variants = VariantRepository(self.session)
        for variant in variants.of_revision(revision.id):
            for entry in variant.files:
                self.files.delete(f"{variant.folder}/{entry['name']}")
            variants.delete(variant)
        revision.weights_status = WeightsStatus.DELETED
        revision.updated_at = utcnow()
        self.session.flush()
        log.info("revisions.weights.deleted", revision=revision.id)
        return revision

    # -- configurations ----------------------------------------------------------------------
    def configuration(self, project: Project, architecture_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(stored overrides, resolved hyperparameters) of a project for an architecture."""
        manifest = self.catalog.for_task(architecture_id, project.task_type)
        stored = self.configurations.get(project.id, manifest.id)
        overrides = stored.overrides if stored else {}
        return overrides, self.catalog.resolve(manifest, overrides)

    def set_configuration(self, project: Project, architecture_id: str, overrides: dict[str, Any]) -> None:
        manifest = self.catalog.for_task(architecture_id, project.task_type)
        self.catalog.resolve(manifest, overrides)  # refuse out-of-bounds values before storing
        stored = self.configurations.get(project.id, manifest.id)
        if stored is None:
            self.configurations.add(
                TrainingConfiguration(
                    project_id=project.id, architecture_id=manifest.id, overrides=overrides, created_by=self.actor
                )
            )
        else:
            stored.overrides = overrides
            stored.updated_at = utcnow()
            self.session.flush()
