"""MLflow's tracking API (experiments, runs, metrics), mounted by the MLflow router under `/api/2.0/mlflow`
and `/ajax-api/2.0/mlflow`. HTTP only: each route reads MLflow's request and answers MLflow's JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from modelyard.api.deps import Actor, DbSession, Files
from modelyard.auth.dependencies import Access, Requires
from modelyard.errors import InvalidInput
from modelyard.mlflow.filters import parse_filter, parse_order_by
from modelyard.mlflow.tracking_schemas import (
    MAX_RESULTS,
    CreateExperiment,
    CreateRun,
    DeleteTag,
    ExperimentIdBody,
    LogBatch,
    LogMetric,
    LogParam,
    RunIdBody,
    SearchExperiments,
    SearchRuns,
    SetExperimentTag,
    SetTag,
    UpdateExperiment,
    UpdateRun,
)
from modelyard.mlflow.tracking_service import LoggedMetric, TrackingService
from modelyard.mlflow.tracking_views import ACTIVE, DELETED

router = APIRouter(tags=["mlflow tracking"])
IdQuery = Annotated[str, Query(min_length=1, max_length=64)]


async def tracking_service(session: DbSession, files: Files, actor: Actor, access: Access) -> TrackingService:
    return TrackingService(session, files, actor, access)


Tracking = Annotated[TrackingService, Depends(tracking_service)]


def answer(content: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(content or {})


def _run_id(body: RunIdBody) -> str:
    if not body.run:
        raise InvalidInput("run_id is missing: name the run with run_id")
    return body.run


# -- experiments -------------------------------------------------------------------------------
@router.post("/experiments/create", dependencies=[Requires.write])
def mlflow_create_experiment(body: CreateExperiment, service: Tracking) -> JSONResponse:
    if body.artifact_location:
        raise InvalidInput(
            "artifact_location is chosen by the server (mlflow-artifacts:/EXPERIMENT_ID, stored in modelyard's "
            "artifact store): leave it out"
        )
    experiment_id = service.create_experiment(body.name, {tag.key: tag.value for tag in body.tags})
    return answer({"experiment_id": experiment_id})


@router.get("/experiments/get", dependencies=[Requires.read])
def mlflow_get_experiment(experiment_id: IdQuery, service: Tracking) -> JSONResponse:
    return answer({"experiment": service.experiment(experiment_id).to_json()})


@router.get("/experiments/get-by-name", dependencies=[Requires.read])
def mlflow_get_experiment_by_name(
    experiment_name: Annotated[str, Query(min_length=1, max_length=1024)], service: Tracking
) -> JSONResponse:
    return answer({"experiment": service.experiment_by_name(experiment_name).to_json()})


@router.post("/experiments/search", dependencies=[Requires.read])
def mlflow_search_experiments(body: SearchExperiments, service: Tracking) -> JSONResponse:
    found, token = service.search_experiments(
        parse_filter(body.filter), parse_order_by(body.order_by), body.view_type, body.max_results, body.page_token
    )
    content: dict[str, Any] = {"experiments": [experiment.to_json() for experiment in found]}
    if token:
        content["next_page_token"] = token
    return answer(content)


@router.post("/experiments/update", dependencies=[Requires.write])
def mlflow_update_experiment(body: UpdateExperiment, service: Tracking) -> JSONResponse:
    service.rename_experiment(body.experiment_id, body.new_name)
    return answer()


@router.post("/experiments/delete", dependencies=[Requires.write])
def mlflow_delete_experiment(body: ExperimentIdBody, service: Tracking) -> JSONResponse:
    service.set_experiment_lifecycle(body.experiment_id, DELETED)
    return answer()


@router.post("/experiments/restore", dependencies=[Requires.write])
def mlflow_restore_experiment(body: ExperimentIdBody, service: Tracking) -> JSONResponse:
    service.set_experiment_lifecycle(body.experiment_id, ACTIVE)
    return answer()


@router.post("/experiments/set-experiment-tag", dependencies=[Requires.write])
def mlflow_set_experiment_tag(body: SetExperimentTag, service: Tracking) -> JSONResponse:
    service.set_experiment_tag(body.experiment_id, body.key, body.value)
    return answer()


# -- runs --------------------------------------------------------------------------------------
@router.post("/runs/create", dependencies=[Requires.write])
def mlflow_create_run(body: CreateRun, service: Tracking) -> JSONResponse:
    run = service.create_run(
        body.experiment_id, body.run_name, body.user_id, body.start_time, {tag.key: tag.value for tag in body.tags}
    )
    return answer({"run": run.to_json()})


@router.get("/runs/get", dependencies=[Requires.read])
def mlflow_get_run(service: Tracking, run_id: IdQuery | None = None, run_uuid: IdQuery | None = None) -> JSONResponse:
    return answer({"run": service.run(_run_id(RunIdBody(run_id=run_id, run_uuid=run_uuid))).to_json()})


@router.post("/runs/update", dependencies=[Requires.write])
def mlflow_update_run(body: UpdateRun, service: Tracking) -> JSONResponse:
    run = service.update_run(_run_id(body), body.status, body.end_time, body.run_name)
    return answer({"run_info": run.info_json()})


@router.post("/runs/delete", dependencies=[Requires.write])
def mlflow_delete_run(body: RunIdBody, service: Tracking) -> JSONResponse:
    service.set_run_lifecycle(_run_id(body), DELETED)
    return answer()


@router.post("/runs/restore", dependencies=[Requires.write])
def mlflow_restore_run(body: RunIdBody, service: Tracking) -> JSONResponse:
    service.set_run_lifecycle(_run_id(body), ACTIVE)
    return answer()


@router.post("/runs/log-metric", dependencies=[Requires.write])
def mlflow_log_metric(body: LogMetric, service: Tracking) -> JSONResponse:
    service.log_batch(_run_id(body), [LoggedMetric(body.key, body.value, body.timestamp, body.step)], {}, {})
    return answer()


@router.post("/runs/log-parameter", dependencies=[Requires.write])
def mlflow_log_param(body: LogParam, service: Tracking) -> JSONResponse:
    service.log_batch(_run_id(body), [], {body.key: body.value}, {})
    return answer()


@router.post("/runs/set-tag", dependencies=[Requires.write])
def mlflow_set_tag(body: SetTag, service: Tracking) -> JSONResponse:
    service.log_batch(_run_id(body), [], {}, {body.key: body.value})
    return answer()


@router.post("/runs/delete-tag", dependencies=[Requires.write])
def mlflow_delete_tag(body: DeleteTag, service: Tracking) -> JSONResponse:
    service.delete_tag(body.run_id, body.key)
    return answer()


@router.post("/runs/log-batch", dependencies=[Requires.write])
def mlflow_log_batch(body: LogBatch, service: Tracking) -> JSONResponse:
    params: dict[str, str] = {}
    for param in body.params:
        if params.get(param.key, param.value) != param.value:
            raise InvalidInput(f"param {param.key!r} is given twice with different values in one batch")
        params[param.key] = param.value
    metrics = [LoggedMetric(metric.key, metric.value, metric.timestamp, metric.step) for metric in body.metrics]
    service.log_batch(body.run_id, metrics, params, {tag.key: tag.value for tag in body.tags})
    return answer()


@router.post("/runs/log-inputs", dependencies=[Requires.write])
def mlflow_log_inputs() -> JSONResponse:
    raise InvalidInput(
        "logging dataset inputs (mlflow.log_input) is not supported: log the dataset's name and digest as params "
        "or tags instead"
    )


@router.post("/runs/search", dependencies=[Requires.read])
def mlflow_search_runs(body: SearchRuns, service: Tracking) -> JSONResponse:
    runs, token = service.search_runs(
        body.experiment_ids,
        parse_filter(body.filter),
        parse_order_by(body.order_by),
        body.run_view_type,
        body.max_results,
        body.page_token,
    )
    content: dict[str, Any] = {"runs": [run.to_json() for run in runs]}
    if token:
        content["next_page_token"] = token
    return answer(content)


@router.get("/metrics/get-history", dependencies=[Requires.read])
def mlflow_get_metric_history(
    metric_key: Annotated[str, Query(min_length=1, max_length=250)],
    service: Tracking,
    run_id: IdQuery | None = None,
    run_uuid: IdQuery | None = None,
    max_results: Annotated[int | None, Query(ge=1, le=MAX_RESULTS)] = None,
) -> JSONResponse:
    history = service.metric_history(_run_id(RunIdBody(run_id=run_id, run_uuid=run_uuid)), metric_key)
    return answer({"metrics": [metric.to_json() for metric in history[:max_results]]})


# -- logged models ------------------------------------------------------------------------------
# MLflow 3's logged models are not kept: a model is a run's artifact folder (`mlflow.log_artifacts`) and, once
# registered, a registry version. The client searches them whenever it lists a run's artifacts, so the search
# answers, always empty; creating one is refused with the reason.
@router.post("/logged-models/search", dependencies=[Requires.read])
def mlflow_search_logged_models() -> JSONResponse:
    return answer({"models": []})


@router.post("/logged-models", dependencies=[Requires.write])
def mlflow_create_logged_model() -> JSONResponse:
    raise InvalidInput(
        "logged models (mlflow.<flavor>.log_model with a name) are not supported: log the model's folder with "
        "mlflow.log_artifacts(folder, 'model') and register it with mlflow.register_model('runs:/RUN_ID/model', NAME)"
    )
