"""Writing a large file that will be fsynced: the disk starts on the bytes while the rest still arrive.

Left alone, the kernel keeps a freshly written file in memory (up to its dirty limit, gigabytes on most machines)
and writes all of it at the fsync that ends the write, after the last byte came. `WritebackFile` asks for the
writeback of each few megabytes once written (Linux's sync_file_range with SYNC_FILE_RANGE_WRITE: start, do not
wait), so the disk works while the transfer goes on and the final fsync waits only for the last of it.
The fsync still makes the file durable; where the call does not exist, the file is written as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from functools import cache

WRITEBACK_STEP = 8 * 1024 * 1024
# The most one write() call is given. Linux often copies a few MiB handed over at once into the page cache at a
# fraction of the speed of the same bytes in 1 MiB calls (measured here: 0.25-3.0 s of CPU per GiB in 4 MiB calls,
# most rounds 0.7-3.0 s; 0.21-0.27 s in 1 MiB or 256 KiB calls, from the same buffer; bench/storage.py --write-sizes).
WRITE_SLICE = 1024 * 1024
SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>: start writeback of the range's dirty pages, do not wait for it


@cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


class WritebackFile:
    """Unbuffered writes to a file descriptor, the writeback of every WRITEBACK_STEP bytes started as they pass."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.size = 0
        self._started = 0
        self._hint = _sync_file_range()

    def write(self, data: bytes | memoryview) -> None:
        write_fully(self.fd, data)
        self.size += len(data)
        if self._hint is not None and self.size - self._started >= WRITEBACK_STEP:
            if self._hint(self.fd, self._started, self.size - self._started, SYNC_FILE_RANGE_WRITE) != 0:
                self._hint = None  # a filesystem that refuses it: the final fsync does all the work, as without
            self._started = self.size

    def sync(self) -> None:
        os.fsync(self.fd)


def write_fully(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of `data` to `fd`, in calls of at most WRITE_SLICE bytes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:WRITE_SLICE]) :]
