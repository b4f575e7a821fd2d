"""SDK resources: thin, typed wrappers over the REST routes."""

from __future__ import annotations

import builtins
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.architectures.schemas import ArchitectureRead, CachedWeightsRead
from modelyard.auth.schemas import TokenCreated, TokenRead
from modelyard.jobs.schemas import JobRead
from modelyard.jobs.states import FINISHED_STATUSES
from modelyard.kit.page import Page
from modelyard.projects.schemas import LabelRead, LabelsUsage, ProjectRead
from modelyard.sdk.paging import iterate_pages
from modelyard.storage.schemas import StorageUsage, StoredFileRead

if TYPE_CHECKING:
    from modelyard.sdk.client import Client


def _drop_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class Projects:
    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self, name: str, task_type: str, *, labels: list[str | dict[str, Any]] | None = None, description: str = ""
    ) -> ProjectRead:
        body = {"name": name, "task_type": task_type, "description": description, "labels": labels or []}
        return self._client.send_model(ProjectRead, "POST", "/projects", json=body)

    def list(
        self,
        *,
        task_type: str | None = None,
        name: str | None = None,
        sort: str = "created_at",
        order: str = "asc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ProjectRead]:
        params = _drop_none(task_type=task_type, name=name, sort=sort, order=order, limit=limit, cursor=cursor)
        return self._client.get_model(Page[ProjectRead], "/projects", params=params)

    def iterate(self, **filters: Any) -> Iterator[ProjectRead]:
        """Every project matching the filters, page after page."""
        return iterate_pages(self.list, **filters)

    def get(self, project: str) -> ProjectRead:
        return self._client.get_model(ProjectRead, f"/projects/{project}")

    def update(self, project: str, *, name: str | None = None, description: str | None = None) -> ProjectRead:
        body = _drop_none(name=name, description=description)
        return self._client.send_model(ProjectRead, "PATCH", f"/projects/{project}", json=body)

    def delete(self, project: str) -> None:
        self._client.request("DELETE", f"/projects/{project}")

    # -- labels ------------------------------------------------------------------------------
    def labels(self, project: str) -> builtins.list[LabelRead]:
        response = self._client.request("GET", f"/projects/{project}/labels")
        return [LabelRead.model_validate(item) for item in response.json()]

    def add_label(self, project: str, name: str, *, color: str | None = None, hotkey: str | None = None) -> LabelRead:
        body = _drop_none(name=name, color=color, hotkey=hotkey)
        return self._client.send_model(LabelRead, "POST", f"/projects/{project}/labels", json=body)

    def update_label(self, project: str, label: str, **changes: Any) -> LabelRead:
        """Change `name`, `color` or `hotkey` (pass `hotkey=None` to clear it)."""
        return self._client.send_model(LabelRead, "PATCH", f"/projects/{project}/labels/{label}", json=changes)

    def label_usage(self, project: str) -> LabelsUsage:
        """Items, annotated items, and how many items and shapes use each label."""
        return self._client.get_model(LabelsUsage, f"/projects/{project}/labels:usage")

    def delete_label(self, project: str, label: str, *, force: bool = False) -> None:
        """Refused (409) while annotations use the label, unless `force` (removes those shapes)."""
        params = {"force": "true"} if force else {}
        self._client.request("DELETE", f"/projects/{project}/labels/{label}", params=params)


class Jobs:
    def __init__(self, client: Client) -> None:
        self._client = client

    def submit(self, job_type: str, params: dict[str, Any] | None = None, *, project: str | None = None) -> JobRead:
        body = {"type": job_type, "params": params or {}, "project": project}
        return self._client.send_model(JobRead, "POST", "/jobs", json=body)

    def list(
        self,
        *,
        project: str | None = None,
        type: str | None = None,
        status: str | None = None,
        order: str = "desc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[JobRead]:
        params = _drop_none(project=project, type=type, status=status, order=order, limit=limit, cursor=cursor)
        return self._client.get_model(Page[JobRead], "/jobs", params=params)

    def get(self, job_id: str) -> JobRead:
        return self._client.get_model(JobRead, f"/jobs/{job_id}")

    def cancel(self, job_id: str) -> JobRead:
        return self._client.send_model(JobRead, "POST", f"/jobs/{job_id}:cancel")

    def logs(self, job_id: str) -> str:
        return self._client.request("GET", f"/jobs/{job_id}/logs", params={"follow": "false"}).text

    def metrics(self, job_id: str) -> builtins.list[dict[str, Any]]:
        """The figures the job recorded so far (a training: one record per epoch), oldest first."""
        records: builtins.list[dict[str, Any]] = self._client.request("GET", f"/jobs/{job_id}/metrics").json()
        return records

    def follow_logs(self, job_id: str) -> Generator[str, None, None]:
        """The job's log lines as they are written, until the job ends (a stream: no polling, locally too).
        `close()` the generator to stop listening early."""
        for event, data in self._client.stream_events(f"/jobs/{job_id}/logs"):
            if event == "log":
                yield data

    def events(self, job_id: str) -> Generator[JobRead, None, None]:
        """The job's state each time it changes, until it ends; `close()` the generator to stop listening early."""
        for event, data in self._client.stream_events(f"/jobs/{job_id}/events"):
            if event == "status":
                yield JobRead.model_validate(data)

    def wait(self, job_id: str, *, timeout: float | None = None, interval: float = 0.5) -> JobRead:
        """Poll until the job finishes; returns its final state (raises TimeoutError past `timeout`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.status in FINISHED_STATUSES:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout} s")
            self._client.poll(interval)


class Files:
    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, prefix: str = "", *, limit: int = 100, cursor: str | None = None) -> Page[StoredFileRead]:
        params = _drop_none(prefix=prefix, limit=limit, cursor=cursor)
        return self._client.get_model(Page[StoredFileRead], "/files", params=params)

    def usage(self) -> StorageUsage:
        """What the stored files take, by top folder and by project, and the disk's free space (admin)."""
        return self._client.get_model(StorageUsage, "/files:usage")

    def download(self, key: str, destination: Path) -> Path:
        """Stream a stored file to `destination`, checking its sha256 on the way (ApiError `integrity_error` when
        it does not match; nothing is left at `destination` then)."""
        from modelyard.sdk.transfers import download

        return download(self._client, f"/files/{key}", destination)


class Tokens:
    """API tokens (admin scope). A created token's secret is in `create`'s result and nowhere else, ever."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> builtins.list[TokenRead]:
        response = self._client.request("GET", "/tokens")
        return [TokenRead.model_validate(token) for token in response.json()]

    def create(
        self,
        name: str,
        scope: str,
        *,
        projects: builtins.list[str] | None = None,
        expires_in: str | None = None,
        user: str | None = None,
    ) -> TokenCreated:
        body = _drop_none(name=name, scope=scope, projects=projects or [], expires_in=expires_in, user=user)
        return self._client.send_model(TokenCreated, "POST", "/tokens", json=body)

    def revoke(self, token_id: str) -> TokenRead:
        return self._client.send_model(TokenRead, "POST", f"/tokens/{token_id}:revoke")


class Architectures:
    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, task: str | None = None) -> list[ArchitectureRead]:
        response = self._client.request("GET", "/architectures", params=_drop_none(task=task))
        return [ArchitectureRead.model_validate(item) for item in response.json()]

    def get(self, architecture_id: str) -> ArchitectureRead:
        return self._client.get_model(ArchitectureRead, f"/architectures/{architecture_id}")

    def cached_weights(self) -> builtins.list[CachedWeightsRead]:
        return [CachedWeightsRead.model_validate(item) for item in self._client.request("GET", "/weights").json()]

    def import_weights(self, architecture_id: str, file: Path) -> CachedWeightsRead:
        """Upload a weights file obtained elsewhere (offline installs); its hash must match the manifest."""
        with file.open("rb") as handle:
            return self._client.send_model(
                CachedWeightsRead, "PUT", f"/architectures/{architecture_id}/weights", content=_file_chunks(handle)
            )

    def delete_weights(self, architecture_id: str) -> None:
        self._client.request("DELETE", f"/architectures/{architecture_id}/weights")


def _file_chunks(handle: Any, size: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk
