"""Dataset revisions: freeze the annotated items (assigning new ones a subset once and for all) into
one immutable data.parquet; list, browse, and delete a revision's files while keeping its record."""

from __future__ import annotations

import posixpath
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import structlog
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.orm import Session

from modelyard.datasets.analysis import DatasetAnalysis, analyse_table
from modelyard.datasets.annotations import LabelBook
from modelyard.datasets.models import DatasetRevision
from modelyard.datasets.parquet import (
    FORMAT_VERSION,
    PARQUET_NAME,
    RevisionItem,
    RevisionLabel,
    RevisionMetadata,
    read_revision,
    read_revision_metadata,
    read_revision_table,
    write_revision,
)
from modelyard.datasets.repository import ItemRepository, RevisionRepository, keys_held_by_items
from modelyard.datasets.revision_table import RevisionRows, label_counts, revision_table
from modelyard.datasets.revision_table import fingerprint as revision_fingerprint
from modelyard.datasets.schemas import RevisionCreate, RevisionItemRead
from modelyard.datasets.split import SUBSETS, assign_missing_subsets
from modelyard.db.base import new_id, utcnow
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.kit.bounds import fits_int64
from modelyard.projects.models import Project
from modelyard.storage.service import FileService

log = structlog.get_logger("modelyard.datasets.revisions")


def revision_folder(project_id: str, revision_id: str) -> str:
    return f"projects/{project_id}/dataset_revisions/{revision_id}"


def revision_file_blockers(session: Session, revision: DatasetRevision) -> list[str]:
    """Why the revision's files must stay: one line per kept model revision (weights available) that
    needs them to be retrained or re-evaluated."""
    from modelyard.revisions.repository import ModelRevisionRepository

    return [
        f"model revision {model.number} ({model.name}, {model.id}) was trained on it"
        for model in ModelRevisionRepository(session).kept_on_dataset_revision(revision.id)
    ]


def require_items_in_subset(project: Project, revision: DatasetRevision, subset: str) -> None:
    """A 409 saying what to do when `subset` of the dataset revision has no items."""
    if revision.subset_counts.get(subset, 0) > 0:
        return
    having = [f"{name} {count}" for name, count in sorted(revision.subset_counts.items()) if count]
    other = next((name for name in ("testing", "validation", "training") if revision.subset_counts.get(name)), None)
    hint = f"evaluate on a subset that has items (`--subset {other}`), or " if other and other != subset else ""
    raise Conflict(
        f"dataset revision {revision.number} of project {project.name!r} has no {subset} items "
        f"(it has {', '.join(having) or 'none'}): {hint}give the project a {subset} subset (import with "
        "`--testing-fraction`, or set items' subset), make a new dataset revision "
        f"(`modelyard dataset revision create {project.name}`) and evaluate on it (`--dataset-revision N`)",
        code="empty_subset",
        subset=subset,
        subset_counts=revision.subset_counts,
    )


class DatasetRevisionService:
    def __init__(self, session: Session, files: FileService, actor: str) -> None:
        self.session = session
        self.files = files
        self.actor = actor
        self.items = ItemRepository(session)
        self.revisions = RevisionRepository(session)

    # -- reads -------------------------------------------------------------------------------
    def get(self, project: Project, reference: str) -> DatasetRevision:
        """A revision by id, by number, `latest`, or a unique prefix of its id (a number first: an id prefix can
        be all digits too)."""
        revision = None
        if reference == "latest":
            revision = self.revisions.latest(project.id)
        elif reference.isascii() and reference.isdigit():
            number = int(reference)
            revision = self.revisions.by_number(project.id, number) if fits_int64(number) else None
        else:
            revision = self.revisions.get(project.id, reference)
        if revision is None:
            revision = self.revisions.by_id_prefix(project.id, reference)
        if revision is None:
            raise NotFound(
                f"project {project.name!r} has no dataset revision {reference!r}: "
                "list them with `modelyard dataset revisions PROJECT`"
            )
        return revision

    def all(self, project: Project) -> list[DatasetRevision]:
        return self.revisions.all(project.id)

    def parquet_path(self, revision: DatasetRevision) -> Path:
        """A verified local path of the revision's data.parquet (the training job reads it)."""
        if revision.files_deleted:
            raise Conflict(f"dataset revision {revision.number} had its files deleted; only its record is left")
        return self.files.local_path(self.files.get(revision.parquet_key))

    def read_items(self, revision: DatasetRevision, subset: str | None = None) -> list[RevisionItem]:
        """The revision's items (or one subset's), each image a verified local file from the store."""
        folder = posixpath.dirname(revision.parquet_key)

        def locate(relative: list[str]) -> list[Path]:
            return self.files.local_paths([posixpath.normpath(posixpath.join(folder, path)) for path in relative])

        return read_revision(self.parquet_path(revision), subset, locate=locate)

    def browse(
        self, revision: DatasetRevision, *, subset: str | None, offset: int, limit: int
    ) -> tuple[list[RevisionItemRead], int | None]:
        table = read_revision_table(self.parquet_path(revision), subset)
        rows = table.slice(offset, limit).to_pylist()
        for row in rows:
            for polygon in row["polygons"]:
                polygon["points"] = [(point["x"], point["y"]) for point in polygon["points"]]
        next_offset = offset + limit if offset + limit < table.num_rows else None
        return [RevisionItemRead.model_validate(row) for row in rows], next_offset

    # -- create ------------------------------------------------------------------------------
    def create(self, project: Project, request: RevisionCreate) -> tuple[DatasetRevision, bool]:
        """Freeze the annotated items; returns (revision, reused). Reuses the latest revision when
        nothing changed since (same items, annotations, subsets and label names)."""
        rows = RevisionRows.from_rows(self.items.annotated_rows(project.id))
        if not len(rows):
            raise InvalidInput(
                f"project {project.name!r} has no annotated items: annotate some before making a dataset revision"
            )
        book = LabelBook.of(project.labels)
        subsets = self._subsets_with_new_items_assigned(rows, request)
        fingerprint = revision_fingerprint(rows, subsets, book)
        latest = self.revisions.latest(project.id)
        if latest is not None and latest.fingerprint == fingerprint and not latest.files_deleted:
            log.info("datasets.revision.reused", project=project.id, revision=latest.id, number=latest.number)
            return latest, True

        revision_id = new_id()
        number = (latest.number + 1) if latest else 1
        folder = revision_folder(project.id, revision_id)
        metadata = RevisionMetadata(
            FORMAT_VERSION,
            project.id,
            project.task_type,
            revision_id,
            number,
            [RevisionLabel(label.id, label.name, label.color, label.position) for label in project.labels],
        )
        with tempfile.TemporaryDirectory(dir=self.files.store.tmp) as scratch:
            local = Path(scratch) / PARQUET_NAME
            write_revision(local, revision_table(rows, subsets, book, folder), metadata)
            analysis = self._analyse(local, project)
            stored = self.files.save(
                f"{folder}/{PARQUET_NAME}",
                local,
                actor=self.actor,
                media_type="application/vnd.apache.parquet",
                move=True,
            )
        revision = self._add_revision(
            DatasetRevision(
                id=revision_id,
                project_id=project.id,
                number=number,
                parquet_key=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                images_size=sum(rows.sizes),
                item_count=len(rows),
                subset_counts=dict(Counter(subsets)),
                label_counts=[count.model_dump() for count in label_counts(rows, subsets, book)],
                fingerprint=fingerprint,
                analysis=analysis.model_dump(mode="json"),
                created_by=self.actor,
            )
        )
        self.revisions.add_images(revision_id, list(zip(rows.ids, rows.image_keys, strict=True)))
        self._freeze(rows, subsets)
        log.info("datasets.revision.created", project=project.id, revision=revision_id, number=number, items=len(rows))
        return revision, False

    def analyse_current(self, project: Project) -> DatasetAnalysis:
        """The analysis of the revision a training would make now (the annotated items, new ones given a
        subset as the split would), without making it."""
        import pyarrow as pa

        from modelyard.datasets.parquet import revision_schema

        rows = RevisionRows.from_rows(self.items.annotated_rows(project.id))
        if not len(rows):
            raise InvalidInput(f"project {project.name!r} has no annotated items: annotate some first")
        book = LabelBook.of(project.labels)
        subsets = self._subsets_with_new_items_assigned(rows, RevisionCreate())
        table = pa.Table.from_pydict(revision_table(rows, subsets, book, ""), schema=revision_schema())
        labels = [(label.id, label.name) for label in sorted(project.labels, key=lambda label: label.position)]
        return analyse_table(table, project.task_type, labels)

    def analysis(self, project: Project, revision: DatasetRevision) -> DatasetAnalysis:
        """The revision's analysis; one made before analyses were stored is computed now (from its
        data.parquet) and stored with it."""
        if revision.analysis is None:
            revision.analysis = self._analyse(self.parquet_path(revision), project).model_dump(mode="json")
            self.session.flush()
        return DatasetAnalysis.model_validate(revision.analysis)

    @staticmethod
    def _analyse(parquet: Path, project: Project) -> DatasetAnalysis:
        metadata = read_revision_metadata(parquet)
        labels = [(label.id, label.name) for label in sorted(metadata.labels, key=lambda label: label.position)]
        return analyse_table(read_revision_table(parquet), project.task_type, labels)

    def _freeze(self, rows: RevisionRows, subsets: Sequence[str]) -> None:
        new_assignments: dict[str, list[str]] = {}
        preset = []
        for item_id, stored, assigned, frozen in zip(rows.ids, rows.subsets, subsets, rows.in_revision, strict=True):
            if stored == "unassigned":
                new_assignments.setdefault(assigned, []).append(item_id)
            elif not frozen:
                preset.append(item_id)
        self.items.freeze_subsets(new_assignments, preset)
        self.session.flush()
        self.session.expire_all()  # bulk updates bypassed the identity map

    def _add_revision(self, revision: DatasetRevision) -> DatasetRevision:
        try:
            with self.session.begin_nested():
                return self.revisions.add(revision)
        except sqlalchemy_exc.IntegrityError:
            raise Conflict(
                f"another dataset revision {revision.number} was created at the same time: try again"
            ) from None

    def _subsets_with_new_items_assigned(self, rows: RevisionRows, request: RevisionCreate) -> list[str]:
        """Every item's subset, in row order, new items given theirs by the stratified split."""
        subsets = list(rows.subsets)
        new = [index for index, subset in enumerate(subsets) if subset == "unassigned"]
        existing = Counter(subset for subset in subsets if subset != "unassigned")
        assigned = assign_missing_subsets(
            [rows.ids[index] for index in new],
            [sorted(rows.label_ids[index]) for index in new],
            request.ratios.model_dump(),
            existing,
            request.seed,
        )
        position = {rows.ids[index]: index for index in new}
        for subset, item_ids in assigned.items():
            for item_id in item_ids:
                subsets[position[item_id]] = subset
        return subsets

    # -- delete files ------------------------------------------------------------------------
    def delete_files(self, project: Project, revision: DatasetRevision, *, force: bool = False) -> DatasetRevision:
        """Delete the revision's data.parquet and the images only it still keeps; the record stays."""
        if revision.files_deleted:
            return revision
        blockers = revision_file_blockers(self.session, revision)
        if blockers and not force:
            raise Conflict(
                f"dataset revision {revision.number} is needed by: {'; '.join(blockers)}. "
                "Delete those model revisions first, or pass force=true (`--force`)",
                blockers=blockers,
            )
        self.files.delete(revision.parquet_key)
        image_keys = self.revisions.image_keys(revision.id)
        revision.files_deleted, revision.files_deleted_at = True, utcnow()
        self.revisions.drop_images(revision.id)
        self.session.flush()
        still_needed = keys_held_by_items(self.session, image_keys) | self.revisions.keys_kept_by_revisions(image_keys)
        orphans = [key for key in image_keys if key not in still_needed]
        for key in orphans:
            if self.files.files.get(key) is not None:
                self.files.delete(key)
        log.info(
            "datasets.revision.files_deleted", project=project.id, revision=revision.id, images_removed=len(orphans)
        )
        return revision


__all__ = [
    "SUBSETS",
    "DatasetRevisionService",
    "require_items_in_subset",
    "revision_file_blockers",
    "revision_folder",
]
