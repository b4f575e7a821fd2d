from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, delete, func, insert, select
from sqlalchemy.orm import Session

from modelyard.kit.pagination import keyset_page
from modelyard.projects.models import Project
from modelyard.storage.models import StoredFile


class StoredFileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> StoredFile | None:
        return self.session.scalar(select(StoredFile).where(StoredFile.key == key))

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        return set(self.many(keys))

    def many(self, keys: Sequence[str]) -> dict[str, StoredFile]:
        """The records of those of `keys` that exist, by key (500 keys a query)."""
        found: dict[str, StoredFile] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found.update(
                (record.key, record)
                for record in self.session.scalars(select(StoredFile).where(StoredFile.key.in_(chunk)))
            )
        return found

    def add_many(self, rows: Sequence[dict[str, object]]) -> None:
        """Insert many records in one statement (rows of column values, ids included)."""
        self.session.execute(insert(StoredFile), list(rows))

    def page(
        self, prefix: str, *, limit: int, cursor: str | None, where: ColumnElement[bool] | None = None
    ) -> Sequence[StoredFile]:
        """Records under a key prefix in key order, `limit + 1` of them (the extra row says a next page exists);
        `where` narrows them further (the files a caller may see)."""
        statement = select(StoredFile)
        if where is not None:
            statement = statement.where(where)
        if prefix:
            statement = statement.where(StoredFile.key.startswith(prefix, autoescape=True))
        statement = keyset_page(statement, StoredFile.key, StoredFile.id, order="asc", limit=limit, cursor=cursor)
        return self.session.scalars(statement).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(StoredFile)) or 0

    def totals(self) -> tuple[int, int, int]:
        """(files, bytes of all files, bytes of distinct contents)."""
        files, size = self.session.execute(select(func.count(), func.coalesce(func.sum(StoredFile.size), 0))).one()
        contents = select(func.max(StoredFile.size).label("size")).group_by(StoredFile.sha256).subquery()
        distinct = self.session.scalar(select(func.coalesce(func.sum(contents.c.size), 0))) or 0
        return int(files), int(size), int(distinct)

    def usage_by_folder(self, prefix: str = "") -> list[tuple[str, int, int]]:
        """(folder, files, bytes) for each folder right under `prefix` (a file there is its own folder), largest
        first; one grouped query."""
        rest = func.substr(StoredFile.key, len(prefix) + 1)
        slash = self._position_of_slash(rest)
        folder = case((slash > 0, func.substr(rest, 1, slash - 1)), else_=rest).label("folder")
        statement = select(folder, func.count(), func.sum(StoredFile.size)).group_by(folder)
        if prefix:
            statement = statement.where(StoredFile.key.startswith(prefix, autoescape=True))
        rows = self.session.execute(statement.order_by(func.sum(StoredFile.size).desc(), folder)).all()
        return [(str(name), int(files), int(size)) for name, files, size in rows]

    def _position_of_slash(self, text: ColumnElement[str]) -> ColumnElement[int]:
        """1-based position of the first '/' in `text`, 0 when none: `instr` on SQLite, `strpos` on PostgreSQL."""
        if self.session.get_bind().dialect.name == "postgresql":
            return func.strpos(text, "/")
        return func.instr(text, "/")

    def project_names(self, project_ids: Sequence[str]) -> dict[str, str]:
        if not project_ids:
            return {}
        rows = self.session.execute(select(Project.id, Project.name).where(Project.id.in_(sorted(project_ids))))
        return {project_id: name for project_id, name in rows}

    def fingerprints_after(self, last_key: str, limit: int) -> list[tuple[str, str, int]]:
        """(key, sha256, size) of up to `limit` records whose key sorts after `last_key`, in key order."""
        rows = self.session.execute(
            select(StoredFile.key, StoredFile.sha256, StoredFile.size)
            .where(StoredFile.key > last_key)
            .order_by(StoredFile.key)
            .limit(limit)
        ).all()
        return [(key, sha256, size) for key, sha256, size in rows]

    def add(self, record: StoredFile) -> StoredFile:
        self.session.add(record)
        self.session.flush()
        return record

    def delete(self, record: StoredFile) -> None:
        self.session.delete(record)
        self.session.flush()

    def delete_under(self, prefix: str) -> list[str]:
        """Delete the records under a key prefix; returns the sha256s they held."""
        rows = self.session.execute(
            delete(StoredFile).where(StoredFile.key.startswith(prefix, autoescape=True)).returning(StoredFile.sha256)
        ).all()
        return [row[0] for row in rows]

    def count_with_content(self, sha256: str) -> int:
        return self.session.scalar(select(func.count()).where(StoredFile.sha256 == sha256)) or 0

    def keys_with_content(self, sha256: str, limit: int) -> list[str]:
        return list(self.session.scalars(select(StoredFile.key).where(StoredFile.sha256 == sha256).limit(limit)))

    def keys_by_content(self, contents: Sequence[str]) -> dict[str, list[str]]:
        """The keys recorded with each of `contents` (sha256s), 500 contents a query."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(contents), 500):
            rows = self.session.execute(
                select(StoredFile.sha256, StoredFile.key).where(StoredFile.sha256.in_(contents[start : start + 500]))
            ).all()
            for sha256, key in rows:
                found.setdefault(sha256, []).append(key)
        return found

    def existing_contents(self, contents: Sequence[str]) -> set[str]:
        """Those of `contents` (sha256s) that some record holds, 500 a query."""
        found: set[str] = set()
        for start in range(0, len(contents), 500):
            chunk = contents[start : start + 500]
            found.update(self.session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(chunk))))
        return found

    def any_under(self, prefix: str) -> bool:
        statement = select(StoredFile.id).where(StoredFile.key.startswith(prefix, autoescape=True)).limit(1)
        return self.session.scalar(statement) is not None
