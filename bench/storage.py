"""Moving a large file through the API against moving the same bytes without modelyard, on each store.

1. The data directory: a registry file upload (`PUT .../files/NAME`, the raw body, as the SDK sends it) and its
   download (streamed by the server; once more by a restarted server, which has verified nothing yet), against
   `cp` of the same file on the same disk.
2. An S3 bucket on a local SeaweedFS (the test suite's tests/s3.py): the same upload and download through the API
   (the download once streamed through the server, once redirected to a presigned URL), against boto3 alone
   sending and fetching the same bytes to and from the same server, with the store's own part size and threads.
Each transfer runs `--rounds` times, each time right before its anchor, so a busy machine slows both alike; the
table gives the medians and the range of the rounds' ratios.
3. The server's peak resident memory (VmRSS sampled every 20 ms from /proc) during each transfer.
4. `--compare-clients`: boto3 against obstore, the two S3 clients the store could use, uploading and downloading
   256 MiB to the same server, three rounds each.
5. `--floor`: what any server on this machine could reach at best, against `cp` in the same rounds: the file sent
   over a bare loopback TCP socket (`sendfile`, no HTTP, no Python on the sending side) to a process that reads it
   into a reused buffer, writes it (the writeback started as the store does), fsyncs it and computes its sha256,
   once in the same thread and once on a thread of its own (`modelyard.digests`, as the store does), and once
   without the sha256. The guarantees cost what they cost here: no HTTP server can be faster than these rows.
6. `--write-sizes`: the CPU time of writing 1 GiB into a new file from one buffer, in write() calls of 4 MiB,
   1 MiB and 256 KiB, alternating, `--rounds` times (why the store never hands the kernel more than 1 MiB at once).

    PYTHONPATH=src:. .venv/bin/python bench/storage.py --size-mib 1024
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from servers import free_port, start_server

from modelyard.config import Settings
from modelyard.digests import BackgroundDigest
from modelyard.sdk import Client
from modelyard.storage.s3 import make_client
from modelyard.storage.writeback import WritebackFile
from tests.s3 import BUCKET, SeaweedServer

MIB = 1024 * 1024
RATIO_AIM = 0.8
MEMORY_AIM_MB = 200.0


@dataclass
class Transfer:
    seconds: float
    peak_rss_mb: float


class PeakMemory:
    """The highest VmRSS of a process while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            self._stop.wait(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(call: Callable[[], object], pid: int | None = None) -> Transfer:
    if pid is None:
        start = time.perf_counter()
        call()
        return Transfer(time.perf_counter() - start, 0.0)
    with PeakMemory(pid) as memory:
        start = time.perf_counter()
        call()
        seconds = time.perf_counter() - start
    return Transfer(seconds, memory.peak_kb / 1024)


def write_payload(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for _ in range(size // (16 * MIB)):
            out.write(os.urandom(16 * MIB))
        out.write(os.urandom(size % (16 * MIB)))


@dataclass
class Row:
    """One kind of transfer, measured once a round against its anchor (run right after it, so load hits both)."""

    label: str
    pairs: list[tuple[Transfer, Transfer]] = field(default_factory=list)


class Anchor(Protocol):
    def upload(self, payload: Path) -> None: ...

    def download(self, target: Path) -> None: ...

    def clean(self) -> None: ...


class CpAnchor:
    """`cp` into a folder on the same disk and back out, each copy fsynced as the store's are."""

    def __init__(self, work: Path) -> None:
        self.stored = work / "cp-stored.bin"

    def upload(self, payload: Path) -> None:
        _copy(payload, self.stored)

    def download(self, target: Path) -> None:
        _copy(self.stored, target)

    def clean(self) -> None:
        self.stored.unlink(missing_ok=True)


class Boto3Anchor:
    """boto3 alone, with the store's part size and threads, to and from the same server."""

    def __init__(self, work: Path, settings: dict[str, str]) -> None:
        from boto3.s3.transfer import TransferConfig

        fields = {name.lower(): value for name, value in settings.items()}
        store_settings = Settings.model_validate({"data_dir": work, **fields})
        self.client = make_client(store_settings)
        part, concurrency = store_settings.s3_part_bytes, store_settings.s3_concurrency
        self.config = TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=concurrency)
        self.config.max_in_memory_upload_chunks = concurrency

    def upload(self, payload: Path) -> None:
        self.client.upload_file(str(payload), BUCKET, "bare/payload", Config=self.config)

    def download(self, target: Path) -> None:
        self.client.download_file(BUCKET, "bare/payload", str(target), Config=self.config)

    def clean(self) -> None:
        self.client.delete_object(Bucket=BUCKET, Key="bare/payload")


class BareSocket:
    """The floor: the file through a loopback socket into a receiving process that stores it as the store must
    (written, fsynced, sha256 computed: `hashing` is "inline", "thread" or "none"); nothing else."""

    def __init__(self, work: Path, hashing: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        target = work / f"bare-{hashing}.bin"
        self.process = context.Process(target=_bare_receiver, args=(child, str(target), hashing), daemon=True)
        self.process.start()
        self.port: int = self._pipe.recv()
        self.target = target

    def upload(self, payload: Path) -> None:
        size = payload.stat().st_size
        with socket.create_connection(("127.0.0.1", self.port)) as connection, payload.open("rb") as source:
            connection.sendall(size.to_bytes(8, "big"))
            connection.sendfile(source)
            if len(connection.recv(64, socket.MSG_WAITALL)) != 64:
                raise RuntimeError("the receiver did not answer with a sha256")

    def close(self) -> None:
        self.process.kill()
        self.process.join()
        self.target.unlink(missing_ok=True)


def _bare_receiver(pipe: Any, target: str, hashing: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    pipe.send(listener.getsockname()[1])
    buffer = memoryview(bytearray(MIB))
    while True:
        connection, _ = listener.accept()
        with connection:
            left = int.from_bytes(connection.recv(8, socket.MSG_WAITALL), "big")
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            inline = hashlib.sha256()
            with BackgroundDigest() as beside:
                out = WritebackFile(fd)
                while left and (received := connection.recv_into(buffer)):
                    if hashing == "inline":
                        inline.update(buffer[:received])
                    elif hashing == "thread":
                        beside.update(buffer[:received])
                    out.write(buffer[:received])
                    left -= received
                out.sync()
                os.close(fd)
                digest = beside.hexdigest() if hashing == "thread" else inline.hexdigest()
            connection.sendall(digest.encode())


def measure_floor(work: Path, payload: Path, rounds: int) -> list[Row]:
    """Rounds of (bare socket with each way of hashing, `cp` right after it)."""
    anchor = CpAnchor(work)
    receivers = {hashing: BareSocket(work, hashing) for hashing in ("inline", "thread", "none")}
    labels = {
        "inline": "bare socket, sha256 in the receiving thread, write, fsync vs `cp`",
        "thread": "bare socket, sha256 on a thread of its own, write, fsync vs `cp`",
        "none": "bare socket, no sha256, write, fsync vs `cp`",
    }
    rows = {hashing: Row(labels[hashing]) for hashing in receivers}
    try:
        for _ in range(rounds):
            for hashing, receiver in receivers.items():
                rows[hashing].pairs.append((
                    timed(lambda: receiver.upload(payload), receiver.process.pid),  # noqa: B023 - called at once
                    timed(lambda: anchor.upload(payload)),
                ))  # fmt: skip
        return list(rows.values())
    finally:
        for receiver in receivers.values():
            receiver.close()
        anchor.clean()


def measure_write_sizes(work: Path, size: int, rounds: int) -> None:
    """CPU seconds of the write() calls that put `size` bytes into a new file, by the size of each call."""
    buffer = memoryview(os.urandom(4 * MIB))
    target = work / "write-sizes.bin"
    seconds: dict[int, list[float]] = {4 * MIB: [], MIB: [], MIB // 4: []}
    for _ in range(rounds):
        for piece in seconds:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            start = time.thread_time()
            for offset in range(0, size, piece):
                os.write(fd, buffer[: min(piece, size - offset)])
            seconds[piece].append(time.thread_time() - start)
            os.close(fd)
            target.unlink()
    for piece, figures in seconds.items():
        print(f"write() calls of {piece // 1024} KiB: CPU seconds per {size // MIB} MiB, by round: "
              + ", ".join(f"{figure:.2f}" for figure in figures))  # fmt: skip


def _copy(source: Path, target: Path) -> None:
    subprocess.run(["cp", str(source), str(target)], check=True)
    _sync(target)


def measure_store(
    work: Path, payload: Path, settings: dict[str, str], anchor: Anchor, rounds: int
) -> tuple[list[Row], float]:
    """Rounds of (upload through the API, the anchor's upload, download through the API, the anchor's download),
    and the server's RSS before the first; on S3 also the download by redirect; on the data directory also a
    download by a freshly started server (nothing verified in its memory: the bytes are hashed as they stream)."""
    data = work / f"data-{len(os.listdir(work))}"
    port = free_port()
    server = start_server(data, port, settings=settings)
    on_s3 = bool(settings)
    anchor_name = "boto3" if on_s3 else "`cp`"
    upload = Row(f"upload vs {anchor_name}")
    streamed = Row(f"download, streamed by the server, vs {anchor_name}" if on_s3 else "download vs `cp`")
    redirected = Row("download, redirected (`?redirect=true`), vs boto3")
    cold = Row("download by a restarted server (hashed as it streams) vs `cp`")
    target, anchor_target = work / "downloaded.bin", work / "anchor-downloaded.bin"
    try:
        with Client(f"http://127.0.0.1:{port}", timeout=600) as client:
            client.registry.register("bench", create_model=True)
            before = _rss_mb(server.pid)
            for _ in range(rounds):
                _vary(payload)  # new content each round: the store would not upload content it has already
                upload.pairs.append((
                    timed(lambda: client.registry.upload("bench/1", payload, name="weights.bin"), server.pid),
                    timed(lambda: anchor.upload(payload)),
                ))  # fmt: skip
                streamed.pairs.append((
                    timed(lambda: _stream(client, FILE_PATH, target), server.pid),
                    timed(lambda: anchor.download(anchor_target)),
                ))  # fmt: skip
                assert target.stat().st_size == payload.stat().st_size
                if on_s3:
                    redirected.pairs.append((
                        timed(lambda: client.registry.download_file("bench/1", "weights.bin", target), server.pid),
                        timed(lambda: anchor.download(anchor_target)),
                    ))  # fmt: skip
                    assert target.stat().st_size == payload.stat().st_size
        if not on_s3:
            server.kill()
            server.wait()
            port = free_port()
            server = start_server(data, port, settings=settings)
            with Client(f"http://127.0.0.1:{port}", timeout=600) as client:
                cold.pairs.append((
                    timed(lambda: _stream(client, FILE_PATH, target), server.pid),
                    timed(lambda: anchor.download(anchor_target)),
                ))  # fmt: skip
        return [upload, streamed, redirected] if on_s3 else [upload, streamed, cold], before
    finally:
        server.kill()
        server.wait()
        anchor.clean()
        for path in (target, anchor_target):
            path.unlink(missing_ok=True)
        shutil.rmtree(data, ignore_errors=True)


FILE_PATH = "/registry/models/bench/versions/1/files/weights.bin"


def _vary(payload: Path) -> None:
    with payload.open("r+b") as handle:
        handle.write(os.urandom(64))


def _stream(client: Client, path: str, target: Path) -> None:
    with client.stream("GET", path) as response, target.open("wb") as out:
        for chunk in response.iter_bytes():  # as received: gathering 1 MiB pieces costs httpx two more copies
            out.write(chunk)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def compare_clients(work: Path, server: SeaweedServer, rounds: int = 3) -> list[dict[str, float]]:
    """MiB/s up and down for boto3 and obstore, 256 MiB, alternating, `rounds` times."""
    from boto3.s3.transfer import TransferConfig
    from obstore import get, put
    from obstore.store import S3Store

    payload, size = work / "clients.bin", 256 * MIB
    write_payload(payload, size)
    boto = server.client()
    config = TransferConfig(multipart_chunksize=16 * MIB, max_concurrency=4)
    obstore = S3Store(BUCKET, endpoint=server.endpoint_url, access_key_id="modelyard-test",
                      secret_access_key="modelyard-test-secret", region="us-east-1",
                      client_options={"allow_http": True}, virtual_hosted_style_request=False)  # fmt: skip
    target = work / "clients-back.bin"

    def obstore_up() -> None:
        with payload.open("rb") as handle:
            put(obstore, "clients/obstore", handle, chunk_size=16 * MIB, max_concurrency=4)

    def obstore_down() -> None:
        with target.open("wb") as out:
            for chunk in get(obstore, "clients/obstore").stream(min_chunk_size=8 * MIB):
                out.write(chunk)

    figures = []
    for _ in range(rounds):
        figures.append({
            "boto3_up": size / MIB / timed(lambda: boto.upload_file(str(payload), BUCKET, "clients/boto3",
                                                                    Config=config)).seconds,
            "boto3_down": size / MIB / timed(lambda: boto.download_file(BUCKET, "clients/boto3", str(target),
                                                                        Config=config)).seconds,
            "obstore_up": size / MIB / timed(obstore_up).seconds,
            "obstore_down": size / MIB / timed(obstore_down).seconds,
        })  # fmt: skip
    payload.unlink()
    target.unlink(missing_ok=True)
    return figures


def verdict(ratio: float, peak_mb: float) -> str:
    speed = "met" if ratio >= RATIO_AIM else f"missed by {RATIO_AIM - ratio:.2f}"
    memory = "met" if peak_mb < MEMORY_AIM_MB else f"{peak_mb - MEMORY_AIM_MB:.0f} MB over"
    return f"speed {speed}; memory {memory}"


def report(name: str, row: Row, size: int, before: float) -> None:
    """The median round's figures, the ratio of the medians and the range of the rounds' ratios."""
    through = statistics.median(api.seconds for api, _ in row.pairs)
    anchor = statistics.median(bare.seconds for _, bare in row.pairs)
    ratios = sorted(bare.seconds / api.seconds for api, bare in row.pairs)
    peak = max(api.peak_rss_mb for api, _ in row.pairs)
    ratio = anchor / through
    spread = f" ({ratios[0]:.2f}-{ratios[-1]:.2f})" if len(ratios) > 1 else ""
    print(f"| {name} | {row.label} | {size / MIB / through:.0f} MiB/s ({through:.2f} s) "
          f"| {size / MIB / anchor:.0f} MiB/s ({anchor:.2f} s) | {ratio:.2f}{spread} "
          f"| {peak:.0f} ({before:.0f} idle) | {verdict(ratio, peak)} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="Size of the file moved (default 1 GiB).")
    parser.add_argument("--store", choices=["local", "s3", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of each transfer and its anchor (default 3).")
    parser.add_argument("--compare-clients", action="store_true", help="Also boto3 vs obstore, 256 MiB.")
    parser.add_argument("--floor", action="store_true", help="Also a bare socket into a file, against `cp`.")
    parser.add_argument("--write-sizes", action="store_true", help="Also the CPU cost of write() by call size.")
    parser.add_argument("--work", type=Path, default=None, help="Folder for the files (default: a temp folder).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="modelyard-bench-storage-", dir=args.work))
    size = args.size_mib * MIB
    payload = work / "payload.bin"
    write_payload(payload, size)
    print(f"{args.size_mib} MiB, {args.rounds} rounds, load average {os.getloadavg()[0]:.2f} at the start")
    print("| store | transfer | through the API | anchor | ratio (rounds) | server peak RSS MB | verdict |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    try:
        if args.write_sizes:
            measure_write_sizes(work, size, args.rounds)
        if args.floor:
            for row in measure_floor(work, payload, args.rounds):
                report("no server (the floor)", row, size, 0.0)
        if args.store in ("local", "both"):
            rows, before = measure_store(work, payload, {}, CpAnchor(work), args.rounds)
            for row in rows:
                report("data directory", row, size, before)
        if args.store in ("s3", "both") or args.compare_clients:
            seaweed = SeaweedServer()
            seaweed.start()
            try:
                settings: dict[str, Any] = {name.upper(): value for name, value in seaweed.settings_for().items()}
                if args.store in ("s3", "both"):
                    rows, before = measure_store(work, payload, settings, Boto3Anchor(work, settings), args.rounds)
                    for row in rows:
                        report("S3 (SeaweedFS)", row, size, before)
                if args.compare_clients:
                    for index, speeds in enumerate(compare_clients(work, seaweed), 1):
                        print(f"clients round {index}: boto3 up {speeds['boto3_up']:.0f} down "
                              f"{speeds['boto3_down']:.0f} MiB/s; obstore up {speeds['obstore_up']:.0f} down "
                              f"{speeds['obstore_down']:.0f} MiB/s")
            finally:
                seaweed.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
