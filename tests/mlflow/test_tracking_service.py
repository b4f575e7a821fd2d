"""The tracking service on SQLite and PostgreSQL: latest metric values, searches, and what a token limited to
projects sees of experiments created through MLflow."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session

from modelyard.auth.access import ProjectAccess
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.errors import NotFound
from modelyard.mlflow.filters import parse_filter, parse_order_by
from modelyard.mlflow.tracking_service import LoggedMetric, TrackingService
from modelyard.storage.service import FileService


def _service(session: Session, context: AppContext, access: ProjectAccess | None = None) -> TrackingService:
    return TrackingService(session, FileService(session, context.store), "ana", access or ProjectAccess())


def test_the_latest_value_is_the_highest_step_whatever_the_order_of_logging(context: AppContext) -> None:
    with transaction(context.db.sessions) as session:
        service = _service(session, context)
        run_id = service.create_run("0", "r", None, 1000, {}).run_id
        for step, value in ((2, 0.5), (1, 0.9), (2, math.nan), (0, 0.1)):
            service.log_batch(run_id, [LoggedMetric("loss", value, 2000 + step, step)], {}, {})
    with transaction(context.db.read_sessions) as session:
        service = _service(session, context)
        latest = service.run(run_id).metrics["loss"]
        history = service.metric_history(run_id, "loss")
    assert (latest.step, latest.value) == (2, 0.5)
    assert [(metric.step, metric.value) for metric in history if not math.isnan(metric.value)] == [
        (0, 0.1),
        (1, 0.9),
        (2, 0.5),
    ]
    assert sum(math.isnan(metric.value) for metric in history) == 1


def test_search_filters_orders_and_pages_on_both_databases(context: AppContext) -> None:
    with transaction(context.db.sessions) as session:
        service = _service(session, context)
        experiment_id = service.create_experiment("grid", {})
        for index, rate in enumerate(("0.1", "0.01", "0.001")):
            run_id = service.create_run(experiment_id, f"run-{index}", None, 1000 + index, {"team": "a"}).run_id
            service.log_batch(run_id, [LoggedMetric("accuracy", 0.5 + index / 10, 0, 0)], {"lr": rate}, {})
    order = parse_order_by(["metrics.accuracy DESC"])
    with transaction(context.db.read_sessions) as session:
        service = _service(session, context)
        found = parse_filter("params.lr != '0.1' AND tags.team = 'a'")
        first, token = service.search_runs([experiment_id], found, order, "ACTIVE_ONLY", 1, None)
        second, last_token = service.search_runs([experiment_id], found, order, "ACTIVE_ONLY", 1, token)
    assert [run.run_name for run in first + second] == ["run-2", "run-1"]
    assert token is not None and last_token is None


def test_a_token_limited_to_projects_does_not_see_experiments_made_through_mlflow(context: AppContext) -> None:
    with transaction(context.db.sessions) as session:
        experiment_id = _service(session, context).create_experiment("private", {})
    limited = ProjectAccess(frozenset({"some-project"}))
    with transaction(context.db.read_sessions) as session:
        service = _service(session, context, limited)
        experiments, _ = service.search_experiments(parse_filter(None), [], "ALL", 100, None)
        assert experiments == []
        with pytest.raises(NotFound):
            service.experiment(experiment_id)


def test_an_experiment_id_of_other_digits_than_ascii_does_not_exist(context: AppContext) -> None:
    with transaction(context.db.read_sessions) as session, pytest.raises(NotFound):
        _service(session, context).experiment("\u00b9")
