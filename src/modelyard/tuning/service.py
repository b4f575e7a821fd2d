"""Hyperparameter studies from the API's side: start one (a tune job), read its trials."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import structlog
from sqlalchemy.orm import Session

from modelyard.architectures.manifest import HyperparameterError
from modelyard.architectures.service import ArchitectureCatalog
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.errors import InvalidInput, NotFound
from modelyard.jobs.models import Job
from modelyard.jobs.registry import build_params
from modelyard.jobs.service import JobService
from modelyard.projects.models import Project
from modelyard.revisions.hyperparameter_sources import flatten, merge
from modelyard.revisions.repository import TrainingConfigurationRepository
from modelyard.storage.service import FileService
from modelyard.tuning.job_params import TUNE_JOB, TuneParams
from modelyard.tuning.repository import StudyJournalRepository
from modelyard.tuning.schemas import StudyRead, TrialRead, TuneRequest
from modelyard.tuning.space import check_space, default_space

log = structlog.get_logger("modelyard.tuning")
TRIAL_STATUS = {"WAITING": "waiting", "RUNNING": "running", "COMPLETE": "complete", "PRUNED": "pruned",
                "FAIL": "failed"}  # fmt: skip


class TuningService:
    def __init__(self, session: Session, files: FileService, catalog: ArchitectureCatalog, actor: str) -> None:
        self.session = session
        self.files = files
        self.catalog = catalog
        self.actor = actor

    def start(self, project: Project, request: TuneRequest, jobs: JobService) -> Job:
        """Check the architecture, the shared hyperparameters and the space, then queue the tune job."""
        manifest = self.catalog.for_task(request.architecture, project.task_type)
        if request.base == "pretrained" and manifest.pretrained_weights is None:
            raise InvalidInput(f"architecture {manifest.id} has no pretrained weights; use base 'scratch'")
        stored = TrainingConfigurationRepository(self.session).get(project.id, manifest.id)
        fixed = merge(stored.overrides if stored else {}, request.overrides)
        self.catalog.resolve(manifest, fixed)
        if request.space is None:
            fixed_names = set(flatten(request.overrides))
            space = {name: dimension for name, dimension in default_space(manifest).items()
                     if name not in fixed_names}  # fmt: skip
        else:
            space = request.space
        try:
            check_space(manifest, space)
        except HyperparameterError as error:
            raise InvalidInput(f"search space: {error}", code=error.code, field=error.field) from None
        dataset_revision_id = None
        if request.dataset_revision is not None:
            datasets = DatasetRevisionService(self.session, self.files, self.actor)
            dataset_revision_id = datasets.get(project, request.dataset_revision).id
        metric = request.metric
        params = build_params(
            TuneParams, TUNE_JOB, project_id=project.id, architecture=manifest.id, base=request.base, fixed=fixed,
            space=space, dataset_revision_id=dataset_revision_id, metric=metric,
            direction="minimize" if metric and metric.endswith("loss") else "maximize",
            max_trials=request.max_trials, budget_seconds=request.budget_seconds, parallel=request.parallel,
            pruner=request.pruner, seed=request.seed, register_as=request.register_as, export_best=request.export_best,
        )  # fmt: skip
        job = jobs.submit(TUNE_JOB, params, project.id)
        log.info("tuning.study.queued", project=project.id, job=job.id, architecture=manifest.id)
        return job

    def study(self, job: Job) -> StudyRead:
        """The study a tune job runs: its trials as recorded so far, the best one marked."""
        if job.type != TUNE_JOB:
            raise NotFound(f"job {job.id} is a {job.type} job, not a study: list studies with "
                           "`modelyard job list --type revision.tune`")  # fmt: skip
        params = TuneParams.model_validate(job.params)
        trials: list[Any] = []
        best = None
        if StudyJournalRepository(self.session).exists(job.id):
            from modelyard.tuning.journal import load_study

            study = load_study(lambda: nullcontext(self.session), job.id)
            trials = study.get_trials(deepcopy=False)
            complete = [trial for trial in trials if trial.state.name == "COMPLETE"]
            best = study.best_trial if complete else None
        return StudyRead(
            job_id=job.id, project_id=job.project_id, architecture=params.architecture, status=job.status,
            metric=params.metric, direction=params.direction, space=params.space, max_trials=params.max_trials,
            budget_seconds=params.budget_seconds, best_trial=best.number if best else None,
            best_value=best.value if best else None, best_params=dict(best.params) if best else None,
            best_revision_id=best.user_attrs.get("revision_id") if best else None,
            trials=[_trial_read(trial, best is not None and trial.number == best.number) for trial in trials],
        )  # fmt: skip


def _trial_read(trial: Any, best: bool) -> TrialRead:
    reported = trial.intermediate_values
    value = trial.value if trial.state.name == "COMPLETE" else (reported[max(reported)] if reported else None)
    return TrialRead(
        number=trial.number, status=TRIAL_STATUS[trial.state.name], params=dict(trial.params), value=value,
        epochs=len(reported), seconds=trial.duration.total_seconds() if trial.duration else None,
        started_at=trial.datetime_start, job_id=trial.user_attrs.get("job_id"),
        revision_id=trial.user_attrs.get("revision_id"), best=best, failure=trial.user_attrs.get("failure"),
    )  # fmt: skip
