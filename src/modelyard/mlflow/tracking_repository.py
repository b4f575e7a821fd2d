"""Every query of experiments and runs created through MLflow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, and_, delete, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from modelyard.mlflow.tracking_models import (
    MlflowArtifact,
    MlflowExperiment,
    MlflowExperimentTag,
    MlflowLatestMetric,
    MlflowMetric,
    MlflowParam,
    MlflowRun,
    MlflowRunTag,
)

CHUNK = 500
RunScope = list[str] | Select[Any]
T = TypeVar("T")


class TrackingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- experiments -------------------------------------------------------------------------
    def experiment(self, experiment_id: int) -> MlflowExperiment | None:
        return self.session.get(MlflowExperiment, experiment_id)

    def experiment_by_name(self, name: str) -> MlflowExperiment | None:
        return self.session.scalar(select(MlflowExperiment).where(MlflowExperiment.name == name))

    def experiments(self, stages: Sequence[str]) -> Sequence[MlflowExperiment]:
        return self.session.scalars(select(MlflowExperiment).where(MlflowExperiment.lifecycle_stage.in_(stages))).all()

    def experiment_tags(self, experiment_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {experiment_id: {} for experiment_id in experiment_ids}
        for chunk in _chunks(experiment_ids):
            for tag in self.session.scalars(
                select(MlflowExperimentTag).where(MlflowExperimentTag.experiment_id.in_(chunk))
            ):
                found[tag.experiment_id][tag.key] = tag.value
        return found

    def experiment_tag(self, experiment_id: int, key: str) -> MlflowExperimentTag | None:
        return self.session.get(MlflowExperimentTag, (experiment_id, key))

    # -- runs --------------------------------------------------------------------------------
    def run(self, run_id: str) -> MlflowRun | None:
        return self.session.get(MlflowRun, run_id)

    def runs(self, experiment_ids: Sequence[int], stages: Sequence[str]) -> Sequence[MlflowRun]:
        if not experiment_ids:
            return []
        return self.session.scalars(
            select(MlflowRun).where(MlflowRun.experiment_id.in_(experiment_ids), MlflowRun.lifecycle_stage.in_(stages))
        ).all()

    @staticmethod
    def run_ids_query(experiment_ids: Sequence[int], stages: Sequence[str]) -> Select[Any]:
        """The ids of the runs `runs` returns, as a query (for reading their params, tags, metrics in one go)."""
        return select(MlflowRun.id).where(
            MlflowRun.experiment_id.in_(experiment_ids), MlflowRun.lifecycle_stage.in_(stages)
        )

    def runs_of_experiment(self, experiment_id: int) -> Sequence[MlflowRun]:
        return self.session.scalars(select(MlflowRun).where(MlflowRun.experiment_id == experiment_id)).all()

    def params(self, runs: RunScope, keys: Sequence[str] | None = None) -> dict[str, dict[str, str]]:
        """The params of `runs` (ids, or a query of ids) by run id: all of them, or those of `keys` only."""
        return self._key_values(MlflowParam, runs, keys)

    def tags(self, runs: RunScope, keys: Sequence[str] | None = None) -> dict[str, dict[str, str]]:
        return self._key_values(MlflowRunTag, runs, keys)

    def _key_values(
        self, table: type[MlflowParam] | type[MlflowRunTag], runs: RunScope, keys: Sequence[str] | None
    ) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {run_id: {} for run_id in runs} if isinstance(runs, list) else {}
        if keys is not None and not keys:
            return found
        for scope in _scopes(runs):
            statement = select(table.run_id, table.key, table.value).where(table.run_id.in_(scope))
            if keys is not None:
                statement = statement.where(table.key.in_(sorted(set(keys))))
            for row in self.session.execute(statement):
                found.setdefault(row.run_id, {})[row.key] = row.value
        return found

    def latest_metrics(self, runs: RunScope, keys: Sequence[str] | None = None) -> dict[str, list[MlflowLatestMetric]]:
        """The runs' latest metric values by run id: all of them, or those of `keys` only."""
        found: dict[str, list[MlflowLatestMetric]] = {run_id: [] for run_id in runs} if isinstance(runs, list) else {}
        if keys is not None and not keys:
            return found
        for scope in _scopes(runs):
            statement = select(MlflowLatestMetric).where(MlflowLatestMetric.run_id.in_(scope))
            if keys is not None:
                statement = statement.where(MlflowLatestMetric.key.in_(sorted(set(keys))))
            for metric in self.session.scalars(statement):
                found.setdefault(metric.run_id, []).append(metric)
        return found

    def metric_history(self, run_id: str, key: str) -> Sequence[MlflowMetric]:
        return self.session.scalars(
            select(MlflowMetric)
            .where(MlflowMetric.run_id == run_id, MlflowMetric.key == key)
            .order_by(MlflowMetric.step, MlflowMetric.timestamp, MlflowMetric.id)
        ).all()

    def param(self, run_id: str, key: str) -> MlflowParam | None:
        return self.session.get(MlflowParam, (run_id, key))

    def tag(self, run_id: str, key: str) -> MlflowRunTag | None:
        return self.session.get(MlflowRunTag, (run_id, key))

    def delete_tag(self, tag: MlflowRunTag) -> None:
        self.session.delete(tag)
        self.session.flush()

    def add_metric(self, run_id: str, key: str, value: float, is_nan: bool, timestamp: int, step: int) -> None:
        """Keep the value in the metric's history and make it the latest value unless a later one is stored (a
        higher step, then a later timestamp, then a larger value; NaN is the smallest). One statement, so two
        requests logging the same metric at once cannot both insert its latest value."""
        values = {"run_id": run_id, "key": key, "value": value, "is_nan": is_nan, "timestamp": timestamp, "step": step}
        self.session.execute(insert(MlflowMetric).values(**values))
        dialect_insert = postgresql_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(MlflowLatestMetric).values(**values)
        new, old = statement.excluded, MlflowLatestMetric
        larger_value = or_(old.is_nan, and_(~new.is_nan, new.value >= old.value))
        later = or_(
            new.step > old.step,
            and_(new.step == old.step, or_(new.timestamp > old.timestamp,
                                           and_(new.timestamp == old.timestamp, larger_value))),
        )  # fmt: skip
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[old.run_id, old.key],
                set_={"value": new.value, "is_nan": new.is_nan, "timestamp": new.timestamp, "step": new.step},
                where=later,
            )
        )

    # -- artifacts ---------------------------------------------------------------------------
    def artifact(self, run_id: str, path: str) -> MlflowArtifact | None:
        return self.session.scalar(
            select(MlflowArtifact).where(MlflowArtifact.run_id == run_id, MlflowArtifact.path == path)
        )

    def artifacts_under(self, run_id: str, folder: str) -> Sequence[MlflowArtifact]:
        """The run's artifacts inside `folder` (all of them for ""), in path order."""
        statement = select(MlflowArtifact).where(MlflowArtifact.run_id == run_id)
        if folder:
            statement = statement.where(MlflowArtifact.path.startswith(folder.rstrip("/") + "/", autoescape=True))
        return self.session.scalars(statement.order_by(MlflowArtifact.path)).all()

    def delete_artifacts(self, artifacts: Iterable[MlflowArtifact]) -> None:
        ids = [artifact.id for artifact in artifacts]
        for chunk in _chunks(ids):
            self.session.execute(delete(MlflowArtifact).where(MlflowArtifact.id.in_(chunk)))
        self.session.flush()

    # -- writes ------------------------------------------------------------------------------
    def add(self, row: object) -> None:
        self.session.add(row)
        self.session.flush()

    def add_all(self, rows: Iterable[object]) -> None:
        self.session.add_all(list(rows))
        self.session.flush()


def _scopes(runs: RunScope) -> Iterable[list[str] | Select[Any]]:
    """The run-id lists to query with: a query of ids as it is, a list of ids in chunks."""
    if isinstance(runs, list):
        yield from _chunks(runs)
    else:
        yield runs


def _chunks(values: Sequence[T]) -> Iterable[list[T]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])
