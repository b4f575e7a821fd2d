"""RFC 9457 problem documents for every error the API returns."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelyard.api.transfers import TransferAborted
from modelyard.errors import ModelyardError
from modelyard.kit.messages import without_server_path
from modelyard.mlflow.errors import error_body, error_code_of, is_mlflow_path, status_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("modelyard.api")


def problem(request: Request, status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://modelyard.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def mlflow_error(request: Request, status: int, error_code: str, message: str, code: str, **extra: Any) -> JSONResponse:
    """MLflow's error document, for MLflow's paths: its client reads `error_code` and `message`; `code` and the
    request id are ours, as in problem documents."""
    body = error_body(error_code, message, code=code, request_id=getattr(request.state, "request_id", None), **extra)
    return JSONResponse(body, status_code=status_of(error_code, status))


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelyardError)
    async def domain_error(request: Request, error: ModelyardError) -> JSONResponse:
        return domain_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_name(item.get("loc", ())), "message": item.get("msg", ""), "type": item.get("type")}
            for item in error.errors()
        ]
        summary = "; ".join(f"{item['field']}: {item['message']}" for item in errors[:5])
        if is_mlflow_path(request.url.path):
            message = f"invalid request parameters: {summary}"
            return mlflow_error(request, 400, "INVALID_PARAMETER_VALUE", message, "validation_error", errors=errors)
        return problem(
            request, 422, "validation_error", "Request validation failed", f"fix these fields: {summary}", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        detail = str(error.detail)
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no API route {request.method} {request.url.path}; see /docs for the routes"
        if is_mlflow_path(request.url.path):
            error_code = "ENDPOINT_NOT_FOUND" if error.status_code in (404, 405) else "BAD_REQUEST"
            return mlflow_error(request, error.status_code, error_code, detail, code)
        return problem(request, error.status_code, code, detail, detail)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        return unexpected_error_response(request, error)


def domain_error_response(request: Request, error: ModelyardError) -> JSONResponse:
    """A domain error as the caller reads it: MLflow's error document on MLflow's paths, else a problem."""
    if error.status >= 500:
        log.error("api.error", code=error.code, detail=error.message, path=request.url.path)
    # A last guard: no message shows where the server keeps its data (the messages name uploads instead).
    detail = without_server_path(error.message, request.app.state.context.settings.data_dir, "<data>")
    if is_mlflow_path(request.url.path):
        return mlflow_error(request, error.status, error_code_of(error), detail, error.code, **error.extra)
    return problem(request, error.status, error.code, error.title, detail, **error.extra)


def unexpected_error_response(request: Request, error: Exception) -> JSONResponse:
    """A 500 that names the request id and nothing of the failure (logged with its traceback)."""
    if isinstance(error, TransferAborted):  # the body had started: no answer can be sent, the connection ends
        log.warning("api.transfer_aborted", path=request.url.path, reason=str(error))
        return problem(request, 500, "transfer_aborted", "Transfer aborted", str(error))
    log.exception("api.unhandled", path=request.url.path, exc_info=error)
    if is_mlflow_path(request.url.path):
        message = "the server failed unexpectedly; the request id identifies it in the server log"
        return mlflow_error(request, 500, "INTERNAL_ERROR", message, "internal_error")
    return problem(
        request,
        500,
        "internal_error",
        "Internal error",
        "the server failed unexpectedly; the request id identifies it in the server log",
    )
