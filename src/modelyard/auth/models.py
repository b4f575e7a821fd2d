"""Users and their API tokens. A token row keeps only the SHA-256 of its secret, never the secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modelyard.auth.access import TokenKind
from modelyard.db.base import Base, IdMixin, JSONType, UTCDateTime, utcnow


class User(IdMixin, Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ApiToken(IdMixin, Base):
    __tablename__ = "api_tokens"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    # Project ids the token is limited to; null: every project (and things of no project).
    project_ids: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    # A 256-bit random secret has no need of a slow hash: guessing it is as hard as guessing the secret.
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")
    # `api`: made by `modelyard token create` or the tokens API; `session`: a web UI sign-in, made from the
    # token in `parent_id`, which it never outlives (revoking the parent ends it).
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=TokenKind.API, server_default="api")
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_api_tokens_revoked_at", "revoked_at"),
        Index("ix_api_tokens_parent_id", "parent_id"),
    )
