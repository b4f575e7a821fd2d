"""sha256 computed beside a transfer: the chunks are hashed on a thread of their own while the caller goes on
writing or sending them (hashlib and file writes both release the GIL, so the two run on two cores), with at
most `ahead_bytes` handed over and not hashed yet: what bounds the memory it holds."""

from __future__ import annotations

import hashlib
import threading
from collections import deque

AHEAD_BYTES = 4 * 1024 * 1024


class BackgroundDigest:
    """`update(chunk)` hands a chunk to the hashing thread (waiting while `ahead_bytes` wait to be hashed);
    `hexdigest()` waits for the rest. Use it as a context manager: leaving the block stops the thread."""

    def __init__(self, ahead_bytes: int = AHEAD_BYTES) -> None:
        self._digest = hashlib.sha256()
        self._ahead = ahead_bytes
        self._waiting: deque[bytes] = deque()
        self._pending = 0
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="modelyard-sha256", daemon=True)
        self._thread.start()

    def __enter__(self) -> BackgroundDigest:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        with self._changed:
            if kind is not None:  # nobody will ask for the digest: drop what is not hashed yet
                self._waiting.clear()
                self._pending = 0
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Hash `chunk` beside the caller (a mutable buffer, which its owner may reuse, from a copy)."""
        if not isinstance(chunk, bytes):
            chunk = bytes(chunk)
        size = len(chunk)
        if not size:
            return
        with self._changed:
            while self._pending and self._pending + size > self._ahead:
                self._changed.wait()
            if self._closed:
                raise RuntimeError("the digest is finished")
            self._waiting.append(chunk)
            self._pending += size
            self._changed.notify_all()

    def hexdigest(self) -> str:
        """The sha256 of every chunk handed over (waits until they are hashed; no chunk may follow)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()
        return self._digest.hexdigest()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if not self._waiting:
                    return
                chunk = self._waiting.popleft()
            self._digest.update(chunk)
            with self._changed:
                self._pending -= len(chunk)
                # A writer held at the limit is woken once half of it is free, not after every chunk: under
                # load each wake-up costs a trip through the scheduler.
                if self._pending <= self._ahead // 2 or not self._waiting:
                    self._changed.notify_all()
