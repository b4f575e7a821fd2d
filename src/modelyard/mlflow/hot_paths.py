"""The calls MLflow's client makes most (get a version by alias or number, search versions and registered models,
create a version), answered in one step: pure ASGI, one worker-thread hop that opens the session, asks the
service, commits and builds the JSON bytes.

The same requests also have FastAPI routes (registry_endpoints.py): they are what the OpenAPI document shows and
what answers anything this module does not take. For these calls FastAPI's own work (matching the path against
every route, solving a dozen dependencies, validating query parameters through models, a thread hop for the
endpoint and another for the commit) costs more than the lookup itself. What stays the same:

- everything outside the router still runs first: the request guard (hosts, loopback, CSRF, JSON body limit), the
  request id and its log line, the input limits;
- the caller is found by the same authenticator and needs the scope its route declares (read from the route, so
  the two cannot drift apart);
- answers and errors are the route's: the same service calls, the same JSON, and domain errors rendered by the
  app's own handlers. A request that is not plainly well-formed (a missing or repeated field, a number that does
  not parse, a body that is not a JSON object) is handed to the route unchanged, so its refusal is the route's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import ValidationError
from pydantic_core import to_json
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.api.problems import domain_error_response, unexpected_error_response
from modelyard.auth.access import Principal
from modelyard.auth.access import Scope as AccessScope
from modelyard.auth.dependencies import REQUIRED_SCOPE, forbid_unless
from modelyard.auth.service import SESSION_COOKIE
from modelyard.context import AppContext
from modelyard.errors import ModelyardError
from modelyard.mlflow.registry_service import MlflowRegistry
from modelyard.mlflow.registry_views import search_answer, version_json
from modelyard.mlflow.router import MLFLOW_AJAX_PREFIX, MLFLOW_PREFIX
from modelyard.registry.service import RegistryService
from modelyard.storage.service import FileService

JSON_HEADERS = [(b"content-type", b"application/json")]
# What the service is asked, made from the request's fields.
Work = Callable[[MlflowRegistry], dict[str, Any]]


class _NotPlain(Exception):
    """A request this module leaves to its FastAPI route."""


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    if values is None or len(values) != 1:
        raise _NotPlain
    return values[0]


def _optional(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise _NotPlain
    return values[0]


def _optional_int(fields: dict[str, list[str]], name: str) -> int | None:
    value = _optional(fields, name)
    if value is None:
        return None
    text = value.strip()
    if not text.lstrip("-").isdigit() or len(text) > 18:
        raise _NotPlain
    return int(text)


# -- the calls -----------------------------------------------------------------------------------
def _version_by_alias(fields: dict[str, list[str]]) -> Work:
    name, alias = _one(fields, "name"), _one(fields, "alias")
    return lambda service: {"model_version": service.version_body_by_alias(name, alias)}


def _get_version(fields: dict[str, list[str]]) -> Work:
    name, version = _one(fields, "name"), _one(fields, "version")
    return lambda service: {"model_version": service.version_body(name, version)}


def _get_model(fields: dict[str, list[str]]) -> Work:
    name = _one(fields, "name")
    return lambda service: {"registered_model": service.model_body(service.get_model(name))}


def _search_versions(fields: dict[str, list[str]]) -> Work:
    filter_string, page_token = _optional(fields, "filter"), _optional(fields, "page_token")
    max_results, order_by = _optional_int(fields, "max_results"), fields.get("order_by")

    def work(service: MlflowRegistry) -> dict[str, Any]:
        versions, token = service.search_versions(filter_string, max_results, order_by, page_token)
        return search_answer("model_versions", versions, token)

    return work


def _search_models(fields: dict[str, list[str]]) -> Work:
    filter_string, page_token = _optional(fields, "filter"), _optional(fields, "page_token")
    max_results, order_by = _optional_int(fields, "max_results"), fields.get("order_by")

    def work(service: MlflowRegistry) -> dict[str, Any]:
        models, token = service.search_models(filter_string, max_results, order_by, page_token)
        return search_answer("registered_models", models, token)

    return work


def _create_version(body: dict[str, Any]) -> Work:
    from modelyard.mlflow.registry_endpoints import CreateVersion

    try:
        request = CreateVersion.model_validate(body)
    except ValidationError:
        raise _NotPlain from None

    def work(service: MlflowRegistry) -> dict[str, Any]:
        version = service.create_version(
            request.name, request.source, run_id=request.run_id, run_link=request.run_link,
            description=request.description, tags={tag.key: tag.value for tag in request.tags},
        )  # fmt: skip
        return {"model_version": version_json(version)}

    return work


READS: dict[str, Callable[[dict[str, list[str]]], Work]] = {
    "/registered-models/alias": _version_by_alias,
    "/model-versions/get": _get_version,
    "/registered-models/get": _get_model,
    "/model-versions/search": _search_versions,
    "/registered-models/search": _search_models,
}
WRITES: dict[str, Callable[[dict[str, Any]], Work]] = {"/model-versions/create": _create_version}
# Reads answered by the registry's hand-written SQL alone (the ORM only for a refusal): they read on a pooled
# connection of their own, in one transaction, without the session's machinery. A registered model is read
# through the ORM, so its whole answer stays in the session's one transaction.
SQL_READS = frozenset({"/registered-models/alias", "/model-versions/get", "/model-versions/search",
                       "/registered-models/search"})  # fmt: skip


@dataclass(frozen=True)
class HotPath:
    method: str
    scope: AccessScope
    read: Callable[[Any], Work]  # the request's fields (query) or JSON body -> the call; raises _NotPlain
    sql_only: bool = False  # one of SQL_READS


def hot_paths(app: ASGIApp) -> dict[str, HotPath]:
    """Each hot path under both MLflow prefixes, with the scope its FastAPI route declares."""
    declared: dict[tuple[str, str], AccessScope] = {}
    for context in iter_route_contexts(getattr(app, "routes", [])):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for dependency in route.dependant.dependencies:
            scope = getattr(dependency.call, REQUIRED_SCOPE, None)
            if scope is not None:
                declared.update({(method, str(context.path_format)): scope for method in route.methods or ()})
    found = {}
    for method, calls in (("GET", READS), ("POST", WRITES)):
        for suffix, read in calls.items():
            for prefix in (MLFLOW_PREFIX, MLFLOW_AJAX_PREFIX):
                scope = declared.get((method, prefix + suffix))
                if scope is None:
                    raise RuntimeError(f"{method} {prefix}{suffix} has no route declaring its scope")
                found[prefix + suffix] = HotPath(method, scope, read, sql_only=suffix in SQL_READS)
    return found


def install_hot_paths(app: FastAPI, context: AppContext) -> None:
    """Add the hot paths as the innermost middleware: call before any other `add_middleware` (each one added later
    wraps those before it)."""
    app.add_middleware(MlflowHotPaths, context=context, routes=app)


class MlflowHotPaths:
    """Pure ASGI, innermost of the app's middleware (inside the guard and the request context): answers the hot
    MLflow calls, hands everything else to the router."""

    def __init__(self, app: ASGIApp, context: AppContext, routes: ASGIApp) -> None:
        self.app = app
        self.context = context
        self.routes = routes
        self.paths: dict[str, HotPath] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.paths is None:
            self.paths = hot_paths(self.routes)  # routes are complete once the app serves
        hot = self.paths.get(scope["path"])
        if hot is None or hot.method != scope["method"]:
            await self.app(scope, receive, send)
            return
        if hot.method == "GET":
            fields = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            await self._answer(scope, receive, send, hot, fields, write=False)
            return
        body = await _read_body(receive)
        try:
            fields_or_body = json.loads(body) if body else None
        except ValueError:
            fields_or_body = None
        if not isinstance(fields_or_body, dict):
            await self.app(scope, _replay(body, receive), send)
            return
        await self._answer(scope, _replay(body, receive), send, hot, fields_or_body, write=True)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, hot: HotPath, fields: Any,
                      *, write: bool) -> None:  # fmt: skip
        try:
            work = hot.read(fields)
        except _NotPlain:
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(scope)
            forbid_unless(principal, hot.scope)
            run = self._read_sql if hot.sql_only else functools.partial(self._run, write=write)
            body = await anyio.to_thread.run_sync(run, work, principal)
        except ModelyardError as error:
            response = domain_error_response(Request(scope, receive), error)
            await response(scope, receive, send)
            return
        except Exception as error:  # noqa: BLE001 - answered as every route's unexpected error is
            response = unexpected_error_response(Request(scope, receive), error)
            await response(scope, receive, send)
            return
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _principal(self, scope: Scope) -> Principal:
        headers = Headers(scope=scope)
        cookie = headers.get("cookie")
        session_cookie = cookie_parser(cookie).get(SESSION_COOKIE) if cookie else None
        principal = await self.context.auth.principal_for(headers.get("authorization"), session_cookie)
        scope.setdefault("state", {})["principal"] = principal
        return principal

    def _read_sql(self, work: Work, principal: Principal) -> bytes:
        """A read of SQL_READS in one worker thread: its SQL on a read connection, a session only for what the
        ORM answers (a refusal), JSON bytes."""
        database = self.context.db
        with database.read_connection() as connection:
            session: Session = database.read_sessions()
            try:
                files = FileService(session, self.context.store)
                registry = RegistryService(session, files, principal.user, principal.access)
                answer = work(MlflowRegistry(registry, connection))
            finally:
                session.close()
        return to_json(answer)

    def _run(self, work: Work, principal: Principal, *, write: bool) -> bytes:
        """Session, service call, commit and JSON in one worker thread: the thread that takes SQLite's write lock
        is the one that commits and releases it."""
        database = self.context.db
        session: Session = (database.sessions if write else database.read_sessions)()
        try:
            files = FileService(session, self.context.store)
            service = MlflowRegistry(RegistryService(session, files, principal.user, principal.access))
            answer = work(service)
            if write:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        return to_json(answer)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the body already read to whoever reads the request next, then waits as `receive`
    does (for the disconnect)."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying
