from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from modelyard.storage.models import StoredFile


class StoredFileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> StoredFile | None:
        return self.session.scalar(select(StoredFile).where(StoredFile.key == key))

    def under(self, prefix: str) -> Sequence[StoredFile]:
        return self.session.scalars(
            select(StoredFile).where(StoredFile.key.startswith(prefix, autoescape=True)).order_by(StoredFile.key)
        ).all()

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
            delete(StoredFile)
            .where(StoredFile.key.startswith(prefix, autoescape=True))
            .returning(StoredFile.sha256)
        ).all()
        return [row[0] for row in rows]

    def count_with_content(self, sha256: str) -> int:
        return self.session.scalar(select(func.count()).where(StoredFile.sha256 == sha256)) or 0

    def all_contents(self) -> set[str]:
        return set(self.session.scalars(select(StoredFile.sha256).distinct()).all())
