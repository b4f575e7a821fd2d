"""MLflow's error format for every answer under its API paths: `{"error_code": ..., "message": ...}` with the
HTTP status MLflow's client expects for that code.

Our own domain errors keep their meaning and change only their clothes: NotFound is RESOURCE_DOES_NOT_EXIST
(404), InvalidInput INVALID_PARAMETER_VALUE (400), a duplicate name RESOURCE_ALREADY_EXISTS (400), any other
conflict RESOURCE_CONFLICT (409), and so on. `MlflowError` says an MLflow code outright.
"""

from __future__ import annotations

from typing import Any

from modelyard.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    ModelyardError,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)

# The statuses MLflow's server answers for its codes (its client reads the code, and retries 429 and 5xx).
ERROR_STATUS: dict[str, int] = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
}
PATH_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/")


class MlflowError(ModelyardError):
    """An error answered with an MLflow error code (`INVALID_PARAMETER_VALUE`, `RESOURCE_DOES_NOT_EXIST`, ...)."""

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE") -> None:
        super().__init__(message, code=error_code.lower())
        self.error_code = error_code
        self.status = ERROR_STATUS[error_code]


def invalid_parameter(message: str) -> MlflowError:
    return MlflowError(message, "INVALID_PARAMETER_VALUE")


def is_mlflow_path(path: str) -> bool:
    return path.startswith(PATH_PREFIXES)


def error_code_of(error: ModelyardError) -> str:
    """The MLflow code of one of our errors."""
    if isinstance(error, MlflowError):
        return error.error_code
    if isinstance(error, NotFound):
        return "RESOURCE_DOES_NOT_EXIST"
    if isinstance(error, InvalidInput):
        return "INVALID_PARAMETER_VALUE"
    if isinstance(error, Conflict):
        return "RESOURCE_ALREADY_EXISTS" if "already exists" in error.message else "RESOURCE_CONFLICT"
    if isinstance(error, Unauthorized):
        return "UNAUTHENTICATED"
    if isinstance(error, Forbidden):
        return "PERMISSION_DENIED"
    if isinstance(error, PayloadTooLarge):
        return "RESOURCE_EXHAUSTED"
    return "INTERNAL_ERROR"


def error_body(error_code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error_code": error_code, "message": message, **extra}


def status_of(error_code: str, fallback: int) -> int:
    """MLflow's status for the code; our own status when the error is one MLflow has no code for (401, 413)."""
    if error_code in ("INTERNAL_ERROR", "RESOURCE_EXHAUSTED", "UNAUTHENTICATED", "PERMISSION_DENIED"):
        return fallback
    return ERROR_STATUS.get(error_code, fallback)
