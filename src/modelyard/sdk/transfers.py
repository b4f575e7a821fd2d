"""Files to and from the server at disk speed: uploads as a raw body in large chunks, downloads hashed in the same
pass, and a download redirected to an object store fetched in parallel byte ranges (as the store's own clients
do), each part written where it belongs and hashed in order while the next ones arrive."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

from modelyard.digests import BackgroundDigest
from modelyard.sdk.errors import ApiError

if TYPE_CHECKING:
    from modelyard.sdk.client import Client

UPLOAD_CHUNK_SIZE = 4 * 1024 * 1024
RANGE_PART_SIZE = 8 * 1024 * 1024
RANGE_THREADS = 4
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def raw_upload(path: Path) -> dict[str, object]:
    """The keyword arguments of an httpx request that sends the file at `path` as the raw body, streamed."""
    size = path.stat().st_size
    return {
        "content": _file_chunks(path),
        "headers": {"content-type": "application/octet-stream", "content-length": str(size)},
    }


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(UPLOAD_CHUNK_SIZE):
            yield chunk


def download(client: Client, path: str, target: Path, *, expected: str | None = None) -> Path:
    """A stored file to `target`, replaced atomically once the whole arrived and matched its sha256 (the one given,
    else the one the server recorded); nothing is left behind when it does not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    partial = Path(partial_name)
    try:
        with os.fdopen(fd, "r+b") as out:
            with client.stream("GET", path, params={"redirect": "true"}, accept_redirect=True) as response:
                expected = expected or response.headers.get("x-content-sha256") or response.headers.get("x-sha256")
                if response.status_code == 307:
                    actual = _ranged(response.headers["location"], out, client.timeout)
                else:
                    actual = _streamed(response, out)
        if expected and actual != expected:
            detail = f"downloaded {target.name} does not match its recorded sha256: download it again"
            raise ApiError(500, "integrity_error", detail, {})
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _streamed(response: httpx.Response, out: IO[bytes]) -> str:
    """The body into `out` as it arrives, hashed on a thread of its own meanwhile. The chunks are taken as
    received: gathering them into larger ones would copy every byte twice more."""
    try:
        with BackgroundDigest() as digest:
            for chunk in response.iter_bytes():
                digest.update(chunk)
                out.write(chunk)
            return digest.hexdigest()
    except httpx.RemoteProtocolError:
        # The server checks the bytes as it sends them and ends the transfer early when they fail.
        raise ApiError(502, "download_incomplete", "the server ended the download before the whole file arrived "
                       "(a stored file that fails its integrity check ends so; see the server's log)", {}) from None


def _ranged(url: str, out: IO[bytes], timeout: httpx.Timeout) -> str:
    """Fetch a presigned URL in parallel ranges into `out`; the sha256 of the whole. A presigned URL carries its own
    authorization: no token goes to the object store."""
    digest = hashlib.sha256()
    limits = httpx.Limits(max_connections=RANGE_THREADS, max_keepalive_connections=RANGE_THREADS)
    with httpx.Client(timeout=timeout, limits=limits) as http, ThreadPoolExecutor(RANGE_THREADS) as pool:
        first, size = _first_part(http, url)
        os.pwrite(out.fileno(), first, 0)
        digest.update(first)
        starts = iter(range(len(first), size, RANGE_PART_SIZE))
        window: deque[Future[list[bytes]]] = deque()

        def submit() -> None:
            start = next(starts, None)
            if start is not None:
                window.append(pool.submit(_part, http, url, out.fileno(), start, min(start + RANGE_PART_SIZE, size)))

        for _ in range(RANGE_THREADS + 1):
            submit()
        while window:
            part = window.popleft().result()
            submit()
            for chunk in part:
                digest.update(chunk)
    return digest.hexdigest()


def _first_part(http: httpx.Client, url: str) -> tuple[bytes, int]:
    """The first range and the whole size (from its Content-Range); a server that ignores ranges sends it all."""
    response = http.get(url, headers={"range": f"bytes=0-{RANGE_PART_SIZE - 1}"})
    if response.status_code == 416:  # an empty object has no first byte to start a range at
        return b"", 0
    _check_store_answer(response)
    if response.status_code == 200:
        return response.content, len(response.content)
    matched = CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if matched is None:
        raise ApiError(502, "storage_error", "the object store answered a range without its Content-Range", {})
    return response.content, int(matched.group(3))


def _part(http: httpx.Client, url: str, descriptor: int, start: int, end: int) -> list[bytes]:
    """One range written at its offset as it arrives; its chunks, for the caller to hash in order (kept as
    received: joining them would copy the part once more)."""
    chunks, received = [], 0
    with http.stream("GET", url, headers={"range": f"bytes={start}-{end - 1}"}) as response:
        if response.status_code not in (200, 206):
            response.read()
        _check_store_answer(response)
        for chunk in response.iter_bytes() if response.status_code == 206 else ():
            if received + len(chunk) > end - start:  # more than the range: refused below, nothing written past it
                received += len(chunk)
                break
            os.pwrite(descriptor, chunk, start + received)
            received += len(chunk)
            chunks.append(chunk)
    if response.status_code != 206 or received != end - start:
        raise ApiError(502, "storage_error", f"the object store sent {received} bytes for the range "
                       f"{start}-{end - 1}", {})  # fmt: skip
    return chunks


def _check_store_answer(response: httpx.Response) -> None:
    if response.status_code not in (200, 206):
        raise ApiError(response.status_code, "storage_error", "the object store refused the download the server "
                       f"redirected to: {response.text[:200]}", {})  # fmt: skip
