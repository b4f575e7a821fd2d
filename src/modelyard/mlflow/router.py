"""MLflow's REST API in one router, served under `/api/2.0/mlflow` and, for MLflow's own web pages,
`/ajax-api/2.0/mlflow` (the same handlers; only the first is in the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

MLFLOW_PREFIX = "/api/2.0/mlflow"
MLFLOW_AJAX_PREFIX = "/ajax-api/2.0/mlflow"
MLFLOW_ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts"


def mlflow_router() -> APIRouter:
    from modelyard.mlflow.registry_endpoints import router as registry
    from modelyard.mlflow.tracking_endpoints import router as tracking

    router = APIRouter()
    for domain in (registry, tracking):
        router.include_router(domain)
    return router


def install_mlflow(app: FastAPI) -> None:
    router = mlflow_router()
    app.include_router(router, prefix=MLFLOW_PREFIX)
    app.include_router(router, prefix=MLFLOW_AJAX_PREFIX, include_in_schema=False)
    from modelyard.mlflow.artifact_endpoints import router as artifacts

    app.include_router(artifacts, prefix=MLFLOW_ARTIFACTS_PREFIX)
