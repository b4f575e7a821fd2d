"""SDK resource `client.datasets`: items, annotations, revisions, import and export."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from modelyard.datasets.analysis import DatasetAnalysis
from modelyard.datasets.schemas import (
    AnnotationRead,
    DatasetCounts,
    ItemNeighbours,
    ItemPages,
    ItemProposal,
    ItemRead,
    ItemsBulkResult,
    RevisionItemRead,
    RevisionRead,
    UploadResult,
)
from modelyard.jobs.schemas import JobRead
from modelyard.kit.page import Page
from modelyard.sdk.paging import iterate_pages

if TYPE_CHECKING:
    from modelyard.sdk.client import Client


def _drop_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _if_match(version: int | None) -> dict[str, str]:
    return {"if-match": f'"{version}"'} if version is not None else {}


UPLOAD_BATCH = 200


class Datasets:
    def __init__(self, client: Client) -> None:
        self._client = client

    # -- items -------------------------------------------------------------------------------
    def upload(
        self, project: str, paths: Sequence[str | Path], *, atomic: bool = False, batch_size: int = UPLOAD_BATCH
    ) -> UploadResult:
        """Upload image files and/or zips. Rejected files are listed in the result (with
        `atomic=True` a rejected file fails the whole upload: ApiError, nothing stored).

        Many files go in requests of `batch_size` files each (a request carries at most 1,000
        parts); `atomic=True` sends them in one request, so that it stays all or nothing."""
        paths = list(paths)
        if atomic or len(paths) <= batch_size:
            return self._upload_batch(project, paths, atomic)
        results = [
            self._upload_batch(project, paths[i : i + batch_size], False) for i in range(0, len(paths), batch_size)
        ]
        return UploadResult(
            created=[item for result in results for item in result.created],
            duplicates=[item for result in results for item in result.duplicates],
            rejected=[item for result in results for item in result.rejected],
        )

    def _upload_batch(self, project: str, paths: Sequence[str | Path], atomic: bool) -> UploadResult:
        with ExitStack() as stack:
            files = [("files", (Path(p).name, stack.enter_context(open(p, "rb")))) for p in paths]
            response = self._client.request(
                "POST",
                f"/projects/{project}/dataset/items",
                files=files,
                params={"atomic": str(atomic).lower()},
                allow_statuses=() if atomic else (400,),
            )
        body = response.json()
        if response.status_code == 400 and "rejected" not in body:
            from modelyard.sdk.client import _api_error

            raise _api_error(response)
        return UploadResult.model_validate(body)

    def items(
        self,
        project: str,
        *,
        annotated: bool | None = None,
        label: str | None = None,
        subset: str | None = None,
        user_reviewed: bool | None = None,
        uploaded_after: str | None = None,
        uploaded_before: str | None = None,
        name: str | None = None,
        sort: str = "uploaded_at",
        order: str = "asc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ItemRead]:
        """One page of items; `sort` is uploaded_at or name; `name` matches part of the file name."""
        params = _drop_none(
            annotated=annotated, label=label, subset=subset, user_reviewed=user_reviewed,
            uploaded_after=uploaded_after, uploaded_before=uploaded_before, name=name, sort=sort, order=order,
            limit=limit, cursor=cursor,
        )  # fmt: skip
        return self._client.get_model(Page[ItemRead], f"/projects/{project}/dataset/items", params=params)

    def item_pages(
        self, project: str, *, page_size: int = 100, sort: str = "uploaded_at", order: str = "asc", **filters: Any
    ) -> ItemPages:
        """The cursor of every page of `items` with these filters (as keywords of `items`) and sort."""
        params = _drop_none(page_size=page_size, sort=sort, order=order, **filters)
        return self._client.get_model(ItemPages, f"/projects/{project}/dataset/items:pages", params=params)

    def counts(self, project: str, **filters: Any) -> DatasetCounts:
        """Items in all, per subset and per label; of those matching `filters` (keywords of `items`) if given."""
        return self._client.get_model(
            DatasetCounts, f"/projects/{project}/dataset/counts", params=_drop_none(**filters)
        )

    def bulk(
        self,
        project: str,
        action: str,
        *,
        ids: Sequence[str] | None = None,
        filter: dict[str, Any] | None = None,  # noqa: A002 (the API's name)
        exclude: Sequence[str] = (),
        label: str | None = None,
        subset: str | None = None,
    ) -> ItemsBulkResult:
        """`assign_label` (with `label`), `delete`, or `move_to_subset` (with `subset`) on the items of `ids`,
        or on every item matching `filter` ({} for all) less `exclude`: all of them or none."""
        body = _drop_none(
            action=action, ids=list(ids) if ids is not None else None, filter=filter, label=label, subset=subset
        )
        if exclude:
            body["exclude"] = list(exclude)
        return self._client.send_model(ItemsBulkResult, "POST", f"/projects/{project}/dataset/items:bulk", json=body)

    def iterate_items(self, project: str, **filters: Any) -> Iterator[ItemRead]:
        return iterate_pages(self.items, project, **filters)

    def item(self, project: str, item: str) -> ItemRead:
        return self._client.get_model(ItemRead, f"/projects/{project}/dataset/items/{item}")

    def neighbours(
        self,
        project: str,
        item: str,
        *,
        annotated: bool | None = None,
        label: str | None = None,
        subset: str | None = None,
        user_reviewed: bool | None = None,
    ) -> ItemNeighbours:
        """The items before and after `item` (upload order) among those the filters keep, and its place there."""
        params = _drop_none(annotated=annotated, label=label, subset=subset, user_reviewed=user_reviewed)
        return self._client.get_model(ItemNeighbours, f"/projects/{project}/dataset/items/{item}/neighbours",
                                      params=params)  # fmt: skip

    def update_item(
        self, project: str, item: str, *, user_reviewed: bool | None = None, subset: str | None = None
    ) -> ItemRead:
        body = _drop_none(user_reviewed=user_reviewed, subset=subset)
        return self._client.send_model(ItemRead, "PATCH", f"/projects/{project}/dataset/items/{item}", json=body)

    def delete_items(self, project: str, items: Sequence[str]) -> int:
        response = self._client.request("POST", f"/projects/{project}/dataset/items:delete", json={"ids": list(items)})
        return int(response.json()["deleted"])

    def image(self, project: str, item: str, *, thumbnail: bool = False) -> bytes:
        kind = "thumbnail" if thumbnail else "image"
        return self._client.request("GET", f"/projects/{project}/dataset/items/{item}/{kind}").content

    # -- annotations -------------------------------------------------------------------------
    def annotation(self, project: str, item: str) -> AnnotationRead | None:
        body = self._client.request("GET", f"/projects/{project}/dataset/items/{item}/annotation").json()
        return AnnotationRead.model_validate(body) if body is not None else None

    def annotate(
        self,
        project: str,
        item: str,
        *,
        labels: list[str] | None = None,
        boxes: list[dict[str, Any]] | None = None,
        polygons: list[dict[str, Any]] | None = None,
        user_reviewed: bool | None = None,
        if_version: int | None = None,
    ) -> ItemRead:
        """Set (replace) an item's annotation. Boxes: {x, y, width, height, label}; polygons:
        {points: [[x, y], ...], label}; labels by name or id. `if_version`: only while the stored annotation is
        still that version (the item's `annotation_version`), else ApiError 409 `annotation_changed`."""
        body = _drop_none(labels=labels, boxes=boxes, polygons=polygons, user_reviewed=user_reviewed)
        return self._client.send_model(
            ItemRead, "PUT", f"/projects/{project}/dataset/items/{item}/annotation", json=body,
            headers=_if_match(if_version),
        )  # fmt: skip

    def delete_annotation(self, project: str, item: str, *, if_version: int | None = None) -> ItemRead:
        return self._client.send_model(ItemRead, "DELETE", f"/projects/{project}/dataset/items/{item}/annotation",
                                       headers=_if_match(if_version))  # fmt: skip

    def propose(self, project: str, item: str) -> ItemProposal:
        """The project's enabled pipeline's predictions for an item, as an annotation to accept or edit (nothing
        is stored; ApiError 409 `pipeline_disabled` while no model is enabled)."""
        return self._client.send_model(ItemProposal, "POST", f"/projects/{project}/dataset/items/{item}:propose")

    # -- revisions ---------------------------------------------------------------------------
    def create_revision(self, project: str, *, ratios: dict[str, float] | None = None, seed: int = 0) -> RevisionRead:
        body: dict[str, Any] = {"seed": seed}
        if ratios:
            body["ratios"] = ratios
        return self._client.send_model(RevisionRead, "POST", f"/projects/{project}/dataset/revisions", json=body)

    def revisions(self, project: str) -> list[RevisionRead]:
        response = self._client.request("GET", f"/projects/{project}/dataset/revisions")
        return [RevisionRead.model_validate(item) for item in response.json()]

    def revision(self, project: str, revision: str | int) -> RevisionRead:
        return self._client.get_model(RevisionRead, f"/projects/{project}/dataset/revisions/{revision}")

    def analysis(self, project: str, revision: str | int = "latest") -> DatasetAnalysis:
        """The revision's figures: image and object sizes, objects per image, labels and imbalance, density."""
        return self._client.get_model(DatasetAnalysis, f"/projects/{project}/dataset/revisions/{revision}/analysis")

    def revision_items(
        self,
        project: str,
        revision: str | int,
        *,
        subset: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[RevisionItemRead]:
        params = _drop_none(subset=subset, limit=limit, cursor=cursor)
        return self._client.get_model(
            Page[RevisionItemRead], f"/projects/{project}/dataset/revisions/{revision}/items", params=params
        )

    def download_revision(self, project: str, revision: str | int, path: str | Path) -> Path:
        response = self._client.request("GET", f"/projects/{project}/dataset/revisions/{revision}/data.parquet")
        Path(path).write_bytes(response.content)
        return Path(path)

    def delete_revision_files(self, project: str, revision: str | int, *, force: bool = False) -> RevisionRead:
        return self._client.send_model(
            RevisionRead, "DELETE", f"/projects/{project}/dataset/revisions/{revision}/files",
            params={"force": str(force).lower()},
        )  # fmt: skip

    # -- import and export -------------------------------------------------------------------
    def import_(
        self,
        path: str | Path,
        format: str,
        *,
        project: str | None = None,
        new_project: str | None = None,
        task_type: str | None = None,
        unknown_labels: str = "create",
        testing_fraction: float | None = None,
    ) -> JobRead:
        """Start an import job from a dataset folder (zipped on the fly) or a zip. `testing_fraction`: the
        share of training items split off as testing when the source has no testing subset (server default
        0.1; 0 splits nothing)."""
        data = _drop_none(
            format=format,
            project=project,
            new_project=new_project,
            task_type=task_type,
            unknown_labels=unknown_labels,
            testing_fraction=testing_fraction,
        )
        source = Path(path)
        with ExitStack() as stack:
            handle: IO[bytes]
            if source.is_dir():
                handle = stack.enter_context(tempfile.TemporaryFile())
                _zip_into(source, handle)
                handle.seek(0)
                name = f"{source.name}.zip"
            else:
                handle, name = stack.enter_context(open(source, "rb")), source.name
            return self._client.send_model(
                JobRead, "POST", "/dataset-imports", files={"file": (name, handle)}, data=data
            )

    def export(self, project: str, format: str, *, revision: str | int | None = None) -> JobRead:
        body = _drop_none(format=format, revision=str(revision) if revision is not None else None)
        return self._client.send_model(JobRead, "POST", f"/projects/{project}/dataset/exports", json=body)

    def download_export(self, project: str, job_id: str, path: str | Path) -> Path:
        response = self._client.request("GET", f"/projects/{project}/dataset/exports/{job_id}/download")
        Path(path).write_bytes(response.content)
        return Path(path)


def _zip_into(folder: Path, handle: io.IOBase | Any) -> None:
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                bundle.write(path, path.relative_to(folder).as_posix())
