"""A synchronous httpx transport that serves requests from the modelyard app in this process.

The app (and its lifespan: migrations, and the job runner when asked) runs on an event loop in a daemon thread, so
the sync Client, the CLI and notebooks work with no server. Responses stream: the body reaches the caller chunk by
chunk as the app sends it, so Server-Sent Events (job status, live logs) arrive as they happen, as they do from a
server. (httpx's own ASGITransport is async-only and collects the whole body before it returns.) A client that is
never closed is closed at interpreter exit and never blocks it.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal
from anyio.streams.memory import MemoryObjectReceiveStream

# Chunks the app may send ahead of the reader before its `send` waits: bounded, so a large download never sits in
# memory whole.
BODY_BUFFER_CHUNKS = 16
Message = dict[str, Any]


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._app = app
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
        portal = self._portal
        assert portal is not None, "the in-process transport is closed"
        exchange = _Exchange(self._app, _asgi_scope(request), request.read())
        finished, (status, headers, first_chunk, rest) = portal.start_task(exchange.run)
        if rest is None:  # the whole body came with the first chunk: no stream to hand over
            finished.result()  # the app's errors, and the end of its work after the response (background tasks)
            return httpx.Response(status, headers=headers, content=first_chunk)
        body = _StreamedBody(portal, exchange, finished, first_chunk, rest)
        return httpx.Response(status, headers=headers, stream=body)

    def close(self) -> None:
        portal, self._portal = self._portal, None
        if portal is None:
            return
        atexit.unregister(self.close)
        try:
            self._lifespan.__exit__(None, None, None)
        finally:
            portal.call(portal.stop, True)
            self._thread.join(timeout=10)


class _Exchange:
    """One request as the app sees it over ASGI; lives on the portal's event loop."""

    def __init__(self, app: Any, scope: Message, body: bytes) -> None:
        self._app = app
        self._scope = scope
        self._body = body
        self._request_sent = False
        self._disconnected: anyio.Event | None = None

    async def run(self, *, task_status: TaskStatus[Any]) -> None:
        """Run the app; report (status, headers, first chunk, stream of the rest or None) once the body begins."""
        self._disconnected = anyio.Event()
        chunks_in, chunks_out = anyio.create_memory_object_stream[bytes](BODY_BUFFER_CHUNKS)
        start: Message | None = None
        reported = False

        async def receive() -> Message:
            if not self._request_sent:
                self._request_sent = True
                return {"type": "http.request", "body": self._body, "more_body": False}
            assert self._disconnected is not None
            await self._disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal start, reported
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                return
            chunk, more = bytes(message.get("body", b"")), message.get("more_body", False)
            if not reported:
                reported = True
                task_status.started((start["status"], start.get("headers", []), chunk, chunks_out if more else None))
            elif chunk:
                try:
                    await chunks_in.send(chunk)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    pass  # the reader went away; the app hears of it from `receive`
            if not more:
                await chunks_in.aclose()

        async with chunks_in:
            await self._app(self._scope, receive, send)
        if not reported:  # a response without a body message (the app ended after its start, or sent nothing)
            if start is None:
                raise RuntimeError("the app finished without sending a response")
            task_status.started((start["status"], start.get("headers", []), b"", None))

    def disconnect(self) -> None:
        if self._disconnected is not None:
            self._disconnected.set()


class _StreamedBody(httpx.SyncByteStream):
    """The body of a streamed response, read from the event loop's thread one chunk at a time."""

    def __init__(
        self,
        portal: BlockingPortal,
        exchange: _Exchange,
        finished: Future[None],
        first_chunk: bytes,
        rest: MemoryObjectReceiveStream[bytes],
    ) -> None:
        self._portal = portal
        self._exchange = exchange
        self._finished = finished
        self._first_chunk = first_chunk
        self._rest = rest

    def __iter__(self) -> Iterator[bytes]:
        if self._first_chunk:
            yield self._first_chunk
        while True:
            try:
                chunk = self._portal.call(self._rest.receive)
            except anyio.EndOfStream:
                break
            yield chunk
        self._finished.result()

    def close(self) -> None:
        # The caller stopped reading (or read to the end): tell the app the client is gone, as a server would.
        if self._finished.done():
            return
        try:
            self._portal.call(self._close_on_loop)
        except RuntimeError:
            pass  # the transport (and its event loop) closed first; its tasks were cancelled with it

    def _close_on_loop(self) -> None:
        self._exchange.disconnect()
        self._rest.close()


def _asgi_scope(request: httpx.Request) -> Message:
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "scheme": url.scheme,
        "path": unquote(url.path),
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "client": ("127.0.0.1", 0),
        "root_path": "",
        # No network peer can send this request: the guard skips its Host and address checks (IN_PROCESS_SCOPE_KEY).
        "modelyard.in_process": True,
    }
