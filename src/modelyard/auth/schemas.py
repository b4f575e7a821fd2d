"""API models of tokens. A token's secret appears in one answer only: the one that creates it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from modelyard.auth.access import Scope, TokenKind
from modelyard.kit.names import Name


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(max_length=128, description="What the token is for, e.g. 'ci-upload'.")
    scope: Scope
    user: Name | None = Field(default=None, max_length=128, description="Whose token (default: a user named like it).")
    projects: list[Name] = Field(
        default_factory=list, max_length=1000, description="Project names or ids it is limited to; empty: all."
    )
    expires_in: str | None = Field(
        default=None, max_length=16, description="Lifetime such as 30d, 12h, 2w; empty: no expiry."
    )


class TokenRead(BaseModel):
    id: str
    name: str
    kind: TokenKind = Field(description="`api`, or `session` for a web UI sign-in made from the token `parent_id`.")
    parent_id: str | None
    user: str
    scope: Scope
    project_ids: list[str] | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    created_by: str


class TokenCreated(TokenRead):
    secret: str = Field(description="Shown this once; only its SHA-256 is stored.")


class SessionStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256, description="An API token (`my_...`) to sign in with.")


class SessionRead(BaseModel):
    """Who the web UI is signed in as, and whether it must sign in at all."""

    auth_required: bool = Field(description="Whether this server asks callers for a token.")
    user: str | None = Field(description="The signed-in user; null when signed out.")
    scope: Scope | None
    projects: list[str] | None = Field(description="Project ids the caller is limited to; null: every project.")
    expires_at: datetime | None = None
