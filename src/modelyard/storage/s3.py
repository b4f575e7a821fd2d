"""S3 artifact store: content-addressed objects in a bucket, the keys in the database.

Layout under `s3://BUCKET/PREFIX/`:
- `blobs/<sha[:2]>/<sha>`: the bytes of one content, stored once however many keys name it;
- `pins/<sha>/<owner>/<unit>`: an empty marker saying that a writer's transaction holds this content
  until it publishes or drops it (a delete or a sweep leaves pinned content alone).
A key is only a database record pointing at a sha256: there is no object per key, so publishing is the
commit itself, and a key can never show half of its bytes.

A write (`stage`, before the commit) hashes the bytes first (a file in place, a stream while spooling it to
this writer's scratch folder), pins the content, then uploads it (multipart, a few parts in memory) unless
the bucket has it already. After the commit, `publish` checks that every content is there and drops the
pins; after a rollback, `discard` drops them and says which uploads no record may need. Reads check the
sha256: a stream holds back its last chunk until the hash matched, a local copy comes from a verified cache.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote

import structlog

from modelyard.config import Settings
from modelyard.digests import BackgroundDigest
from modelyard.errors import IntegrityError, NotFound
from modelyard.storage import crash_points
from modelyard.storage.base import CHUNK_SIZE, Source, StagedContent, StoredObject
from modelyard.storage.cache import VerifiedCache
from modelyard.storage.local import SHA256_NAME, check_key, read_chunks
from modelyard.storage.owners import process_owner
from modelyard.storage.writeback import write_fully

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = structlog.get_logger("modelyard.storage")
UPLOAD_THREADS = 8
PRESIGN_SECONDS = 3600


class ObjectStoreError(OSError):
    """The object store could not be reached, or refused a request it should have accepted."""


@dataclass(frozen=True)
class BucketLocation:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> BucketLocation:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return cls(bucket, prefix.strip("/"))


@dataclass(frozen=True)
class ListedObject:
    name: str
    size: int
    modified: datetime


class S3ArtifactStore:
    backend = "s3"

    def __init__(self, settings: Settings, *, owner: str | None = None) -> None:
        if not settings.storage_url:
            raise ValueError("an S3 store needs MODELYARD_STORAGE_URL=s3://BUCKET/PREFIX")
        self.settings = settings
        self.location = BucketLocation.parse(settings.storage_url)
        self.data_dir = settings.data_dir
        self.tmp_root = settings.data_dir / ".tmp"
        self.owner = owner or process_owner()
        self._tmp = self.tmp_root / self.owner
        self._tmp.mkdir(parents=True, exist_ok=True)
        self.cache = VerifiedCache(settings.resolved_cache_dir, settings.cache_max_bytes)
        self._client: S3Client | None = None
        self._lock = threading.Lock()
        self._names = itertools.count()

    # -- the client ---------------------------------------------------------------------------
    @property
    def client(self) -> S3Client:
        with self._lock:
            if self._client is None:
                self._client = make_client(self.settings)
            return self._client

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        part, concurrency = self.settings.s3_part_bytes, self.settings.s3_concurrency
        config = TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=concurrency)
        # s3transfer queues 10 parts in memory for an upload from a stream: no more than are in flight here.
        config.max_in_memory_upload_chunks = concurrency
        return config

    def _name(self, *parts: str) -> str:
        return "/".join(part for part in (self.location.prefix, *parts) if part)

    def blob_name(self, sha256: str) -> str:
        return self._name("blobs", sha256[:2], sha256)

    def _pin_name(self, sha256: str, unit: Path) -> str:
        return self._name("pins", sha256, self.owner, unit.name)

    # -- scratch ------------------------------------------------------------------------------
    @property
    def tmp(self) -> Path:
        """This writer's local scratch folder (uploads being received, packages being built)."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp

    def release(self) -> None:
        try:
            self._tmp.rmdir()
        except OSError:
            pass

    def check_key(self, key: str) -> None:
        check_key(key)

    # -- staging (before the commit) ----------------------------------------------------------
    def new_unit(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="unit-", dir=self.tmp))

    def stage(self, unit: Path, source: Source, *, move: bool = False) -> StagedContent:
        """Hash, pin and upload `source` (unless the bucket has its content); the unit remembers it."""
        if isinstance(source, Path):
            sha256, size = _hash_file(source)
            self._store_content(unit, sha256, lambda: self._upload_file(source, sha256))
            if move:
                source.unlink(missing_ok=True)
            return StagedContent(sha256, size)
        if _seekable(source):
            handle = cast(IO[bytes], source)
            start = handle.tell()
            sha256, size = _hash_stream(handle)
            handle.seek(start)
            self._store_content(unit, sha256, lambda: self._upload_handle(handle, sha256))
            return StagedContent(sha256, size)
        # A stream that cannot be read twice: spooled to local scratch while hashed, uploaded from there.
        fd, spool_name = tempfile.mkstemp(dir=unit, prefix="partial-")
        spool = Path(spool_name)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out, BackgroundDigest() as digest:  # hashed beside the writes
                size = 0
                for chunk in _chunks(source):
                    digest.update(chunk)
                    size += len(chunk)
                    write_fully(out.fileno(), chunk)
                    crash_points.reached("files.streaming")
                sha256 = digest.hexdigest()
            self._store_content(unit, sha256, lambda: self._upload_file(spool, sha256))
        finally:
            spool.unlink(missing_ok=True)
        return StagedContent(sha256, size)

    def stage_files(self, unit: Path, entries: Sequence[tuple[Path, str]]) -> list[int]:
        """Upload many files the caller owns and has hashed, as (file, sha256); their sizes. The files go."""
        sizes = [file.stat().st_size for file, _ in entries]

        def one(entry: tuple[Path, str]) -> None:
            file, sha256 = entry
            self._store_content(unit, sha256, lambda: self._upload_file(file, sha256))
            file.unlink(missing_ok=True)

        with ThreadPoolExecutor(max_workers=min(UPLOAD_THREADS, max(len(entries), 1))) as pool:
            list(pool.map(one, entries))
        return sizes

    def pin(self, unit: Path, sha256: str) -> int:
        """Hold content already stored until the unit publishes; its size."""
        self._write_pin(unit, sha256)
        listed = self._head(self.blob_name(sha256))
        if listed is None:
            self._drop_pin(unit, sha256)
            raise NotFound(f"no stored content with sha256 {sha256}")
        return listed.size

    def has_staged(self, unit: Path, sha256: str) -> bool:
        return (unit / sha256).exists()

    def _store_content(self, unit: Path, sha256: str, upload: Any) -> None:
        # The pin comes first: from then on a delete of the last record with this content leaves the blob.
        self._write_pin(unit, sha256)
        if self._head(self.blob_name(sha256)) is not None:
            return
        upload()
        (unit / f"{sha256}.uploaded").touch()

    def _write_pin(self, unit: Path, sha256: str) -> None:
        (unit / sha256).touch()
        self._call(self.client.put_object, Bucket=self.location.bucket, Key=self._pin_name(sha256, unit), Body=b"")

    def _drop_pin(self, unit: Path, sha256: str) -> None:
        (unit / sha256).unlink(missing_ok=True)
        self._call(self.client.delete_object, Bucket=self.location.bucket, Key=self._pin_name(sha256, unit))

    def _upload_file(self, path: Path, sha256: str) -> None:
        """From a file by name, s3transfer reads each part as it sends it, rather than each whole part into memory."""
        self._call(
            self.client.upload_file, str(path), self.location.bucket, self.blob_name(sha256),
            ExtraArgs={"Metadata": {"sha256": sha256}}, Config=self._transfer_config(),
        )  # fmt: skip

    def _upload_handle(self, handle: IO[bytes], sha256: str) -> None:
        """Multipart upload under the content's name: S3 shows an object only once all of it arrived."""
        self._call(
            self.client.upload_fileobj, handle, self.location.bucket, self.blob_name(sha256),
            ExtraArgs={"Metadata": {"sha256": sha256}}, Config=self._transfer_config(),
        )  # fmt: skip

    # -- publishing (after the commit) --------------------------------------------------------
    def publish(self, unit: Path, entries: Sequence[tuple[str, str]]) -> None:
        """The records are committed: the keys are visible already. Check the contents, drop the pins."""
        crash_points.reached("files.publish")
        for sha256 in sorted({sha256 for _, sha256 in entries}):
            if self._head(self.blob_name(sha256)) is None:
                log.error("storage.publish.content_missing", sha256=sha256, unit=unit.name)
        self._release_unit(unit)

    def discard(self, unit: Path) -> list[str]:
        """After a rollback: drop the unit's pins; returns the contents it uploaded (no record may need them)."""
        uploaded = [path.name.removesuffix(".uploaded") for path in unit.glob("*.uploaded")]
        self._release_unit(unit)
        return uploaded

    def finish_publication(self, staged: Path, sha256: str, keys: Sequence[str]) -> int:
        """Nothing to finish for a unit left by a crash: the committed records are the publication."""
        return 0

    def _release_unit(self, unit: Path) -> None:
        if unit.is_dir():
            for marker in unit.iterdir():
                if SHA256_NAME.match(marker.name):
                    self._drop_pin(unit, marker.name)
        shutil.rmtree(unit, ignore_errors=True)

    # -- one-step writes ----------------------------------------------------------------------
    def put(self, key: str, source: Source, *, move: bool = False) -> StoredObject:
        check_key(key)
        unit = self.new_unit()
        try:
            staged = self.stage(unit, source, move=move)
        finally:
            self._release_unit(unit)
        return StoredObject(key=key, sha256=staged.sha256, size=staged.size)

    def has_content(self, sha256: str) -> bool:
        return self._head(self.blob_name(sha256)) is not None

    def restore_content(self, key: str, sha256: str) -> bool:
        """Keys hold no bytes of their own here: there is nothing to restore content from."""
        return False

    # -- reads --------------------------------------------------------------------------------
    def check_present(self, key: str, sha256: str, size: int) -> None:
        """Raise IntegrityError unless the content of `key` is in the bucket with the recorded size."""
        listed = self._head(self.blob_name(sha256))
        if listed is None:
            raise IntegrityError(f"stored file {key!r}: its content {sha256[:12]}... is missing from the bucket")
        if listed.size != size:
            raise IntegrityError(
                f"stored file {key!r} has {listed.size} bytes in the bucket, {size} were recorded: "
                "it was changed outside modelyard"
            )

    def verify(self, key: str, sha256: str, size: int) -> None:
        """Raise IntegrityError unless the bytes of `key` have this sha256 and size (reads them all)."""
        self.check_present(key, sha256, size)
        actual, actual_size = self.hash_content(sha256)
        if (actual, actual_size) != (sha256, size):
            raise IntegrityError(_mismatch(key, actual, sha256))

    def hash_content(self, sha256: str) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        for chunk in self._read(sha256):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size

    def open(self, key: str, sha256: str, size: int) -> Iterator[bytes]:
        """Stream the bytes, hashing them; the last chunk goes out only if the whole matched, so a reader
        of altered bytes sees a failed transfer, never a complete wrong file."""
        self.check_present(key, sha256, size)
        return self._verified_stream(key, sha256, size)

    def open_staged(self, unit: Path, sha256: str, size: int) -> Iterator[bytes]:
        return self.open(f"(staged {sha256[:12]}...)", sha256, size)

    def _verified_stream(self, key: str, sha256: str, size: int) -> Iterator[bytes]:
        seen, held = 0, b""
        with BackgroundDigest() as digest:  # hashed on a thread of its own while the chunks go out
            for chunk in self._read(sha256):
                digest.update(chunk)
                seen += len(chunk)
                if held:
                    yield held
                held = chunk
            actual = digest.hexdigest()
        if (actual, seen) != (sha256, size):
            log.error("storage.read.sha256_mismatch", key=key, sha256=sha256)
            raise IntegrityError(_mismatch(key, actual, sha256))
        if held:
            yield held

    def _read(self, sha256: str) -> Iterator[bytes]:
        response = self._call(self.client.get_object, Bucket=self.location.bucket, Key=self.blob_name(sha256))
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def local_path(self, key: str, sha256: str, size: int) -> Path:
        """A verified copy in the local cache, named as the key (fetched in parallel ranges when not there)."""
        return self.cache.get(key, sha256, size, lambda target: self._download(key, sha256, size, target))

    def staged_local_path(self, unit: Path, key: str, sha256: str, size: int) -> Path:
        return self.local_path(key, sha256, size)

    def _download(self, key: str, sha256: str, size: int, target: Path) -> None:
        self.check_present(key, sha256, size)
        self._call(
            self.client.download_file, self.location.bucket, self.blob_name(sha256), str(target),
            Config=self._transfer_config(),
        )  # fmt: skip

    def presigned_url(self, sha256: str, *, file_name: str, media_type: str) -> str:
        """A time-limited URL that downloads the content straight from the object store."""
        params = {
            "Bucket": self.location.bucket,
            "Key": self.blob_name(sha256),
            "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(file_name)}",
            "ResponseContentType": media_type,
        }
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGN_SECONDS))

    # -- removal ------------------------------------------------------------------------------
    def remove_key(self, key: str) -> None:
        """A key is only its record: nothing to remove in the bucket."""

    def remove_tree(self, prefix: str) -> None:
        """Keys are only records: nothing to remove in the bucket."""

    def remove_content(self, sha256: str) -> None:
        """Delete the content unless a writer's transaction pinned it meanwhile (the sweep retries later)."""
        if self.pins_of(sha256):
            log.info("storage.content.kept_pinned", sha256=sha256)
            return
        self.delete_blob(sha256)

    def delete_blob(self, sha256: str) -> None:
        self._call(self.client.delete_object, Bucket=self.location.bucket, Key=self.blob_name(sha256))

    def delete_object(self, name: str) -> None:
        self._call(self.client.delete_object, Bucket=self.location.bucket, Key=name)

    # -- listing (sweep and audit) ------------------------------------------------------------
    def pins_of(self, sha256: str) -> list[ListedObject]:
        return list(self._list(self._name("pins", sha256) + "/"))

    def list_blobs(self) -> Iterator[ListedObject]:
        return self._list(self._name("blobs") + "/")

    def list_pins(self) -> Iterator[ListedObject]:
        return self._list(self._name("pins") + "/")

    def parse_pin(self, name: str) -> tuple[str, str, str] | None:
        """(sha256, owner, unit) of a pin's object name, or None for anything else."""
        parts = name.removeprefix(self._name("pins") + "/").split("/")
        if len(parts) != 3 or not SHA256_NAME.match(parts[0]):
            return None
        return parts[0], parts[1], parts[2]

    def _list(self, prefix: str) -> Iterator[ListedObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ListedObject(item["Key"], item["Size"], item["LastModified"])
        except Exception as error:
            raise _translated(error) from error

    def _head(self, name: str) -> ListedObject | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.head_object(Bucket=self.location.bucket, Key=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _translated(error) from error
        except Exception as error:
            raise _translated(error) from error
        return ListedObject(name, response["ContentLength"], response["LastModified"])

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            raise _translated(error) from error

    def usage(self) -> dict[str, int]:
        """The local cache's figures (a bucket has no size to ask for); fails if the bucket cannot be reached."""
        self._call(self.client.head_bucket, Bucket=self.location.bucket)
        total, used, free = shutil.disk_usage(self.cache.root)
        return {"cache_bytes": self.cache.used_bytes(), "cache_max_bytes": self.cache.max_bytes,
                "total_bytes": total, "used_bytes": used, "free_bytes": free}  # fmt: skip


def make_client(settings: Settings) -> S3Client:
    """A boto3 S3 client for the settings (thread-safe; one per store)."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": settings.s3_addressing_style},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=max(UPLOAD_THREADS, settings.s3_concurrency) * 2,
        signature_version="s3v4",
        # The sha256 is ours to check; botocore's own checksums would add a pass over every part (and not every
        # S3-compatible server accepts them).
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=config,
    )


def _translated(error: Exception) -> Exception:
    """botocore's errors as ObjectStoreError (an OSError, as a failing disk would raise); ours pass through."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError | BotoCoreError):
        return ObjectStoreError(f"the object store failed: {error}")
    return error


def _mismatch(key: str, actual: str, sha256: str) -> str:
    return (
        f"stored file {key!r} does not match its recorded sha256 ({actual[:12]}... != {sha256[:12]}...): "
        "it was changed outside modelyard; restore it or delete and upload it again"
    )


def _seekable(source: Source) -> bool:
    seekable = getattr(source, "seekable", None)
    try:
        return bool(seekable and seekable() and hasattr(source, "read"))
    except (OSError, ValueError):
        return False


def _chunks(source: Source) -> Iterable[bytes]:
    if isinstance(source, Path):
        yield from read_chunks(source)
    elif hasattr(source, "read"):
        reader = cast(IO[bytes], source)
        while chunk := reader.read(CHUNK_SIZE):
            yield chunk
    else:
        yield from source


def _hash_stream(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
        crash_points.reached("files.streaming")
    return digest.hexdigest(), size


def _hash_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), handle.tell()
