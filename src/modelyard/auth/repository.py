"""Every query of users and API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from modelyard.auth.models import ApiToken, User
from modelyard.registry.models import ModelVersion, ModelVersionFile
from modelyard.registry.repository import models_of_projects
from modelyard.storage.models import StoredFile

PROJECT_FILES = "projects/"
REGISTRY_FILES = "registry/versions/"


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_name(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name == name))

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, token_id: str) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def by_secret_hash(self, secret_sha256: str) -> ApiToken | None:
        return self.session.scalar(select(ApiToken).where(ApiToken.secret_sha256 == secret_sha256))

    def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token

    def all(self) -> Sequence[ApiToken]:
        return self.session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)).all()

    def any_created(self) -> bool:
        """Whether a token was ever stored: revoked and expired ones count, so revoking the last token locks the
        server (until an operator creates a new one on its machine) instead of opening it to every caller."""
        return self.session.scalar(select(ApiToken.id).limit(1)) is not None

    def revoke_sessions_of(self, token_id: str, at: datetime) -> None:
        self.session.execute(
            update(ApiToken).where(ApiToken.parent_id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=at)
        )

    def mark_used(self, token_id: str, at: datetime) -> None:
        self.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


class FileOwnerRepository:
    """Which project a stored file belongs to: the one its key is under, or the owner of the registered
    model whose version holds it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def project_of(self, key: str) -> str | None:
        if key.startswith(PROJECT_FILES):
            return key[len(PROJECT_FILES) :].split("/", 1)[0] or None
        if key.startswith(REGISTRY_FILES):
            version_id = key[len(REGISTRY_FILES) :].split("/", 1)[0]
            version = self.session.get(ModelVersion, version_id)
            return version.model.project_id if version is not None else None
        return None


def files_of_projects(project_ids: frozenset[str]) -> ColumnElement[bool]:
    """A condition on StoredFile: the file belongs to one of these projects."""
    under_projects = [StoredFile.key.startswith(f"{PROJECT_FILES}{project_id}/", autoescape=True)
                      for project_id in sorted(project_ids)]  # fmt: skip
    of_their_models = StoredFile.key.in_(
        select(ModelVersionFile.key)
        .join(ModelVersion, ModelVersion.id == ModelVersionFile.version_id)
        .where(ModelVersion.model_id.in_(models_of_projects(project_ids)))
    )
    return or_(of_their_models, *under_projects)
