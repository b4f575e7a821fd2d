"""Every dataset query: items, the labels their annotations use, revisions and the images they keep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import cast as cast_type

from sqlalchemy import Integer, Row, Select, Table, Text, cast, delete, exists, func, insert, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from modelyard.datasets.models import DatasetItem, DatasetRevision, ItemLabel, RevisionImage
from modelyard.kit.ids import one_by_id_prefix
from modelyard.kit.pagination import Order, keyset_page


@dataclass(frozen=True)
class ItemFilter:
    """Which items of a project a list keeps; None keeps all."""

    annotated: bool | None = None
    label_id: str | None = None
    subset: str | None = None
    user_reviewed: bool | None = None
    uploaded_after: datetime | None = None
    uploaded_before: datetime | None = None


ID_CHUNK = 500  # ids per IN (...) clause: well under SQLite's and PostgreSQL's parameter limits
BULK_CHUNK = 5000  # for bulk updates (SQLite >= 3.32 allows 32766 parameters, PostgreSQL 65535)


def chunks(values: Sequence[Any], size: int = ID_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, project_id: str, item_id: str) -> DatasetItem | None:
        item = self.session.get(DatasetItem, item_id)
        return item if item is not None and item.project_id == project_id else None

    def by_id_prefix(self, project_id: str, prefix: str) -> DatasetItem | None:
        return one_by_id_prefix(
            self.session, DatasetItem, prefix, DatasetItem.project_id == project_id, what="dataset item"
        )

    def by_sha256(self, project_id: str, sha256s: Sequence[str]) -> dict[str, str]:
        """sha256 -> id of the item of the project that holds those bytes."""
        found: dict[str, str] = {}
        for chunk in chunks(list(sha256s)):
            rows = self.session.execute(
                select(DatasetItem.sha256, DatasetItem.id).where(
                    DatasetItem.project_id == project_id, DatasetItem.sha256.in_(chunk)
                )
            )
            found.update({sha256: item_id for sha256, item_id in rows})
        return found

    def filtered(self, project_id: str, filters: ItemFilter) -> Select[Any]:
        statement = select(DatasetItem).where(DatasetItem.project_id == project_id)
        if filters.annotated is not None:
            statement = statement.where(DatasetItem.annotated == filters.annotated)
        if filters.label_id is not None:
            statement = statement.where(
                exists().where(ItemLabel.item_id == DatasetItem.id, ItemLabel.label_id == filters.label_id)
            )
        if filters.subset is not None:
            statement = statement.where(DatasetItem.subset == filters.subset)
        if filters.user_reviewed is not None:
            statement = statement.where(DatasetItem.user_reviewed == filters.user_reviewed)
        if filters.uploaded_after is not None:
            statement = statement.where(DatasetItem.uploaded_at >= filters.uploaded_after)
        if filters.uploaded_before is not None:
            statement = statement.where(DatasetItem.uploaded_at < filters.uploaded_before)
        return statement

    def page(
        self, project_id: str, filters: ItemFilter, *, order: Order, limit: int, cursor: str | None
    ) -> Sequence[DatasetItem]:
        statement = keyset_page(
            self.filtered(project_id, filters), DatasetItem.uploaded_at, DatasetItem.id,
            order=order, limit=limit, cursor=cursor,
        )  # fmt: skip
        return self.session.scalars(statement).all()

    def neighbours(self, item: DatasetItem, filters: ItemFilter) -> tuple[str | None, str | None, int, int, bool]:
        """(id before, id after, items before, items in all, whether `filters` keep `item`) of `item` among the
        items `filters` keep, in upload order: each an indexed range on (project, uploaded_at, id)."""
        key = tuple_(DatasetItem.uploaded_at, DatasetItem.id)
        here = (item.uploaded_at, item.id)
        kept = self.filtered(item.project_id, filters)
        previous = self.session.scalar(
            kept.with_only_columns(DatasetItem.id).where(key < here)
            .order_by(DatasetItem.uploaded_at.desc(), DatasetItem.id.desc()).limit(1)
        )  # fmt: skip
        following = self.session.scalar(
            kept.with_only_columns(DatasetItem.id).where(key > here)
            .order_by(DatasetItem.uploaded_at.asc(), DatasetItem.id.asc()).limit(1)
        )  # fmt: skip
        before = self.session.scalar(kept.with_only_columns(func.count()).where(key < here)) or 0
        total = self.session.scalar(kept.with_only_columns(func.count())) or 0
        matches = self.session.scalar(kept.with_only_columns(DatasetItem.id).where(DatasetItem.id == item.id))
        return previous, following, before, total, matches is not None

    def many(self, project_id: str, item_ids: Sequence[str]) -> list[DatasetItem]:
        items: list[DatasetItem] = []
        for chunk in chunks(list(item_ids)):
            items.extend(
                self.session.scalars(
                    select(DatasetItem).where(DatasetItem.project_id == project_id, DatasetItem.id.in_(chunk))
                )
            )
        return items

    def add(self, item: DatasetItem) -> DatasetItem:
        self.session.add(item)
        self.session.flush()
        return item

    def add_many(self, items: Sequence[dict[str, Any]], labels: Sequence[dict[str, Any]]) -> None:
        """Insert item rows and their label rows (`item_id`, `label_id`, `shapes`) in bulk."""
        if items:
            self.session.execute(insert(DatasetItem), list(items))
        if labels:
            self.session.execute(insert(ItemLabel), list(labels))

    def delete(self, item: DatasetItem) -> None:
        self.session.delete(item)
        self.session.flush()

    def set_labels(self, item_id: str, shapes_per_label: dict[str, int]) -> None:
        self.session.execute(delete(ItemLabel).where(ItemLabel.item_id == item_id))
        if shapes_per_label:
            self.session.execute(
                insert(ItemLabel),
                [{"item_id": item_id, "label_id": label_id, "shapes": n} for label_id, n in shapes_per_label.items()],
            )

    def advance_annotation_version(self, item: DatasetItem, expected: int | None) -> bool:
        """Raise the item's annotation version by one while it still is `expected` (whatever it is when None);
        False when another change came first. One conditional UPDATE, so two saves of one version cannot both
        pass: PostgreSQL re-checks the condition on the row the first one committed."""
        statement = update(DatasetItem).where(DatasetItem.id == item.id)
        if expected is not None:
            statement = statement.where(DatasetItem.annotation_version == expected)
        statement = statement.values(annotation_version=DatasetItem.annotation_version + 1)
        advanced = self.session.execute(
            statement.returning(DatasetItem.annotation_version), execution_options={"synchronize_session": False}
        ).scalar_one_or_none()
        if advanced is None:
            return False
        set_committed_value(item, "annotation_version", advanced)
        return True

    def current_annotation_version(self, item_id: str) -> int | None:
        return self.session.scalar(select(DatasetItem.annotation_version).where(DatasetItem.id == item_id))

    def label_usage(self, label_id: str) -> tuple[int, int]:
        """(items whose annotation uses the label, shapes or classification labels of it)."""
        items, shapes = self.session.execute(
            select(func.count(), func.coalesce(func.sum(ItemLabel.shapes), 0)).where(ItemLabel.label_id == label_id)
        ).one()
        return int(items), int(shapes)

    def usage_by_label(self, project_id: str) -> dict[str, tuple[int, int]]:
        """label id -> (items whose annotation uses it, its shapes or classification labels), for one project."""
        rows = self.session.execute(
            select(ItemLabel.label_id, func.count(), func.coalesce(func.sum(ItemLabel.shapes), 0))
            .join(DatasetItem, DatasetItem.id == ItemLabel.item_id)
            .where(DatasetItem.project_id == project_id)
            .group_by(ItemLabel.label_id)
        )
        return {label_id: (int(items), int(shapes)) for label_id, items, shapes in rows}

    def annotated_counts(self, project_id: str) -> tuple[int, int]:
        """(items, annotated items) of a project."""
        items, annotated = self.session.execute(
            select(func.count(), func.coalesce(func.sum(cast(DatasetItem.annotated, Integer)), 0)).where(
                DatasetItem.project_id == project_id
            )
        ).one()
        return int(items), int(annotated)

    def with_label(self, label_id: str) -> list[DatasetItem]:
        return list(
            self.session.scalars(
                select(DatasetItem)
                .join(ItemLabel, ItemLabel.item_id == DatasetItem.id)
                .where(ItemLabel.label_id == label_id)
            )
        )

    def annotated_rows(self, project_id: str) -> Sequence[Sequence[Any]]:
        """What a revision needs of every annotated item, in id order, the annotation last and as JSON
        text (no ORM objects, no per-row JSON decoding: revisions are large; the caller parses it at once)."""
        return self.session.execute(
            select(
                DatasetItem.id,
                DatasetItem.image_key,
                DatasetItem.sha256,
                DatasetItem.size,
                DatasetItem.width,
                DatasetItem.height,
                DatasetItem.subset,
                DatasetItem.user_reviewed,
                DatasetItem.in_revision,
                cast(DatasetItem.annotation, Text),
            )
            .where(DatasetItem.project_id == project_id, DatasetItem.annotated.is_(True))
            .order_by(DatasetItem.id)
        ).all()

    def all_rows(self, project_id: str) -> Sequence[Row[Any]]:
        """Every item, for exports of the current dataset."""
        return self.session.execute(
            select(
                DatasetItem.id,
                DatasetItem.name,
                DatasetItem.image_key,
                DatasetItem.sha256,
                DatasetItem.size,
                DatasetItem.width,
                DatasetItem.height,
                DatasetItem.subset,
                DatasetItem.annotation,
            )
            .where(DatasetItem.project_id == project_id)
            .order_by(DatasetItem.id)
        ).all()

    def names(self, item_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(item_ids)):
            found.update(
                dict(
                    self.session.execute(
                        select(DatasetItem.id, DatasetItem.name).where(DatasetItem.id.in_(chunk))
                    ).all()
                )
            )
        return found

    def count_in_subset(self, project_id: str, subset: str) -> int:
        return self.session.scalar(
            select(func.count()).select_from(DatasetItem)
            .where(DatasetItem.project_id == project_id, DatasetItem.subset == subset)
        ) or 0  # fmt: skip

    def move_to_subset(self, item_ids: Sequence[str], subset: str) -> None:
        """Set the subset of items no dataset revision has frozen yet."""
        for chunk in chunks(list(item_ids), BULK_CHUNK):
            self.session.execute(
                update(DatasetItem).where(DatasetItem.id.in_(chunk), DatasetItem.in_revision.is_(False))
                .values(subset=subset),
                execution_options={"synchronize_session": False},
            )  # fmt: skip

    def freeze_subsets(self, assignments: dict[str, list[str]], preset: Sequence[str]) -> None:
        """Give new items their subset, and freeze it: `in_revision` on them and on the `preset`
        items (subset set by hand or by an import) that a revision includes for the first time."""
        for subset, item_ids in assignments.items():
            for chunk in chunks(item_ids, BULK_CHUNK):
                self.session.execute(
                    update(DatasetItem).where(DatasetItem.id.in_(chunk)).values(subset=subset, in_revision=True),
                    execution_options={"synchronize_session": False},
                )
        for chunk in chunks(list(preset), BULK_CHUNK):
            self.session.execute(
                update(DatasetItem).where(DatasetItem.id.in_(chunk)).values(in_revision=True),
                execution_options={"synchronize_session": False},
            )


class RevisionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, project_id: str) -> DatasetRevision | None:
        return self.session.scalar(
            select(DatasetRevision)
            .where(DatasetRevision.project_id == project_id)
            .order_by(DatasetRevision.number.desc())
            .limit(1)
        )

    def get(self, project_id: str, revision_id: str) -> DatasetRevision | None:
        revision = self.session.get(DatasetRevision, revision_id)
        return revision if revision is not None and revision.project_id == project_id else None

    def by_id_prefix(self, project_id: str, prefix: str) -> DatasetRevision | None:
        return one_by_id_prefix(
            self.session, DatasetRevision, prefix, DatasetRevision.project_id == project_id, what="dataset revision"
        )

    def by_number(self, project_id: str, number: int) -> DatasetRevision | None:
        return self.session.scalar(
            select(DatasetRevision).where(DatasetRevision.project_id == project_id, DatasetRevision.number == number)
        )

    def all(self, project_id: str) -> list[DatasetRevision]:
        return list(
            self.session.scalars(
                select(DatasetRevision)
                .where(DatasetRevision.project_id == project_id)
                .order_by(DatasetRevision.number.desc())
            )
        )

    def add(self, revision: DatasetRevision) -> DatasetRevision:
        self.session.add(revision)
        self.session.flush()
        return revision

    def add_images(self, revision_id: str, images: Sequence[tuple[str, str]]) -> None:
        rows = [{"revision_id": revision_id, "item_id": item_id, "image_key": key} for item_id, key in images]
        for chunk in chunks(rows, BULK_CHUNK):
            # Core: no ORM work per row.
            self.session.execute(insert(cast_type(Table, RevisionImage.__table__)), list(chunk))

    def image_keys(self, revision_id: str) -> list[str]:
        return list(
            self.session.scalars(select(RevisionImage.image_key).where(RevisionImage.revision_id == revision_id))
        )

    def drop_images(self, revision_id: str) -> None:
        self.session.execute(delete(RevisionImage).where(RevisionImage.revision_id == revision_id))

    def keys_kept_by_revisions(self, image_keys: Sequence[str]) -> set[str]:
        """Those of `image_keys` that a revision whose files still exist references."""
        kept: set[str] = set()
        for chunk in chunks(list(image_keys)):
            kept.update(
                self.session.scalars(
                    select(RevisionImage.image_key)
                    .join(DatasetRevision, DatasetRevision.id == RevisionImage.revision_id)
                    .where(RevisionImage.image_key.in_(chunk), DatasetRevision.files_deleted.is_(False))
                    .distinct()
                )
            )
        return kept


def keys_held_by_items(session: Session, image_keys: Sequence[str]) -> set[str]:
    held: set[str] = set()
    for chunk in chunks(list(image_keys)):
        held.update(session.scalars(select(DatasetItem.image_key).where(DatasetItem.image_key.in_(chunk))))
    return held
