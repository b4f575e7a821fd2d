"""The one Settings object. It is built once at the edge (CLI, server, worker) and passed down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error"]


class Settings(BaseSettings):
    """Configuration of a modelyard installation; every field reads `MODELYARD_<FIELD>` or `.env`."""

    model_config = SettingsConfigDict(env_prefix="MODELYARD_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder that holds the database, files and logs.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite at DATA_DIR/modelyard.db.",
    )
    sqlite_mmap_mb: int = Field(
        default=256,
        ge=0,
        description="SQLite only: how much of the database file is read through memory-mapping, shared by every "
        "connection (0: off). Searches that walk many rows read their pages without a system call each.",
    )
    sqlite_cache_mb: int = Field(
        default=16, ge=1, description="SQLite only: each connection's page cache, for pages beyond the mapped part."
    )
    ui_dir: Path | None = Field(
        default=None,
        description="Folder of a built web application to serve at `/`; empty: the one built into the package.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    job_slots: int = Field(default=1, ge=1, le=64, description="Jobs that run at the same time.")
    job_poll_seconds: float = Field(default=0.5, gt=0)
    job_heartbeat_seconds: float = Field(default=2.0, gt=0)
    job_log_max_lines: int = Field(
        default=100_000, ge=10, description="Lines kept of one job's log; one more line says how many were dropped."
    )
    job_stale_seconds: float = Field(
        default=30.0, gt=0, description="A running job with no heartbeat for this long is taken as interrupted."
    )
    job_cancel_grace_seconds: float = Field(
        default=10.0, ge=0, description="Wait after a cooperative cancel before SIGTERM, and again before SIGKILL."
    )
    storage_grace_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Files without a record, and temp folders of writers that cannot be checked, are removed by "
        "start-up and `storage.gc` once unchanged for this long.",
    )
    storage_url: str | None = Field(
        default=None,
        description="Where stored files live: empty for the data directory, or `s3://BUCKET/PREFIX` for an "
        "S3-compatible object store (the S3_* settings say how to reach it).",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="URL of the S3 server (e.g. http://127.0.0.1:8333); empty: AWS's own endpoint."
    )
    s3_region: str = Field(default="us-east-1", description="Region the bucket is in (signed into each request).")
    s3_access_key_id: str | None = Field(default=None, description="Access key; empty: the usual AWS sources.")
    # A plain string (kept out of repr): the settings travel to job processes as JSON, secrets included.
    s3_secret_access_key: str | None = Field(default=None, repr=False, description="Secret of the access key.")
    s3_addressing_style: Literal["path", "virtual", "auto"] = Field(
        default="path",
        description="`path` (http://host/bucket/key, what most self-hosted servers expect) or `virtual` "
        "(http://bucket.host/key).",
    )
    s3_part_bytes: int = Field(
        default=5 * 1024**2,
        ge=5 * 1024**2,
        le=5 * 1024**3,
        description="Part size of multipart uploads (larger for files over 10,000 parts); an upload holds about twice "
        "this times S3_CONCURRENCY in memory.",
    )
    s3_concurrency: int = Field(default=4, ge=1, le=64, description="Parts of one transfer sent or read at once.")
    cache_dir: Path | None = Field(
        default=None,
        description="Local copies of stored files for libraries that need a file name (S3 storage); "
        "empty: DATA_DIR/cache/objects.",
    )
    cache_max_bytes: int = Field(
        default=20 * 1024**3, gt=0, description="Size of the local copies' cache; least recently used go first."
    )
    redirect_min_bytes: int = Field(
        default=8 * 1024**2,
        ge=0,
        description="Downloads this large or larger answer with a redirect to a presigned URL of the object "
        "store when the client asks for it (`?redirect=true`); smaller ones stream through the server.",
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="Where job bodies run: `local` (a process per job on this server) or `ray` (a task per job on "
        "the Ray cluster at RAY_ADDRESS).",
    )
    ray_address: str | None = Field(
        default=None, description="Address of the Ray cluster's head (HOST:PORT) when EXECUTOR is `ray`."
    )
    ray_job_cpus: float = Field(default=1.0, gt=0, description="CPUs each job asks of Ray (a training job too).")
    ray_job_memory_mb: int = Field(
        default=2048, ge=0, description="Memory each job asks of Ray, MiB (0: no memory reservation)."
    )
    ray_training_gpus: float = Field(
        default=0.0, ge=0, description="GPUs a training job asks of Ray (0: trains on CPUs); other jobs ask none."
    )
    ray_resources: dict[str, float] = Field(
        default_factory=dict,
        description="Custom Ray resources each job asks for besides CPUs, memory and GPUs (JSON), e.g. "
        '`{"modelyard": 1}` to run jobs only on the nodes started with that resource.',
    )
    runner_name: str | None = Field(
        default=None,
        description="Name of this server among several on one database (recorded on the jobs it claims); empty: "
        "the host name.",
    )
    job_threads: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="Threads a job uses (torch, OpenVINO, DataLoader workers); empty: the CPUs the job may use.",
    )
    job_modules: list[str] = Field(
        default_factory=list, description="Extra Python modules that register job types when imported."
    )
    log_level: LogLevel = "info"
    log_json: bool = False
    api_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="Bearer token -> user name. Empty: no authentication, every caller is 'local'.",
    )
    insecure: bool = Field(
        default=False,
        description="Serve callers on any address with no API tokens (`serve --insecure`): anyone who reaches the "
        "port may change or delete everything. Off: without tokens only loopback callers are served.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the server answers to besides localhost, 127.0.0.1, ::1 and HOST; `*` any "
        "(honoured only with tokens or INSECURE). JSON list or comma-separated.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose pages may call the API from a browser; empty: CORS off. "
        "JSON list or comma-separated.",
    )
    max_json_body_bytes: int = Field(
        default=1024**2, gt=0, description="Largest JSON request body; file uploads have MAX_UPLOAD_BYTES."
    )
    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0)
    max_image_bytes: int = Field(
        default=100 * 1024**2, gt=0, description="Largest image file a dataset accepts (upload or import)."
    )
    max_image_pixels: int = Field(
        default=200_000_000, gt=0, description="Largest image (width x height) a dataset accepts."
    )
    max_archive_bytes: int = Field(
        default=20 * 1024**3, gt=0, description="Most bytes a zip may unpack to (upload or import)."
    )
    max_archive_ratio: float = Field(
        default=200.0, gt=1, description="Highest unpacked/packed size ratio a zip may have (zip bombs)."
    )
    max_archive_members: int = Field(default=1_000_000, gt=0, description="Most files a zip may hold.")
    thumbnail_size: int = Field(default=256, ge=32, le=1024, description="Longest side of item thumbnails, pixels.")
    # Limits of what a request may store (modelyard.kit.limits); each refusal names its setting.
    max_json_value_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest metadata, parameters, description or tags, as JSON bytes."
    )
    max_json_depth: int = Field(
        default=20, ge=2, le=150, description="Deepest nesting of metadata, parameters and other JSON documents."
    )
    max_name_length: int = Field(
        default=256, ge=16, le=4096, description="Longest name or key (projects, labels, models, tags, metrics)."
    )
    max_tags: int = Field(default=100, ge=1, description="Most tags on one registered model or version.")
    max_labels: int = Field(default=1000, ge=1, description="Most labels of a project, model or label map.")
    max_files_per_version: int = Field(default=1000, ge=1, description="Most files of one registry version.")

    @field_validator("allowed_hosts", "cors_origins", mode="before")
    @classmethod
    def _name_list(cls, value: object) -> object:
        """Lists from the environment as JSON (`["a", "b"]`) or, friendlier, comma-separated (`a,b`)."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            return json.loads(value)
        return [name.strip() for name in value.split(",") if name.strip()]

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if "/" in name or not name.strip():
                raise ValueError(f"{name!r} is not a host name: give names like `models.example.com` (no scheme)")
        return [name.strip() for name in value]

    @field_validator("cors_origins")
    @classmethod
    def _bare_origins(cls, value: list[str]) -> list[str]:
        # Browsers send `Origin: https://host:port` with no path and no trailing slash; compare like with like.
        origins = [origin.strip().rstrip("/").lower() for origin in value]
        for origin in origins:
            if origin == "*":
                raise ValueError("`*` would let every web page read the API with the user's access: name the origins")
            scheme, separator, authority = origin.partition("://")
            if scheme not in ("http", "https") or not separator or not authority or "/" in authority:
                raise ValueError(f"{origin!r} is not an origin: give scheme://host[:port], e.g. https://ui.example")
        return origins

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith("s3://") or not value[len("s3://"):].split("/", 1)[0]:
            raise ValueError(f"{value!r} is not a storage URL: give s3://BUCKET/PREFIX, or nothing for the data folder")
        return value.rstrip("/")

    @property
    def resolved_cache_dir(self) -> Path:
        return (self.cache_dir or self.data_dir / "cache" / "objects").expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'modelyard.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
