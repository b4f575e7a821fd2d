"""Large bodies through the API in one pass, with bounded memory and without blocking the event loop.

- `receive_body`: a raw request body (`Content-Type: application/octet-stream`) is read on the event loop and
  handed, in blocks, to a function running on a worker thread (the store hashes and writes them in one pass),
  so receiving and storing overlap. A body that ends before its `Content-Length` (a client that went away) or
  grows past the upload limit raises in that function, so its transaction rolls back and leaves nothing.
- `read_ahead`: a stored file's chunks are read (and hashed by the store) on a thread of their own, a few
  chunks ahead of the event loop that sends them, so reading, hashing and sending overlap.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TypeVar

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request

from modelyard.errors import InvalidInput, PayloadTooLarge
from modelyard.storage.base import Source

BLOCK_BYTES = 1024 * 1024  # what the receiving loop hands to the storing thread at once
AHEAD = 4  # blocks (or chunks) in flight between the two sides: what bounds the memory of one transfer
RAW_BODY_TYPE = "application/octet-stream"
T = TypeVar("T")
# The request body of the routes that take one file: raw (fast, streamed) or the multipart field `file`.
FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            RAW_BODY_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "The file's bytes."}},
                    "required": ["file"],
                }
            },
        },
    }
}


class TransferAborted(Exception):
    """A response body failed after its first bytes went out (a sha256 mismatch found at the end, a store that
    stopped answering): the connection is closed, so the client sees an incomplete transfer, never a whole one."""


class UploadIncomplete(InvalidInput):
    code = "upload_incomplete"
    title = "Upload incomplete"


def is_raw_body(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == RAW_BODY_TYPE


def declared_length(request: Request, limit: int) -> int | None:
    """The body's `Content-Length` (None when it is chunked); PayloadTooLarge before a byte is read if over `limit`."""
    header = request.headers.get("content-length")
    if header is None or not header.strip().isdigit():
        return None
    length = int(header)
    if length > limit:
        raise PayloadTooLarge(f"file is {length} bytes, the limit is {limit} (MODELYARD_MAX_UPLOAD_BYTES)")
    return length


async def receive_file(request: Request, limit: int, store: Callable[[Source], T]) -> T:
    """Run `store(source)` on a worker thread over the request's file: the raw body as it arrives (one pass:
    the store hashes and writes each block as it comes), or the multipart field `file` once it is parsed."""
    if is_raw_body(request):
        return await receive_body(request, limit, store)
    form = await request.form()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                f"send the file as the raw body (Content-Type: {RAW_BODY_TYPE}) or as the multipart field `file`"
            )
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"file is {upload.size} bytes, the limit is {limit} (MODELYARD_MAX_UPLOAD_BYTES)")
        return await run_in_threadpool(store, upload.file)
    finally:
        await form.close()


async def receive_body(request: Request, limit: int, store: Callable[[Iterable[bytes]], T]) -> T:
    """Run `store(blocks)` on a worker thread while the raw body arrives; its result, or its error."""
    blocks = _Blocks(asyncio.get_running_loop(), declared_length(request, limit), limit)
    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(blocks.pump, request)  # never raises: what goes wrong reaches `store` as its error
        try:
            stored = await anyio.to_thread.run_sync(blocks.run, store)
        except Exception as error:  # noqa: BLE001 - raised below, outside the group (which would wrap it)
            failure = error
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return stored


_END = object()


class _Blocks:
    """The body between the event loop (`pump`) and the storing thread (iterating this object)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, length: int | None, limit: int) -> None:
        self._loop, self._length, self._limit = loop, length, limit
        self._ready: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._room = asyncio.Semaphore(AHEAD)
        self._abandoned = False

    async def pump(self, request: Request) -> None:
        """Read the body into blocks; every outcome (the end, a disconnect, a limit) reaches the reader."""
        try:
            received, pending, pending_bytes = 0, list[bytes](), 0
            async for chunk in request.stream():
                received += len(chunk)
                if received > self._limit:
                    raise PayloadTooLarge(f"file is over {self._limit} bytes, the limit (MODELYARD_MAX_UPLOAD_BYTES)")
                pending.append(chunk)
                pending_bytes += len(chunk)
                if pending_bytes >= BLOCK_BYTES:
                    if not await self._hand(pending):
                        return
                    pending, pending_bytes = [], 0
            if self._length is not None and received != self._length:
                raise UploadIncomplete(f"the body ended after {received} of its {self._length} bytes")
            if pending and not await self._hand(pending):
                return
            self._ready.put(_END)
        except ClientDisconnect:
            self._ready.put(UploadIncomplete("the client went away before the whole file arrived"))
        except Exception as error:  # noqa: BLE001 - handed to the storing thread, which raises it
            self._ready.put(error)

    async def _hand(self, chunks: list[bytes]) -> bool:
        await self._room.acquire()
        if self._abandoned:
            return False
        self._ready.put(chunks)
        return True

    def run(self, store: Callable[[Iterable[bytes]], T]) -> T:
        try:
            return store(self)
        finally:
            self._loop.call_soon_threadsafe(self._abandon)

    def _abandon(self) -> None:
        self._abandoned = True
        for _ in range(AHEAD):
            self._room.release()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            self._loop.call_soon_threadsafe(self._room.release)
            chunks: list[bytes] = item  # type: ignore[assignment]
            yield from chunks  # as received: joining them would cost a copy of every byte


def stored_body(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The body of a response that streams a stored file, from a sync endpoint's thread: the first chunk is read
    here, so a file that fails its check within it (any small file) is refused with a problem document before
    a header goes out; the rest is read ahead while it is sent."""
    first = next(chunks, b"")
    return read_ahead(_starting_with(first, chunks))


def _starting_with(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from chunks


async def read_ahead(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks`, produced on a thread of their own up to AHEAD ahead of the caller. An error of the producer
    (a sha256 mismatch found at the end) is raised here, after the chunks before it; a caller that stops early
    (the client went away) stops the producer, which closes `chunks`."""
    ahead = _ReadAhead(chunks, asyncio.get_running_loop())
    ahead.start()
    try:
        while True:
            item = await ahead.ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise TransferAborted(str(item)) from None  # logged where it happened (the store)
            ahead.room.release()
            yield item  # type: ignore[misc]
    finally:
        ahead.stop()


class _ReadAhead:
    def __init__(self, chunks: Iterator[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._chunks, self._loop = chunks, loop
        self.ready: asyncio.Queue[object] = asyncio.Queue()
        self.room = threading.Semaphore(AHEAD)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="modelyard-read-ahead", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self.room.release()

    def _produce(self) -> None:
        outcome: object = _END
        try:
            while True:
                self.room.acquire()
                if self._stopped.is_set():
                    return
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._deliver(chunk)
        except Exception as error:  # noqa: BLE001 - handed to the event loop, which raises it to the response
            outcome = error
        finally:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        self._deliver(outcome)

    def _deliver(self, item: object) -> None:
        try:
            self._loop.call_soon_threadsafe(self.ready.put_nowait, item)
        except RuntimeError:  # the loop closed (the server stopped): nobody is left to read
            self._stopped.set()
