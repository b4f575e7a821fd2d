"""The rules of MLflow experiments and runs: those created through MLflow are stored in its own tables and
change as MLflow's server lets them; projects and their training revisions show as experiments and runs and
refuse every change (`project_runs`)."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.db.base import utcnow
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.kit.limits import count_within_limit
from modelyard.mlflow.filters import Entity, Filter, OrderKey
from modelyard.mlflow.pages import query_fingerprint
from modelyard.mlflow.project_runs import ProjectRuns, experiment_number, is_project_id, read_only
from modelyard.mlflow.tracking_models import (
    MlflowExperiment,
    MlflowExperimentTag,
    MlflowParam,
    MlflowRun,
    MlflowRunTag,
)
from modelyard.mlflow.tracking_repository import RunScope, TrackingRepository
from modelyard.mlflow.tracking_search import (
    check_experiment_filter,
    check_run_filter,
    experiment_matches,
    experiment_order,
    page_of,
    run_matches,
    run_order,
)
from modelyard.mlflow.tracking_views import ACTIVE, DELETED, ExperimentView, MetricValue, RunView, millis
from modelyard.storage.service import FileService

log = structlog.get_logger("modelyard.mlflow")
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
VIEW_TYPES = {"ACTIVE_ONLY": (ACTIVE,), "DELETED_ONLY": (DELETED,), "ALL": (ACTIVE, DELETED)}
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"


@dataclass(frozen=True)
class LoggedMetric:
    key: str
    value: float
    timestamp: int
    step: int


def now_millis() -> int:
    return int(time.time() * 1000)


class TrackingService:
    def __init__(self, session: Session, files: FileService, actor: str, access: ProjectAccess = EVERY_PROJECT) -> None:
        self.session = session
        self.actor = actor
        self.access = access
        self.repository = TrackingRepository(session)
        self.projects = ProjectRuns(session, files, access)

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(self, name: str, tags: dict[str, str]) -> str:
        if self.repository.experiment_by_name(name) is not None or self.projects.projects.get_by_name(name):
            raise Conflict(f"experiment {name!r} already exists")
        count_within_limit(len(tags), "the experiment", "tags", "max_tags")
        now = utcnow()
        experiment = MlflowExperiment(
            name=name, lifecycle_stage=ACTIVE, created_at=now, updated_at=now, created_by=self.actor
        )
        self.repository.add(experiment)
        self.repository.add_all(
            MlflowExperimentTag(experiment_id=experiment.id, key=key, value=value) for key, value in tags.items()
        )
        log.info("mlflow.experiment.created", experiment=experiment.id, name=name)
        return str(experiment.id)

    def experiment(self, experiment_id: str) -> ExperimentView:
        if is_project_id(experiment_id):
            project = self.projects.project(experiment_id)
            if project is None:
                raise NotFound(f"experiment {experiment_id!r} does not exist")
            return self.projects.experiment(project)
        return self._view(self._stored_experiment(experiment_id))

    def experiment_by_name(self, name: str) -> ExperimentView:
        project = self.projects.project_named(name)
        if project is not None:
            return self.projects.experiment(project)
        stored = self.repository.experiment_by_name(name) if not self.access.limited else None
        if stored is None:
            raise NotFound(f"experiment {name!r} does not exist")
        return self._view(stored)

    def search_experiments(
        self, parsed: Filter, order: Sequence[OrderKey], view_type: str, limit: int, token: str | None
    ) -> tuple[list[ExperimentView], str | None]:
        check_experiment_filter(parsed)
        sorting = experiment_order(order)
        stages = _stages(view_type)
        candidates = (
            [] if self.access.limited else [self._view(stored) for stored in self.repository.experiments(stages)]
        )
        if ACTIVE in stages:
            candidates += [self.projects.experiment(project) for project in self.projects.visible_projects()]
        matching = [experiment for experiment in candidates if experiment_matches(experiment, parsed)]
        return page_of(matching, sorting, limit, token, query_fingerprint("experiments", parsed, order, view_type))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        experiment = self._writable_experiment(experiment_id)
        if experiment.name != new_name and (
            self.repository.experiment_by_name(new_name) or self.projects.projects.get_by_name(new_name)
        ):
            raise Conflict(f"experiment {new_name!r} already exists")
        experiment.name, experiment.updated_at = new_name, utcnow()
        self.session.flush()

    def set_experiment_lifecycle(self, experiment_id: str, stage: str) -> None:
        """Delete (stage `deleted`) or restore (`active`) an experiment and its runs, as MLflow does."""
        experiment = self._writable_experiment(experiment_id, any_stage=True)
        if experiment.id == 0 and stage == DELETED:
            raise InvalidInput("the Default experiment (id 0) cannot be deleted")
        experiment.lifecycle_stage, experiment.updated_at = stage, utcnow()
        for run in self.repository.runs_of_experiment(experiment.id):
            run.lifecycle_stage = stage
        self.session.flush()
        log.info("mlflow.experiment.lifecycle", experiment=experiment.id, stage=stage)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        experiment = self._writable_experiment(experiment_id)
        tag = self.repository.experiment_tag(experiment.id, key)
        if tag is None:
            count_within_limit(
                len(self.repository.experiment_tags([experiment.id])[experiment.id]) + 1,
                "the experiment",
                "tags",
                "max_tags",
            )
            self.repository.add(MlflowExperimentTag(experiment_id=experiment.id, key=key, value=value))
        else:
            tag.value = value
        experiment.updated_at = utcnow()
        self.session.flush()

    def _stored_experiment(self, experiment_id: str) -> MlflowExperiment:
        experiment = None
        number = experiment_number(experiment_id)
        if number is not None and not self.access.limited:
            experiment = self.repository.experiment(number)
        if experiment is None:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        return experiment

    def _writable_experiment(self, experiment_id: str, *, any_stage: bool = False) -> MlflowExperiment:
        if is_project_id(experiment_id):
            if self.projects.project(experiment_id) is None:
                raise NotFound(f"experiment {experiment_id!r} does not exist")
            raise read_only(f"experiment {experiment_id!r}")
        experiment = self._stored_experiment(experiment_id)
        if not any_stage and experiment.lifecycle_stage != ACTIVE:
            raise InvalidInput(f"experiment {experiment_id!r} is deleted: restore it first")
        return experiment

    def _view(self, experiment: MlflowExperiment) -> ExperimentView:
        tags = self.repository.experiment_tags([experiment.id])[experiment.id]
        return ExperimentView(
            str(experiment.id),
            experiment.name,
            experiment.lifecycle_stage,
            millis(experiment.created_at) or 0,
            millis(experiment.updated_at) or 0,
            tags,
        )

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        run_name: str | None,
        user_id: str | None,
        start_time: int | None,
        tags: dict[str, str],
    ) -> RunView:
        experiment = self._writable_experiment(experiment_id)
        count_within_limit(len(tags) + 2, "the run", "tags", "max_tags")
        run_id = uuid.uuid4().hex
        name = run_name or tags.get(RUN_NAME_TAG) or f"run-{run_id[:8]}"
        user = user_id or tags.get(USER_TAG) or self.actor
        run = MlflowRun(
            id=run_id,
            experiment_id=experiment.id,
            name=name,
            status="RUNNING",
            user_id=user,
            start_time=start_time if start_time is not None else now_millis(),
            lifecycle_stage=ACTIVE,
            created_by=self.actor,
        )
        self.repository.add(run)
        tags = {**tags, RUN_NAME_TAG: name, USER_TAG: tags.get(USER_TAG, user)}
        self.repository.add_all(MlflowRunTag(run_id=run_id, key=key, value=value) for key, value in tags.items())
        log.info("mlflow.run.created", run=run_id, experiment=experiment.id)
        return self.run(run_id)

    def run(self, run_id: str) -> RunView:
        stored = self._stored_run(run_id)
        if stored is not None:
            return self._run_views([stored])[0]
        revision = self.projects.revision(run_id)
        if revision is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return self.projects.run(revision)

    def update_run(self, run_id: str, status: str | None, end_time: int | None, run_name: str | None) -> RunView:
        run = self._writable_run(run_id)
        if status is not None:
            if status not in RUN_STATUSES:
                raise InvalidInput(f"status {status!r} is not a run status; use one of {', '.join(RUN_STATUSES)}")
            run.status = status
        if end_time is not None:
            run.end_time = end_time
        if run_name:
            self._set_tag(run, RUN_NAME_TAG, run_name)
        self.session.flush()
        return self.run(run_id)

    def set_run_lifecycle(self, run_id: str, stage: str) -> None:
        run = self._writable_run(run_id, any_stage=True)
        run.lifecycle_stage = stage
        self.session.flush()
        log.info("mlflow.run.lifecycle", run=run_id, stage=stage)

    def log_batch(
        self, run_id: str, metrics: Sequence[LoggedMetric], params: dict[str, str], tags: dict[str, str]
    ) -> None:
        run = self._writable_run(run_id)
        for key, value in params.items():
            self._log_param(run, key, value)
        for key, value in tags.items():
            self._set_tag(run, key, value)
        for metric in metrics:
            self._log_metric(run, metric)
        self.session.flush()

    def delete_tag(self, run_id: str, key: str) -> None:
        run = self._writable_run(run_id)
        tag = self.repository.tag(run.id, key)
        if tag is None:
            raise NotFound(f"run {run_id!r} has no tag {key!r}")
        self.repository.delete_tag(tag)

    def metric_history(self, run_id: str, key: str) -> list[MetricValue]:
        stored = self._stored_run(run_id)
        if stored is not None:
            return [
                MetricValue(row.key, math.nan if row.is_nan else row.value, row.timestamp, row.step)
                for row in self.repository.metric_history(stored.id, key)
            ]
        revision = self.projects.revision(run_id)
        if revision is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return self.projects.metric_history(revision, key)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        parsed: Filter,
        order: Sequence[OrderKey],
        view_type: str,
        limit: int,
        token: str | None,
    ) -> tuple[list[RunView], str | None]:
        check_run_filter(parsed)
        sorting = run_order(order)
        stages = _stages(view_type)
        stored_ids, project_ids = [], []
        for experiment_id in dict.fromkeys(experiment_ids):
            number = experiment_number(experiment_id)
            if number is None:
                if self.projects.project(experiment_id) is not None:
                    project_ids.append(experiment_id)
            elif not self.access.limited:
                stored_ids.append(number)
        # Stored runs are filtered and sorted on the few keys the search names, then read in full for the page only.
        stored = {run.id: run for run in self.repository.runs(stored_ids, stages)}
        scope: RunScope = self.repository.run_ids_query(stored_ids, stages) if stored else []
        candidates = self._run_views(list(stored.values()), _keys_named(parsed, order), scope)
        if ACTIVE in stages:
            candidates += [self.projects.run(revision) for revision in self.projects.revisions(project_ids)]
        matching = [run for run in candidates if run_matches(run, parsed)]
        query = query_fingerprint("runs", sorted(set(experiment_ids)), parsed, order, view_type)
        page, next_token = page_of(matching, sorting, limit, token, query)
        complete = {view.run_id: view for view in self._run_views([stored[view.run_id] for view in page
                                                                   if view.run_id in stored])}  # fmt: skip
        return [complete.get(view.run_id, view) for view in page], next_token

    # -- run internals -----------------------------------------------------------------------
    def _stored_run(self, run_id: str) -> MlflowRun | None:
        return None if self.access.limited else self.repository.run(run_id)

    def _writable_run(self, run_id: str, *, any_stage: bool = False) -> MlflowRun:
        run = self._stored_run(run_id)
        if run is None:
            if self.projects.revision(run_id) is not None:
                raise read_only(f"run {run_id!r}")
            raise NotFound(f"run {run_id!r} does not exist")
        if not any_stage and run.lifecycle_stage != ACTIVE:
            raise InvalidInput(f"run {run_id!r} is deleted: restore it before logging to it")
        return run

    def _log_param(self, run: MlflowRun, key: str, value: str) -> None:
        stored = self.repository.param(run.id, key)
        if stored is None:
            self.session.add(MlflowParam(run_id=run.id, key=key, value=value))
        elif stored.value != value:
            raise InvalidInput(
                f"param {key!r} of run {run.id} was logged as {stored.value!r}; changing it to {value!r} is not "
                "allowed (params are written once)"
            )

    def _set_tag(self, run: MlflowRun, key: str, value: str) -> None:
        stored = self.repository.tag(run.id, key)
        if stored is None:
            self.session.add(MlflowRunTag(run_id=run.id, key=key, value=value))
        else:
            stored.value = value
        if key == RUN_NAME_TAG:
            run.name = value

    def _log_metric(self, run: MlflowRun, metric: LoggedMetric) -> None:
        is_nan = math.isnan(metric.value)
        value = 0.0 if is_nan else metric.value
        self.repository.add_metric(run.id, metric.key, value, is_nan, metric.timestamp, metric.step)

    def _run_views(
        self, runs: list[MlflowRun], keys: dict[Entity, list[str]] | None = None, scope: RunScope | None = None
    ) -> list[RunView]:
        """Views of stored runs with all their params, tags and metrics, or only those of `keys`; `scope` reads
        them with a query of the runs' ids instead of lists of ids."""
        ids = scope if scope is not None else [run.id for run in runs]
        keys = keys or {}
        params = self.repository.params(ids, keys.get(Entity.PARAM))
        tags = self.repository.tags(ids, keys.get(Entity.TAG))
        metrics = self.repository.latest_metrics(ids, keys.get(Entity.METRIC))
        return [
            RunView(
                run_id=run.id,
                experiment_id=str(run.experiment_id),
                run_name=run.name,
                status=run.status,
                user_id=run.user_id,
                start_time=run.start_time,
                end_time=run.end_time,
                lifecycle_stage=run.lifecycle_stage,
                params=params.get(run.id, {}),
                tags=tags.get(run.id, {}),
                metrics={
                    metric.key: MetricValue(
                        metric.key, math.nan if metric.is_nan else metric.value, metric.timestamp, metric.step
                    )
                    for metric in metrics.get(run.id, [])
                },
            )
            for run in runs
        ]


def _keys_named(parsed: Filter, order: Sequence[OrderKey]) -> dict[Entity, list[str]]:
    """The metric, param and tag keys a search filters or sorts on (an empty list: none of that entity)."""
    named: dict[Entity, list[str]] = {Entity.METRIC: [], Entity.PARAM: [], Entity.TAG: []}
    for entity, key in [*((c.entity, c.key) for c in parsed.comparisons), *((k.entity, k.key) for k in order)]:
        if entity in named:
            named[entity].append(key)
    return named


def _stages(view_type: str) -> tuple[str, ...]:
    stages = VIEW_TYPES.get(view_type)
    if stages is None:
        raise InvalidInput(f"view type {view_type!r} is not valid; use ACTIVE_ONLY, DELETED_ONLY or ALL")
    return stages
