"""A synchronous httpx transport that serves requests from the modelyard app in this process.

httpx's ASGITransport is async-only; this one runs the app (and its lifespan: migrations, and the job
runner when asked) on an event loop in a daemon thread, so the sync Client, the CLI and notebooks work
with no server. A client that is never closed is closed at interpreter exit and never blocks it.
"""

from __future__ import annotations

import atexit
import threading
from contextlib import AbstractContextManager
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal: BlockingPortal | None = None
        ready = threading.Event()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                self._portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        self._thread = threading.Thread(target=anyio.run, args=(serve,), name="modelyard-in-process", daemon=True)
        self._thread.start()
        ready.wait()
        assert self._portal is not None
        self._lifespan: AbstractContextManager[Any] = self._portal.wrap_async_context_manager(
            app.router.lifespan_context(app)
        )
        self._lifespan.__enter__()
        atexit.register(self.close)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert self._portal is not None, "the in-process transport is closed"
        async_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read(), extensions=request.extensions
        )
        response = self._portal.call(self._asgi.handle_async_request, async_request)
        content = self._portal.call(response.aread)
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def close(self) -> None:
        portal, self._portal = self._portal, None
        if portal is None:
            return
        atexit.unregister(self.close)
        try:
            self._lifespan.__exit__(None, None, None)
        finally:
            portal.call(portal.stop)
            self._thread.join(timeout=10)
