"""`client.registry`: registered models, versions, files, aliases, stages and history.

References name a version: `name/3`, `name/latest`, `name/production` (newest in that stage),
`name@champion` (an alias). A bare `name` names the model: a method that takes a version refuses it
(ApiError 400 `version_reference_required`) instead of guessing `name/latest`.
"""

from __future__ import annotations

import builtins
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from modelyard.errors import ModelyardError
from modelyard.kit.page import Page
from modelyard.registry.references import split_reference
from modelyard.registry.schemas import (
    AliasRead,
    EventRead,
    FileRead,
    LabelInUse,
    ModelDescription,
    ModelHolders,
    ModelRead,
    StageHolders,
    VersionRead,
)
from modelyard.sdk import transfers
from modelyard.sdk.errors import ApiError
from modelyard.sdk.paging import iterate_pages

if TYPE_CHECKING:
    from modelyard.sdk.client import Client

_UNSET: Any = object()


def _drop_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _version_path(reference: str) -> str:
    """The version's route; a malformed reference is refused here as the server would (ApiError 400)."""
    try:
        name, selector = split_reference(reference)
    except ModelyardError as error:
        raise ApiError(error.status, error.code, error.message, {}) from None
    return f"/registry/models/{quote(name)}/versions/{quote(selector)}"


def _file_path(reference: str, name: str) -> str:
    """A file's route with its name sent as given: `.` and `..` segments are escaped so that no
    client normalises `../evil.pt` away before the server can refuse it."""
    segments = [quote(part, safe="").replace(".", "%2E") if part in (".", "..") else quote(part, safe="")
                for part in name.split("/")]  # fmt: skip
    return f"{_version_path(reference)}/files/{'/'.join(segments)}"


class Registry:
    def __init__(self, client: Client) -> None:
        self._client = client

    # -- registered models -------------------------------------------------------------------
    def create(
        self,
        name: str,
        *,
        description: str = "",
        metadata: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        labels: list[str] | None = None,
        project: str | None = None,
    ) -> ModelRead:
        """`project`: the owning project (name or id), counted with it and visible to tokens limited to it."""
        body = {"name": name, "description": description, "metadata": metadata or {}, "tags": tags or {},
                "labels": labels or [], **_drop_none(project=project)}  # fmt: skip
        return self._client.send_model(ModelRead, "POST", "/registry/models", json=body)

    def get(self, name: str) -> ModelRead:
        return self._client.get_model(ModelRead, f"/registry/models/{quote(name)}")

    def describe(self, name: str) -> ModelDescription:
        """The model with its latest version."""
        return self._client.get_model(ModelDescription, f"/registry/models/{quote(name)}/describe")

    def list(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        labels: list[str] | None = None,
        archived: bool | None = None,
        sort: str = "name",
        order: str = "asc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ModelRead]:
        params = _drop_none(name=name, description=description, tag=tags, label=labels, archived=archived,
                            sort=sort, order=order, limit=limit, cursor=cursor)  # fmt: skip
        return self._client.get_model(Page[ModelRead], "/registry/models", params=params)

    def iterate(self, **filters: Any) -> Iterator[ModelRead]:
        return iterate_pages(self.list, **filters)

    def update(self, name: str, /, **changes: Any) -> ModelRead:
        """Change `name`, `description`, `add_metadata`, `remove_metadata`, `set_tags`, `remove_tags`,
        `add_labels`, `remove_labels`, `archived` (with an optional `comment`)."""
        return self._client.send_model(ModelRead, "PATCH", f"/registry/models/{quote(name)}", json=changes)

    def add_metadata(self, name: str, metadata: dict[str, Any]) -> ModelRead:
        """Merge top-level keys; a nested value replaces the stored one whole."""
        return self.update(name, add_metadata=metadata)

    def remove_metadata(self, name: str, keys: builtins.list[str]) -> ModelRead:
        return self.update(name, remove_metadata=keys)

    def archive(self, name: str, *, archived: bool = True) -> ModelRead:
        return self.update(name, archived=archived)

    def delete(self, name: str, *, comment: str = "") -> None:
        self._client.request("DELETE", f"/registry/models/{quote(name)}", params={"comment": comment})

    def labels(self) -> builtins.list[LabelInUse]:
        return [LabelInUse.model_validate(item) for item in self._client.request("GET", "/registry/labels").json()]

    # -- versions ----------------------------------------------------------------------------
    def register(
        self,
        name: str,
        /,
        *,
        revision_id: str | None = None,
        files: Sequence[Path | str] | Mapping[str, Path | str] | None = None,
        create_model: bool = False,
        **fields: Any,
    ) -> VersionRead:
        """Register a model revision (`revision_id`), or a version from files (any framework):
        `framework`, `task_type`, `label_map`, `parameters`, `runtime`, `metrics`, `tags`, ...

        `files` are paths (stored under their file name) or {name in the version: path}. The version
        and its files are one request and one transaction: a refused file leaves no version behind
        and spends no version number."""
        body = {**fields, "create_model": create_model}
        if revision_id is not None:
            body["revision_id"] = revision_id
        if not files:
            return self._client.send_model(VersionRead, "POST", f"/registry/models/{quote(name)}/versions", json=body)
        named = files if isinstance(files, Mapping) else {Path(path).name: path for path in files}
        with ExitStack() as stack:
            parts = [("file", (Path(path).name, stack.enter_context(Path(path).open("rb")), "application/octet-stream"))
                     for path in named.values()]  # fmt: skip
            form = {"version": json.dumps(body), "file_name": builtins.list(named)}
            return self._client.send_model(
                VersionRead, "POST", f"/registry/models/{quote(name)}/versions:upload", data=form, files=parts
            )

    def register_best(
        self,
        name: str,
        *,
        project: str,
        metric: str,
        mode: str = "max",
        dataset_revision_id: str | None = None,
        create_model: bool = True,
        comment: str = "",
    ) -> VersionRead:
        body = _drop_none(project=project, metric=metric, mode=mode, dataset_revision_id=dataset_revision_id,
                          create_model=create_model, comment=comment)  # fmt: skip
        return self._client.send_model(VersionRead, "POST", f"/registry/models/{quote(name)}/versions:best", json=body)

    def versions(
        self, name: str, *, stage: str | None = None, order: str = "desc", limit: int = 50, cursor: str | None = None
    ) -> Page[VersionRead]:
        params = _drop_none(stage=stage, order=order, limit=limit, cursor=cursor)
        return self._client.get_model(Page[VersionRead], f"/registry/models/{quote(name)}/versions", params=params)

    def iterate_versions(self, name: str, **filters: Any) -> Iterator[VersionRead]:
        return iterate_pages(self.versions, name, **filters)

    def search_versions(
        self,
        *,
        model: str | None = None,
        tags: builtins.list[str] | None = None,
        metric: str | None = None,
        order: str = "desc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[VersionRead]:
        """Versions by tag (`key:value`) and/or metric (`accuracy>=0.9`, best first)."""
        params = _drop_none(model=model, tag=tags, metric=metric, order=order, limit=limit, cursor=cursor)
        return self._client.get_model(Page[VersionRead], "/registry/versions", params=params)

    def version(self, reference: str) -> VersionRead:
        return self._client.get_model(VersionRead, _version_path(reference))

    def update_version(self, reference: str, /, *, force: bool = False, **changes: Any) -> VersionRead:
        """Change `name`, `description`, `framework`, `task_type`, `set_labels`, `remove_labels`,
        `set_parameters`, `remove_parameters`, `set_metrics`, `remove_metrics`, `set_tags`,
        `remove_tags`, `runtime` (replaced whole). Changing the label map of a version that holds an
        alias or is in staging/production needs `force=True` (else ApiError 409 `version_in_use`)."""
        body = {**changes, "force": True} if force else changes
        return self._client.send_model(VersionRead, "PATCH", _version_path(reference), json=body)

    def delete_version(self, reference: str, *, comment: str = "") -> None:
        self._client.request("DELETE", _version_path(reference), params={"comment": comment})

    def transfer(
        self, reference: str, target_model: str, *, create_model: bool = False, comment: str = ""
    ) -> VersionRead:
        body = {"target_model": target_model, "create_model": create_model, "comment": comment}
        return self._client.send_model(VersionRead, "POST", f"{_version_path(reference)}/transfer", json=body)

    def copy(self, reference: str, target_model: str, *, create_model: bool = False, comment: str = "") -> VersionRead:
        body = {"target_model": target_model, "create_model": create_model, "comment": comment}
        return self._client.send_model(VersionRead, "POST", f"{_version_path(reference)}/copy", json=body)

    # -- aliases and stages ------------------------------------------------------------------
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected_version: int | None = _UNSET,
        force: bool = False,
        comment: str = "",
    ) -> VersionRead:
        """Point `alias` at `version`. With `expected_version` (None: expected unset) it is a
        compare-and-set: a different current holder raises ApiError 409 naming it."""
        body: dict[str, Any] = {"version": version, "force": force, "comment": comment}
        if expected_version is not _UNSET:
            body["expected_version"] = expected_version
        return self._client.send_model(
            VersionRead, "PUT", f"/registry/models/{quote(name)}/aliases/{quote(alias)}", json=body
        )

    def remove_alias(self, name: str, alias: str, *, expected_version: int | None = None, comment: str = "") -> None:
        params = _drop_none(expected_version=expected_version, comment=comment)
        self._client.request("DELETE", f"/registry/models/{quote(name)}/aliases/{quote(alias)}", params=params)

    def aliases(self, name: str) -> dict[str, int]:
        aliases: dict[str, int] = self._client.request("GET", f"/registry/models/{quote(name)}/aliases").json()
        return aliases

    def alias(self, name: str, alias: str, *, at: datetime | None = None) -> AliasRead:
        """Who holds `alias` now, or held it at `at` (from the history)."""
        params = _drop_none(at=at.isoformat() if at else None)
        return self._client.get_model(
            AliasRead, f"/registry/models/{quote(name)}/aliases/{quote(alias)}", params=params
        )

    def stage(self, reference: str, stage: str, *, comment: str = "", archive_existing: bool = False) -> VersionRead:
        body = {"stage": stage, "comment": comment, "archive_existing": archive_existing}
        return self._client.send_model(VersionRead, "POST", f"{_version_path(reference)}/stage", json=body)

    def stage_holders(self, name: str, stage: str, *, at: datetime | None = None) -> StageHolders:
        params = _drop_none(at=at.isoformat() if at else None)
        return self._client.get_model(StageHolders, f"/registry/models/{quote(name)}/stages/{stage}", params=params)

    def holders(self, name: str, *, at: datetime | None = None) -> ModelHolders:
        """Every alias and stage with the versions that hold it: now, or at `at` (from the history)."""
        params = _drop_none(at=at.isoformat() if at else None)
        return self._client.get_model(ModelHolders, f"/registry/models/{quote(name)}/holders", params=params)

    # -- history -----------------------------------------------------------------------------
    def events(
        self,
        name: str | None = None,
        *,
        action: str | None = None,
        version: int | None = None,
        order: str = "asc",
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[EventRead]:
        """A model's history (`name`), or every event (no name).

        When no model of that name exists (it was deleted, or renamed), the events recorded under
        that name are returned: the history of a deleted model stays readable."""
        params = _drop_none(action=action, version=version, order=order, limit=limit, cursor=cursor)
        if not name:
            return self._client.get_model(Page[EventRead], "/registry/events", params=params)
        try:
            return self._client.get_model(Page[EventRead], f"/registry/models/{quote(name)}/events", params=params)
        except ApiError as missing:
            if missing.status != 404:
                raise
            recorded = self._client.get_model(Page[EventRead], "/registry/events", params={**params, "model": name})
            if not recorded.items and cursor is None:
                raise
            return recorded

    # -- files -------------------------------------------------------------------------------
    def files(self, reference: str) -> builtins.list[FileRead]:
        response = self._client.request("GET", f"{_version_path(reference)}/files")
        return [FileRead.model_validate(item) for item in response.json()]

    def upload(self, reference: str, path: Path | str, *, name: str | None = None, force: bool = False) -> FileRead:
        """Stream a file into a version, as `name` (default: the file's name); a file of the same name
        is replaced atomically. A version holding an alias or in staging/production needs `force`."""
        path = Path(path)
        file_name = path.name if name is None else name
        params = {"force": "true"} if force else None
        return self._client.send_model(
            FileRead, "PUT", _file_path(reference, file_name), params=params, **transfers.raw_upload(path)
        )

    def delete_file(self, reference: str, name: str, *, force: bool = False) -> None:
        params = {"force": "true"} if force else None
        self._client.request("DELETE", _file_path(reference, name), params=params)

    def download_file(self, reference: str, name: str, target: Path | str) -> Path:
        """Download one file to `target` (a file path), checking its sha256 on the way."""
        return self._download(_file_path(reference, name), Path(target))

    def download(self, reference: str, folder: Path | str) -> builtins.list[Path]:
        """Every file of a version into `folder`, each checked against its recorded sha256."""
        folder = Path(folder)
        version = self.version(reference)
        base = f"/registry/models/{quote(version.model)}/versions/{version.number}"
        paths = []
        for file in version.files:
            paths.append(self._download(f"{base}/files/{quote(file.name)}", folder / file.name, expected=file.sha256))
        return paths

    def _download(self, path: str, target: Path, *, expected: str | None = None) -> Path:
        return transfers.download(self._client, path, target, expected=expected)

    # -- load --------------------------------------------------------------------------------
    def load(self, reference: str, *, folder: Path | str | None = None, device: str = "CPU") -> Any:
        """Something that predicts: a PyTorch module (or the saved state) for a PyTorch version,
        a compiled OpenVINO model for an OpenVINO version. Files go to `folder` (default: a
        temporary folder), hashes checked."""
        version = self.version(reference)
        folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix=f"modelyard-{version.model}-"))
        paths = self.download(f"{version.model}/{version.number}", folder)
        if version.framework == "pytorch":
            return _load_pytorch(paths)
        if version.framework == "openvino":
            return _load_openvino(paths, device)
        raise ValueError(f"cannot load a {version.framework} version in Python; its files are in {folder} (download())")


def _pick(paths: list[Path], suffixes: tuple[str, ...], what: str) -> Path:
    matches = [path for path in paths if path.suffix.lower() in suffixes]
    if not matches:
        raise ValueError(f"the version has no {what} file ({', '.join(suffixes)})")
    return matches[0]


def _load_pytorch(paths: list[Path]) -> Any:
    import torch

    weights = _pick(paths, (".pt", ".pth"), "PyTorch")
    if _is_modelyard_checkpoint(weights):
        # A registered model revision: its model.pt describes the network, which is rebuilt from it.
        from modelyard.training.checkpoint import load_model

        return load_model(weights).model.eval()
    # A whole module was saved with torch.save(module): unpickling it needs weights_only=False.
    # The bytes were just checked against the registry's sha256.
    loaded = torch.load(weights, map_location="cpu", weights_only=False)
    if isinstance(loaded, torch.nn.Module):
        loaded.eval()
    return loaded


def _is_modelyard_checkpoint(path: Path) -> bool:
    import pickle

    import torch

    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError):
        return False  # a pickled module or another format: not plain tensors
    return isinstance(content, dict) and "architecture_id" in content and "state_dict" in content


def _load_openvino(paths: list[Path], device: str) -> Any:
    import openvino

    model_xml = _pick(paths, (".xml",), "OpenVINO IR")
    return openvino.Core().compile_model(str(model_xml), device)
