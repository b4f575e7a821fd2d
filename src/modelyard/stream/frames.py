"""Frames between the stages of a running stream, and the bounded queues that carry them."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Frame:
    sequence: int
    """Position in the stream, counted on across restarts."""
    timestamp: float
    """When the source produced the frame (seconds since the epoch)."""
    name: str
    """The file name for folder and upload sources; `frame-SEQUENCE` for video and camera frames."""
    image: np.ndarray | None = None
    """RGB uint8 (height, width, 3) for video and camera frames that OpenCV decodes."""
    encoded: bytes | None = None
    """The JPEG of a Motion JPEG video or camera frame, as the stream carries it: decoded by the predictor as any
    JPEG file is (training's decoder, scaled down inside the JPEG decoder), not by OpenCV."""
    path: Path | None = None
    """The file, for folder and upload sources (decoded by the predictor, exactly as a prediction request is)."""
    position_ms: float | None = None
    """video: where the frame is in the file."""


@dataclass(frozen=True)
class PredictedFrame:
    frame: Frame
    payload: dict[str, Any]
    """The JSON every sink receives."""
    model_seconds: float


class BoundedQueue(Generic[T]):
    """A queue of at most `capacity` items. A full queue blocks `put`, or, when it drops, lets the newest item in
    and throws the oldest one away (a live source must never wait for a slow model)."""

    def __init__(self, capacity: int, drop_oldest: bool) -> None:
        self.capacity = capacity
        self.drop_oldest = drop_oldest
        self.dropped = 0
        self._items: deque[T] = deque()
        lock = threading.Lock()
        # One condition per kind of waiter, so a frame put wakes one taker and a frame taken one putter,
        # rather than every thread waiting on the queue.
        self._filled = threading.Condition(lock)
        self._emptied = threading.Condition(lock)

    def put(self, item: T, stop: threading.Event) -> bool:
        """Queue `item`; false if `stop` was set while waiting for room."""
        with self._filled:
            while len(self._items) >= self.capacity:
                if self.drop_oldest:
                    self._items.popleft()
                    self.dropped += 1
                    break
                if stop.is_set():
                    return False
                self._emptied.wait(0.1)
            self._items.append(item)
            self._filled.notify()
        return True

    def get(self, timeout: float) -> T | None:
        with self._filled:
            if not self._items:
                deadline = time.monotonic() + timeout
                while not self._items:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self._filled.wait(left)
            item = self._items.popleft()
            self._emptied.notify()
            return item

    def __len__(self) -> int:
        with self._filled:
            return len(self._items)


class InOrder(Generic[T]):
    """Results that come back in any order from several predicting threads, handed out in the stream's order.

    Each frame gets a ticket (0, 1, 2, ...) when it is taken from the source's queue; its result is `put` under that
    ticket, or the ticket is `skip`ped when the frame failed. `get` hands out the result of the next ticket only
    once it is in. At most `capacity` tickets are held: a thread whose ticket is that far ahead waits, so a slow
    sink bounds the memory as a full queue would.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held: dict[int, T | None] = {}
        self._next = 0
        lock = threading.Lock()
        self._arrived = threading.Condition(lock)
        """Waited on by the taker: a result came in."""
        self._advanced = threading.Condition(lock)
        """Waited on by the threads whose ticket is too far ahead: the next ticket moved on."""

    def put(self, ticket: int, item: T | None, stop: threading.Event) -> bool:
        """Hold `item` (None: nothing to deliver for this ticket); false if `stop` was set while waiting."""
        with self._arrived:
            while ticket >= self._next + self.capacity:
                if stop.is_set():
                    return False
                self._advanced.wait(0.1)
            self._held[ticket] = item
            if ticket == self._next:  # only the next ticket lets the taker go on
                self._arrived.notify()
        return True

    def skip(self, ticket: int, stop: threading.Event) -> bool:
        return self.put(ticket, None, stop)

    def get(self, timeout: float) -> T | None:
        """The next result in ticket order, skipped tickets passed over; None if it is not in within `timeout`."""
        deadline: float | None = None
        with self._arrived:
            while True:
                while self._next in self._held:
                    item = self._held.pop(self._next)
                    self._next += 1
                    self._advanced.notify_all()  # whichever ticket is now within reach may go on
                    if item is not None:
                        return item
                if deadline is None:
                    deadline = time.monotonic() + timeout
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)

    def __len__(self) -> int:
        with self._arrived:
            return len(self._held)
