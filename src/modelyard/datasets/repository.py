"""Every dataset query: items, the labels their annotations use, revisions and the images they keep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from typing import cast as cast_type

from sqlalchemy import (
    Integer,
    Row,
    Select,
    Table,
    Text,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.attributes import set_committed_value

from modelyard.datasets.models import DatasetItem, DatasetRevision, ItemLabel, RevisionImage
from modelyard.db.base import utcnow
from modelyard.kit.ids import one_by_id_prefix
from modelyard.kit.pagination import Order, keyset_page

ID_CHUNK = 500  # ids per IN (...) clause: well under SQLite's and PostgreSQL's parameter limits
BULK_CHUNK = 5000  # for bulk updates (SQLite >= 3.32 allows 32766 parameters, PostgreSQL 65535)
ItemSort = Literal["uploaded_at", "name"]
SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {"uploaded_at": DatasetItem.uploaded_at, "name": DatasetItem.name}


@dataclass(frozen=True)
class ItemCriteria:
    """What narrows a listing or a selection of items; None (or empty) means any."""

    annotated: bool | None = None
    label_id: str | None = None
    subset: str | None = None
    user_reviewed: bool | None = None
    uploaded_after: datetime | None = None
    uploaded_before: datetime | None = None
    name: str | None = None


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

    def matching(self, project_id: str, criteria: ItemCriteria) -> Select[Any]:
        """The project's items that meet every given criterion (a statement to narrow or count)."""
        statement = select(DatasetItem).where(DatasetItem.project_id == project_id)
        if criteria.annotated is not None:
            statement = statement.where(DatasetItem.annotated == criteria.annotated)
        if criteria.label_id is not None:
            statement = statement.where(
                exists().where(ItemLabel.item_id == DatasetItem.id, ItemLabel.label_id == criteria.label_id)
            )
        if criteria.subset is not None:
            statement = statement.where(DatasetItem.subset == criteria.subset)
        if criteria.user_reviewed is not None:
            statement = statement.where(DatasetItem.user_reviewed == criteria.user_reviewed)
        if criteria.uploaded_after is not None:
            statement = statement.where(DatasetItem.uploaded_at >= criteria.uploaded_after)
        if criteria.uploaded_before is not None:
            statement = statement.where(DatasetItem.uploaded_at < criteria.uploaded_before)
        if criteria.name:
            statement = statement.where(func.lower(DatasetItem.name).contains(criteria.name.lower(), autoescape=True))
        return statement

    def page(
        self, project_id: str, criteria: ItemCriteria, *, sort: ItemSort, order: Order, limit: int, cursor: str | None
    ) -> Sequence[DatasetItem]:
        statement = keyset_page(
            self.matching(project_id, criteria), SORT_COLUMNS[sort], DatasetItem.id,
            order=order, limit=limit, cursor=cursor,
        )  # fmt: skip
        return self.session.scalars(statement).all()

    def neighbours(self, item: DatasetItem, criteria: ItemCriteria) -> tuple[str | None, str | None, int, int, bool]:
        """(id before, id after, items before, items in all, whether `criteria` keep `item`) of `item` among the
        items `criteria` keep, in upload order: each an indexed range on (project, uploaded_at, id)."""
        key = tuple_(DatasetItem.uploaded_at, DatasetItem.id)
        here = (item.uploaded_at, item.id)
        kept = self.matching(item.project_id, criteria)
        previous = self.session.scalar(
            kept.with_only_columns(DatasetItem.id).where(key < here)
            .order_by(DatasetItem.uploaded_at.desc(), DatasetItem.id.desc()).limit(1)
        )  # fmt: skip
        following = self.session.scalar(
            kept.with_only_columns(DatasetItem.id).where(key > here)
            .order_by(DatasetItem.uploaded_at.asc(), DatasetItem.id.asc()).limit(1)
        )  # fmt: skip
        before = self.session.scalar(kept.with_only_columns(func.count()).where(key < here)) or 0
        total = self.count(item.project_id, criteria)
        matches = self.session.scalar(kept.with_only_columns(DatasetItem.id).where(DatasetItem.id == item.id))
        return previous, following, before, total, matches is not None

    def count(self, project_id: str, criteria: ItemCriteria) -> int:
        return self.session.scalar(self.matching(project_id, criteria).with_only_columns(func.count())) or 0

    def page_ends(
        self, project_id: str, criteria: ItemCriteria, *, sort: ItemSort, order: Order, page_size: int
    ) -> list[tuple[Any, str]]:
        """(sort value, id) of the last item of every full page, in order: what a keyset cursor holds, so
        that any page can be asked for directly. One numbered scan in the database, not one query per page."""
        sort_column = SORT_COLUMNS[sort]
        ordering = [sort_column.asc(), DatasetItem.id.asc()] if order == "asc" else \
            [sort_column.desc(), DatasetItem.id.desc()]  # fmt: skip
        numbered = (
            self.matching(project_id, criteria)
            .with_only_columns(
                sort_column.label("sort_value"),
                DatasetItem.id.label("item_id"),
                func.row_number().over(order_by=ordering).label("position"),
            )
            .subquery()
        )
        rows = self.session.execute(
            select(numbered.c.sort_value, numbered.c.item_id)
            .where(numbered.c.position % page_size == 0)
            .order_by(numbered.c.position)
        )
        return [(value, item_id) for value, item_id in rows]

    def matching_ids(self, project_id: str, criteria: ItemCriteria) -> list[str]:
        return list(self.session.scalars(self.matching(project_id, criteria).with_only_columns(DatasetItem.id)))

    def known_ids(self, project_id: str, item_ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for chunk in chunks(list(item_ids)):
            known.update(
                self.session.scalars(
                    select(DatasetItem.id).where(DatasetItem.project_id == project_id, DatasetItem.id.in_(chunk))
                )
            )
        return known

    def subset_counts(self, project_id: str, criteria: ItemCriteria) -> list[tuple[str, int, int, int]]:
        """(subset, items, annotated items, reviewed items) for every subset that has matching items."""
        statement = (
            self.matching(project_id, criteria)
            .with_only_columns(
                DatasetItem.subset,
                func.count(),
                func.coalesce(func.sum(case((DatasetItem.annotated.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((DatasetItem.user_reviewed.is_(True), 1), else_=0)), 0),
            )
            .group_by(DatasetItem.subset)
        )
        return [(subset, int(n), int(annotated), int(reviewed)) for subset, n, annotated, reviewed in
                self.session.execute(statement)]  # fmt: skip

    def label_counts(self, project_id: str, criteria: ItemCriteria, label_ids: Sequence[str]) -> dict[str, int]:
        """label id -> matching items whose annotation uses it (`label_ids`: the project's labels)."""
        # A label is used by its own project's items only: unfiltered, the label index alone answers, without
        # a list of every item of the project to check each row against.
        statement = select(ItemLabel.label_id, func.count()).where(ItemLabel.label_id.in_(label_ids))
        if criteria != ItemCriteria():
            matching_ids = self.matching(project_id, criteria).with_only_columns(DatasetItem.id)
            statement = statement.where(ItemLabel.item_id.in_(matching_ids.scalar_subquery()))
        return {label_id: int(n) for label_id, n in self.session.execute(statement.group_by(ItemLabel.label_id))}

    def annotations_of(self, item_ids: Sequence[str]) -> list[tuple[str, dict[str, Any] | None]]:
        found: list[tuple[str, dict[str, Any] | None]] = []
        for chunk in chunks(list(item_ids)):
            found.extend(
                (item_id, annotation) for item_id, annotation in
                self.session.execute(select(DatasetItem.id, DatasetItem.annotation).where(DatasetItem.id.in_(chunk)))
            )  # fmt: skip
        return found

    def set_annotations(self, annotations: dict[str, dict[str, Any]], *, reviewed: bool) -> None:
        """Give items their (already checked) stored annotations, and their label rows to match, in bulk."""
        now = utcnow()
        rows = [
            {"id": item_id, "annotation": stored, "annotated": True, "user_reviewed": reviewed, "updated_at": now}
            for item_id, stored in annotations.items()
        ]
        for chunk in chunks(rows, BULK_CHUNK):
            self.session.execute(update(DatasetItem), list(chunk))  # ORM bulk update by primary key
        item_ids = list(annotations)
        for chunk in chunks(item_ids, BULK_CHUNK):  # an editor open on one of them must not save over this
            self.session.execute(
                update(DatasetItem).where(DatasetItem.id.in_(chunk))
                .values(annotation_version=DatasetItem.annotation_version + 1),
                execution_options={"synchronize_session": False},
            )  # fmt: skip
        for chunk in chunks(item_ids, BULK_CHUNK):
            self.session.execute(delete(ItemLabel).where(ItemLabel.item_id.in_(chunk)))
        labels = [
            {"item_id": item_id, "label_id": label_id, "shapes": 1}
            for item_id, stored in annotations.items() for label_id in stored.get("labels", [])
        ]  # fmt: skip
        for chunk in chunks(labels, BULK_CHUNK):
            self.session.execute(insert(ItemLabel), list(chunk))

    def frozen_elsewhere(self, item_ids: Sequence[str], subset: str) -> list[str]:
        """Those of the items whose subset a revision froze to something other than `subset`."""
        frozen: list[str] = []
        for chunk in chunks(list(item_ids)):
            frozen.extend(
                self.session.scalars(
                    select(DatasetItem.id).where(
                        DatasetItem.id.in_(chunk), DatasetItem.in_revision.is_(True), DatasetItem.subset != subset
                    )
                )
            )
        return frozen

    def count_not_in_subset(self, item_ids: Sequence[str], subset: str) -> int:
        total = 0
        for chunk in chunks(list(item_ids)):
            total += self.session.scalar(
                select(func.count()).select_from(DatasetItem)
                .where(DatasetItem.id.in_(chunk), DatasetItem.subset != subset)
            ) or 0  # fmt: skip
        return total

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
