"""Run artifacts behind MLflow's artifact proxy (`mlflow-artifacts:/EXPERIMENT/RUN/artifacts/PATH`).

Files logged to a run created through MLflow are kept in modelyard's artifact store under
`mlflow/runs/<run_id>/<path>` (streamed, sha256 recorded, the same bytes stored once) with one
`MlflowArtifact` record each; a training revision's run shows the revision's own stored files, read-only.
`files_under` is how other domains (the registry's `runs:/` sources) reach either.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.errors import InvalidInput, NotFound
from modelyard.kit.names import clean_name
from modelyard.mlflow.project_runs import ProjectRuns, read_only
from modelyard.mlflow.tracking_models import MlflowArtifact, MlflowRun
from modelyard.mlflow.tracking_repository import TrackingRepository
from modelyard.mlflow.tracking_views import ACTIVE, ARTIFACT_SCHEME
from modelyard.registry.models import ModelVersion
from modelyard.storage.models import StoredFile
from modelyard.storage.service import FileService

log = structlog.get_logger("modelyard.mlflow")
ARTIFACTS_FOLDER = "artifacts"
REGISTRY_VERSIONS = "registry/versions"
MAX_PATH_LENGTH = 1024


def artifact_key(run_id: str, path: str) -> str:
    return f"mlflow/runs/{run_id}/{path}"


@dataclass(frozen=True)
class RunFile:
    """One file of a run: its path below the folder asked for, and the stored file that holds its bytes."""

    path: str
    record: StoredFile


@dataclass(frozen=True)
class ProxyPath:
    """A path of the proxy split into the run it belongs to and the path inside the run's artifacts."""

    experiment_id: str
    run_id: str
    inner: str  # "" for the run's artifact root


@dataclass(frozen=True)
class ListedEntry:
    path: str
    is_dir: bool
    size: int | None

    def to_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"path": self.path, "is_dir": self.is_dir}
        if self.size is not None:
            entry["file_size"] = self.size
        return entry


def clean_artifact_path(path: str) -> str:
    """A relative path of folders and a name, each a valid name; refuses `..`, `.`, empty parts and backslashes."""
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInput(f"artifact path has {len(path)} characters; the limit is {MAX_PATH_LENGTH}")
    parts = path.strip("/").split("/") if path.strip("/") else []
    for part in parts:
        if part in ("", ".", "..") or "\\" in part:
            raise InvalidInput(f"artifact path {path!r} is not valid: use a relative path without '..', '.' or '\\'")
        try:
            clean_name(part, "artifact path")
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    return "/".join(parts)


def parse_proxy_path(path: str) -> ProxyPath | None:
    """The run and inner path of `EXPERIMENT/RUN/artifacts[/PATH]`; None for a path above a run's artifacts."""
    cleaned = clean_artifact_path(path)
    parts = cleaned.split("/") if cleaned else []
    if len(parts) < 3:
        return None
    if parts[2] != ARTIFACTS_FOLDER:
        raise InvalidInput(
            f"artifact path {path!r} is not valid: run artifacts live at EXPERIMENT_ID/RUN_ID/artifacts/PATH"
        )
    return ProxyPath(parts[0], parts[1], "/".join(parts[3:]))


class RunArtifacts:
    def __init__(self, session: Session, files: FileService, actor: str, access: ProjectAccess = EVERY_PROJECT) -> None:
        self.session = session
        self.files = files
        self.actor = actor
        self.access = access
        self.repository = TrackingRepository(session)
        self.projects = ProjectRuns(session, files, access)

    def check_upload_path(self, path: str) -> None:
        """Refuse a path no upload may use before any byte is read (it is checked against the run later)."""
        self._refuse_registry_path(path)
        self._file_path(path)

    def upload(self, path: str, source: Path) -> MlflowArtifact:
        """Store `source` (a file this call takes over) as the artifact at `path`, replacing one there."""
        self._refuse_registry_path(path)
        located = self._file_path(path)
        run = self._stored_run(located)
        if run is None:
            raise read_only(f"run {located.run_id!r}")
        if run.lifecycle_stage != ACTIVE:
            raise InvalidInput(f"run {run.id!r} is deleted: restore it before logging artifacts to it")
        key = artifact_key(run.id, located.inner)
        record = self.files.save(key, source, actor=self.actor, move=True)
        artifact = self.repository.artifact(run.id, located.inner)
        if artifact is None:
            artifact = MlflowArtifact(
                run_id=run.id,
                path=located.inner,
                file_key=key,
                size=record.size,
                sha256=record.sha256,
                created_by=self.actor,
            )
            self.repository.add(artifact)
        else:
            artifact.size, artifact.sha256, artifact.created_by = record.size, record.sha256, self.actor
            self.session.flush()
        log.info("mlflow.artifact.stored", run=run.id, path=located.inner, size=record.size)
        return artifact

    def listing(self, path: str | None) -> list[ListedEntry]:
        """The entries directly inside `path` (a folder of a run's artifacts); none for a file, as MLflow does."""
        version_files = self._registry_version_files(path or "")
        if version_files is not None:
            found = version_files
        else:
            located = parse_proxy_path(path or "")
            if located is None:
                return self._above_runs(path or "")
            found = self._files(located, located.inner)
        entries: dict[str, ListedEntry] = {}
        for file in found:
            if file.path == "":  # `path` names a file
                return []
            head, slash, _ = file.path.partition("/")
            entries[head] = ListedEntry(head, True, None) if slash else ListedEntry(head, False, file.record.size)
        return [entries[name] for name in sorted(entries)]

    def open(self, path: str) -> tuple[StoredFile, Iterator[bytes]]:
        version_files = self._registry_version_files(path)
        if version_files is None:
            located = self._file_path(path)
            version_files = self._files(located, located.inner)
        for file in version_files:
            if file.path == "":
                return file.record, self.files.open(file.record)
        raise NotFound(f"there is no artifact {path!r}")

    def delete(self, path: str) -> int:
        """Delete the artifact at `path`, or every artifact under it when it is a folder; returns how many."""
        self._refuse_registry_path(path)
        located = self._file_path(path, allow_root=True)
        run = self._stored_run(located)
        if run is None:
            raise read_only(f"run {located.run_id!r}")
        exact = self.repository.artifact(run.id, located.inner) if located.inner else None
        doomed = [exact] if exact is not None else list(self.repository.artifacts_under(run.id, located.inner))
        if not doomed:
            raise NotFound(f"run {run.id!r} has no artifact {located.inner!r}")
        for artifact in doomed:
            self.files.delete(artifact.file_key)
        self.repository.delete_artifacts(doomed)
        log.info("mlflow.artifact.deleted", run=run.id, path=located.inner, files=len(doomed))
        return len(doomed)

    # -- internals ---------------------------------------------------------------------------
    def _registry_version_files(self, path: str) -> list[RunFile] | None:
        """The files of a registry version at or under `registry/versions/<version id>/PATH` (the download URIs
        of MLflow's model registry); None for any other path."""
        cleaned = clean_artifact_path(path)
        if not cleaned.startswith(REGISTRY_VERSIONS + "/"):
            return None
        version_id, _, inner = cleaned[len(REGISTRY_VERSIONS) + 1 :].partition("/")
        version = self.session.get(ModelVersion, version_id)
        if version is None or not self.access.allows(version.model.project_id):
            raise NotFound(f"there is no registered version {version_id!r}")
        records = self.files.files.many([file.key for file in version.files])
        return _below(inner, ((file.name, records[file.key]) for file in version.files if file.key in records))

    def _refuse_registry_path(self, path: str) -> None:
        if clean_artifact_path(path).startswith(REGISTRY_VERSIONS + "/"):
            raise InvalidInput(
                f"artifact path {path!r} holds a registered version's files: change them through the registry "
                "(`modelyard registry upload`), not the artifact proxy"
            )

    def _file_path(self, path: str, *, allow_root: bool = False) -> ProxyPath:
        located = parse_proxy_path(path)
        if located is None or (not located.inner and not allow_root):
            raise InvalidInput(f"artifact path {path!r} is not valid: use EXPERIMENT_ID/RUN_ID/artifacts/PATH")
        return located

    def _stored_run(self, located: ProxyPath) -> MlflowRun | None:
        run = None if self.access.limited else self.repository.run(located.run_id)
        if run is not None and str(run.experiment_id) != located.experiment_id:
            raise NotFound(f"run {located.run_id!r} is not in experiment {located.experiment_id!r}")
        if run is None and self.projects.revision(located.run_id) is None:
            raise NotFound(f"run {located.run_id!r} does not exist")
        return run

    def _files(self, located: ProxyPath, inner: str) -> list[RunFile]:
        run = self._stored_run(located)
        if run is not None:
            return files_of_stored_run(self.files, self.repository, run.id, inner)
        revision = self.projects.revision(located.run_id)
        assert revision is not None  # _stored_run refused a run that is neither
        if revision.project_id != located.experiment_id:
            raise NotFound(f"run {located.run_id!r} is not in experiment {located.experiment_id!r}")
        return _below(inner, self.projects.files_of(revision))

    def _above_runs(self, path: str) -> list[ListedEntry]:
        parts = clean_artifact_path(path).split("/")
        if len(parts) == 2:
            return [ListedEntry(ARTIFACTS_FOLDER, True, None)]
        return []


def files_of_stored_run(files: FileService, repository: TrackingRepository, run_id: str, inner: str) -> list[RunFile]:
    exact = repository.artifact(run_id, inner) if inner else None
    artifacts = [exact] if exact is not None else repository.artifacts_under(run_id, inner)
    records = files.files.many([artifact.file_key for artifact in artifacts])
    pairs = ((artifact.path, records[artifact.file_key]) for artifact in artifacts if artifact.file_key in records)
    return _below(inner, pairs)


def _below(inner: str, pairs: Iterable[tuple[str, StoredFile]]) -> list[RunFile]:
    """The files at `inner` (path "") or inside it (paths relative to it), in path order."""
    found = []
    for path, record in pairs:
        if path == inner:
            found.append(RunFile("", record))
        elif not inner or path.startswith(inner + "/"):
            found.append(RunFile(posixpath.relpath(path, inner) if inner else path, record))
    return sorted(found, key=lambda file: file.path)


def files_under(
    session: Session, files: FileService, run_id: str, path: str, access: ProjectAccess = EVERY_PROJECT
) -> list[RunFile]:
    """The stored files of a run (created through MLflow, or a training revision) at or under `path` inside its
    artifacts, each with its path relative to `path` (a file asked for by its own path comes back as its name).
    NotFound when the run does not exist or holds nothing there."""
    inner = clean_artifact_path(path)
    repository = TrackingRepository(session)
    run = None if access.limited else repository.run(run_id)
    if run is not None:
        found = files_of_stored_run(files, repository, run.id, inner)
    else:
        revision = ProjectRuns(session, files, access).revision(run_id)
        if revision is None:
            raise NotFound(f"run {run_id!r} does not exist")
        found = _below(inner, ProjectRuns(session, files, access).files_of(revision))
    if not found:
        raise NotFound(f"run {run_id!r} has no artifacts at {path!r}")
    name = inner.rsplit("/", 1)[-1]
    return [RunFile(file.path or name, file.record) for file in found]


def run_source_files(
    session: Session, files: FileService, uri: str, access: ProjectAccess = EVERY_PROJECT
) -> list[RunFile] | None:
    """The files a model version's source names when it is a run's artifacts: `runs:/RUN_ID/PATH` or
    `mlflow-artifacts:/EXPERIMENT_ID/RUN_ID/artifacts/PATH` (what MLflow's client sends for a `runs:/` URI);
    None for any other URI."""
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/") :].strip("/").partition("/")
    elif uri.startswith(ARTIFACT_SCHEME + "/") and not uri.startswith(f"{ARTIFACT_SCHEME}/{REGISTRY_VERSIONS}/"):
        located = parse_proxy_path(uri[len(ARTIFACT_SCHEME) :].lstrip("/"))
        if located is None:
            return None
        run_id, path = located.run_id, located.inner
    else:
        return None
    return files_under(session, files, run_id, path, access)
