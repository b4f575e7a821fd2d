"""A synchronous httpx transport that serves requests from the modelyard app in this process.

httpx's ASGITransport is async-only; this one runs the app (and its lifespan: migrations) on an
event loop in a background thread, so the sync Client, the CLI and notebooks work with no server.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._app = app
        self._asgi = httpx.ASGITransport(app=app)
        self._portal_manager: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._portal_manager.__enter__()
        self._lifespan = self._portal.wrap_async_context_manager(app.router.lifespan_context(app))
        self._lifespan.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        async_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=body, extensions=request.extensions
        )
        response = self._portal.call(self._asgi.handle_async_request, async_request)
        content = self._portal.call(response.aread)
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def close(self) -> None:
        if self._portal_manager is None:
            return
        try:
            self._lifespan.__exit__(None, None, None)
        finally:
            self._portal_manager.__exit__(None, None, None)
            self._portal_manager = None  # type: ignore[assignment]
