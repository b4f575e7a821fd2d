"""The Python SDK: `modelyard.Client`, over httpx, with typed results.

client = Client()                                   # in-process, on the local data directory
client = Client("http://127.0.0.1:8000", token=...)  # a running server
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from modelyard.errors import InvalidInput
from modelyard.sdk.errors import ApiError

T = TypeVar("T", bound=BaseModel)
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
LOCAL_BASE_URL = "http://modelyard.local"


class Client:
    """Entry point of the SDK; resources hang off it (`client.projects`, `client.datasets`, `client.jobs`).

    With no `base_url` (and no MODELYARD_SERVER), the API runs in this process on the local data
    directory (`settings`, default from the environment); `run_jobs=True` then also runs a job
    runner here for as long as the client is open.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        settings: Any = None,
        run_jobs: bool = False,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        base_url = base_url or os.environ.get("MODELYARD_SERVER") or None
        self._owned_transport: httpx.BaseTransport | None = None
        if transport is None and base_url is None:
            transport = self._owned_transport = _local_transport(settings, run_jobs)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url or LOCAL_BASE_URL
        self._http = httpx.Client(
            base_url=f"{self.base_url.rstrip('/')}/api/v1", headers=headers, transport=transport, timeout=timeout
        )
        from modelyard.sdk.datasets import Datasets
        from modelyard.sdk.pipelines import Pipelines
        from modelyard.sdk.registry import Registry
        from modelyard.sdk.resources import Architectures, Files, Jobs, Projects, Tokens
        from modelyard.sdk.revisions import ModelRevisions

        self.architectures = Architectures(self)
        self.projects = Projects(self)
        self.datasets = Datasets(self)
        self.models = ModelRevisions(self)
        self.jobs = Jobs(self)
        self.files = Files(self)
        self.registry = Registry(self)
        self.pipelines = Pipelines(self)
        self.tokens = Tokens(self)

    @property
    def timeout(self) -> httpx.Timeout:
        return self._http.timeout

    @property
    def is_local(self) -> bool:
        return self._owned_transport is not None

    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = self.request("GET", "/health", allow_statuses=(503,)).json()
        return health

    # -- plumbing shared by the resources ----------------------------------------------------
    def request(self, method: str, path: str, *, allow_statuses: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        _check_path(path)
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400 and response.status_code not in allow_statuses:
            raise _api_error(response)
        _refuse_redirect(response)
        return response

    def get_model(self, model: type[T], path: str, **kwargs: Any) -> T:
        return model.model_validate(self.request("GET", path, **kwargs).json())

    def send_model(self, model: type[T], method: str, path: str, **kwargs: Any) -> T:
        return model.model_validate(self.request(method, path, **kwargs).json())

    @contextmanager
    def stream(
        self, method: str, path: str, *, accept_redirect: bool = False, **kwargs: Any
    ) -> Iterator[httpx.Response]:
        """A streamed response; problem documents are raised as ApiError before any byte is read. A redirect
        is handed back only where the caller asked for one (`accept_redirect`)."""
        _check_path(path)
        with self._http.stream(method, path, **kwargs) as response:
            if response.status_code >= 400:
                response.read()
                raise _api_error(response)
            if not (accept_redirect and response.status_code == 307):
                _refuse_redirect(response)
            yield response

    def stream_events(self, path: str, **params: Any) -> Iterator[tuple[str, Any]]:
        """Server-Sent Events as (event name, JSON data) pairs, as they arrive; keep-alive comments are skipped."""
        from httpx_sse import EventSource

        with self.stream("GET", path, params=params, timeout=None) as response:
            for event in EventSource(response).iter_sse():
                yield event.event, event.json()

    def poll(self, interval: float) -> None:
        time.sleep(interval)

    def close(self) -> None:
        self._http.close()
        if self._owned_transport is not None:
            self._owned_transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _local_transport(settings: Any, run_jobs: bool) -> httpx.BaseTransport:
    from modelyard.app import create_app
    from modelyard.config import Settings
    from modelyard.logging import configure_logging
    from modelyard.sdk.transport import InProcessTransport

    # In-process, the server's info logs would mix with the caller's output: keep warnings only.
    configure_logging("warning")
    app = create_app(settings or Settings(), run_jobs=run_jobs, configure_logs=False)
    return InProcessTransport(app)


def _check_path(path: str) -> None:
    """Refuse a path with an empty segment: a name or reference that was empty or ended in '/' (`m/`) would
    reach another route, or a redirect, instead of the thing it names."""
    if "" in path.partition("?")[0].split("/")[1:]:
        raise InvalidInput(
            f"a name, id or reference is empty or ends with '/' (request path {path}): give it whole, e.g. digits/4"
        )


def _refuse_redirect(response: httpx.Response) -> None:
    # The API never redirects; a 3xx would be a route that does not exist, and must not read as success.
    if response.is_redirect:
        raise ApiError(response.status_code, "no_route", f"no API route {response.request.method} "
                       f"{response.request.url.path}", {})  # fmt: skip


def _api_error(response: httpx.Response) -> ApiError:
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text or response.reason_phrase}
    if not isinstance(problem, dict):
        problem = {"detail": str(problem)}
    return ApiError(
        response.status_code,
        str(problem.get("code", "http_error")),
        str(problem.get("detail") or problem.get("title") or response.reason_phrase),
        problem,
    )
