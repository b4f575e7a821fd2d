"""API tokens: creating, listing and revoking them, and recognising them on each request.

A secret is `my_` and 43 characters of URL-safe base64 (256 random bits); the database keeps only its
SHA-256 and is searched by that hash, so the comparison never touches the secret itself.

Requests are recognised by an in-process `Authenticator` that remembers each token it has seen for a
few seconds: the registry's hot reads pay no database round trip for the token. A revocation made by
another process (the CLI) is honoured once the remembered entry is older than `PRINCIPAL_TTL_SECONDS`;
one made through this server's API at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import anyio
import sqlalchemy.exc
import structlog
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, LOCAL, Principal, ProjectAccess, Scope, TokenKind
from modelyard.auth.models import ApiToken, User
from modelyard.auth.repository import FileOwnerRepository, TokenRepository, UserRepository, files_of_projects
from modelyard.config import Settings
from modelyard.db.base import utcnow
from modelyard.db.engine import Database, run_after_commit, transaction
from modelyard.errors import Conflict, InvalidInput, NotFound, Unauthorized
from modelyard.projects.repository import ProjectRepository

if TYPE_CHECKING:
    from modelyard.context import AppContext

log = structlog.get_logger("modelyard.auth")

SECRET_PREFIX = "my_"
PRINCIPAL_TTL_SECONDS = 5.0
ENABLED_TTL_SECONDS = 2.0
LAST_USED_INTERVAL_SECONDS = 60.0
REMEMBERED_TOKENS = 10_000
DURATION = re.compile(r"^(?P<amount>[1-9][0-9]{0,5})(?P<unit>[smhdw])$")
LONGEST_LIFETIME = timedelta(days=36_500)
# A web UI sign-in lasts this long at most (and never past its parent token's expiry).
SESSION_LIFETIME = timedelta(hours=12)
SESSION_COOKIE = "modelyard_session"
TOKEN_ID = re.compile(r"^[0-9a-f]{32}$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `2w`, `45s` as a timedelta."""
    match = DURATION.match(text.strip())
    if match is None:
        raise InvalidInput(f"duration {text!r} is not valid: use a number and a unit, e.g. 30d, 12h, 90m, 2w")
    duration = timedelta(**{UNITS[match["unit"]]: int(match["amount"])})
    if duration > LONGEST_LIFETIME:
        raise InvalidInput(
            f"duration {text!r} is longer than 100 years: leave the expiry out for a token that never expires"
        )
    return duration


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str


class TokenService:
    """Users and tokens in the database; used by the admin API and by `modelyard token`."""

    def __init__(self, session: Session, actor: str, on_change: Callable[[], object] = lambda: None) -> None:
        """`on_change` runs once a creation or revocation has committed (the server forgets what it remembers)."""
        self.session = session
        self.actor = actor
        self.on_change = on_change
        self.tokens = TokenRepository(session)
        self.users = UserRepository(session)

    def create(
        self,
        name: str,
        scope: Scope,
        *,
        user: str | None = None,
        projects: Sequence[str] = (),
        expires_in: timedelta | None = None,
    ) -> CreatedToken:
        """A new token for `user` (default: a user named like the token); the secret is returned only here."""
        secret = new_secret()
        token = ApiToken(
            user=self._user(user or name),
            name=name,
            scope=scope.value,
            project_ids=self._project_ids(projects) if projects else None,
            secret_sha256=secret_hash(secret),
            expires_at=utcnow() + expires_in if expires_in else None,
            created_by=self.actor,
        )
        self.tokens.add(token)
        run_after_commit(self.session, self.on_change)
        log.info("auth.token.created", token=token.id, user=token.user.name, scope=scope.value,
                 projects=token.project_ids)  # fmt: skip
        return CreatedToken(token, secret)

    def start_session(self, principal: Principal) -> CreatedToken:
        """A sign-in session for the web UI, made from the token `principal` presented: same user, scope and
        projects, ending at the latest when that token expires, revoked with it."""
        if principal.token_id is None:
            raise InvalidInput(
                "only a token stored in the database can start a session; MODELYARD_API_TOKENS entries cannot: "
                "create one with `modelyard token create NAME --scope admin`"
            )
        parent = self.get(principal.token_id)
        expires_at = utcnow() + SESSION_LIFETIME
        if parent.expires_at is not None:
            expires_at = min(expires_at, parent.expires_at)
        secret = new_secret()
        session = ApiToken(
            user=parent.user,
            name=f"session of {parent.name}"[:128],
            scope=parent.scope,
            project_ids=parent.project_ids,
            secret_sha256=secret_hash(secret),
            expires_at=expires_at,
            created_by=principal.user,
            kind=TokenKind.SESSION,
            parent_id=parent.id,
        )
        self.tokens.add(session)
        log.info("auth.session.started", session=session.id, token=parent.id, user=parent.user.name)
        return CreatedToken(session, secret)

    def end_session(self, secret: str) -> None:
        """Revoke the session whose cookie holds `secret`; nothing when it is unknown or not a session."""
        token = self.tokens.by_secret_hash(secret_hash(secret))
        if token is not None and token.kind == TokenKind.SESSION:
            self.revoke(token)

    def all(self) -> Sequence[ApiToken]:
        return self.tokens.all()

    def get(self, token_id: str) -> ApiToken:
        token = self.tokens.get(token_id) if TOKEN_ID.match(token_id) else None
        if token is None:
            raise NotFound(f"no API token {token_id!r}: list them with `modelyard token list`")
        return token

    def revoke(self, token: ApiToken) -> ApiToken:
        """Revoke a token (idempotent: a revoked token keeps its first revocation time)."""
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            self.tokens.revoke_sessions_of(token.id, token.revoked_at)
            self.session.flush()
            run_after_commit(self.session, self.on_change)
            log.info("auth.token.revoked", token=token.id, user=token.user.name)
        return token

    def _user(self, name: str) -> User:
        name = name.strip()
        if not name:
            raise InvalidInput("a token's user needs a name")
        found = self.users.get_by_name(name)
        if found is not None:
            return found
        try:
            with self.session.begin_nested():
                return self.users.add(User(name=name))
        except sqlalchemy.exc.IntegrityError:
            found = self.users.get_by_name(name)
            if found is None:
                raise Conflict(f"user {name!r} could not be created; try again") from None
            return found

    def _project_ids(self, references: Sequence[str]) -> list[str]:
        projects = ProjectRepository(self.session)
        ids = []
        for reference in references:
            project = projects.get(reference) or projects.get_by_name(reference)
            if project is None:
                raise NotFound(f"project {reference!r} does not exist: list projects with `modelyard project list`")
            ids.append(project.id)
        return sorted(set(ids))


class FileAccess:
    """Stored files as a caller limited to projects sees them: only those of its projects."""

    def __init__(self, session: Session, access: ProjectAccess) -> None:
        self.owners = FileOwnerRepository(session)
        self.access = access

    def ensure_visible(self, key: str) -> None:
        """404 (never 403: the file's existence is not revealed) for a file of another project."""
        if self.access.limited and not self.access.allows(self.owners.project_of(key)):
            raise NotFound(f"no stored file {key!r}")

    def visible(self) -> ColumnElement[bool] | None:
        """A condition for file listings; None: every file."""
        if self.access.project_ids is None:
            return None
        return files_of_projects(self.access.project_ids)


# -- recognising callers -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Remembered:
    principal: Principal | None  # None: no such token (remembered too, so guessing costs no query)
    expires_at: datetime | None
    until: float


class Authenticator:
    """Who a bearer secret belongs to, remembered for a few seconds per secret. One per running app."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.database = database
        # MODELYARD_API_TOKENS: each entry is a user with the admin scope and no project limit.
        self.configured = {
            secret_hash(secret): Principal(user=user, scope=Scope.ADMIN) for secret, user in settings.api_tokens.items()
        }
        self._lock = threading.Lock()
        self._remembered: dict[str, _Remembered] = {}
        self._enabled: tuple[bool, float] | None = None
        self._last_used: dict[str, float] = {}

    # -- is authentication on? -----------------------------------------------------------------
    def enabled(self) -> bool:
        """True when tokens are configured or any token was ever stored (one query per few seconds)."""
        if self.configured:
            return True
        cached = self.cached_enabled()
        if cached is not None:
            return cached
        try:
            with transaction(self.database.read_sessions) as session:
                enabled = TokenRepository(session).any_created()
        except sqlalchemy.exc.SQLAlchemyError:
            # Asked before the first migration (`serve` checks before the app starts): no table, no token.
            if sqlalchemy.inspect(self.database.engine).has_table(ApiToken.__tablename__):
                raise
            return False
        with self._lock:
            self._enabled = (enabled, time.monotonic() + ENABLED_TTL_SECONDS)
        return enabled

    def cached_enabled(self) -> bool | None:
        if self.configured:
            return True
        remembered = self._enabled
        if remembered is None or remembered[1] < time.monotonic():
            return None
        return remembered[0]

    def forget(self) -> None:
        """Drop what is remembered (a token was created or revoked here): the next request asks the database."""
        with self._lock:
            self._remembered.clear()
            self._enabled = None

    # -- who is calling? -----------------------------------------------------------------------
    async def principal_for(self, authorization: str | None, session_cookie: str | None = None) -> Principal:
        """The caller of a request from its `Authorization` header, or else the web UI's session cookie; 401
        when authentication is on and neither carries a valid, unexpired, unrevoked token."""
        enabled = self.cached_enabled()
        if enabled is None:
            enabled = await anyio.to_thread.run_sync(self.enabled)
        if not enabled:
            return LOCAL
        secret = session_cookie if authorization is None and session_cookie else _bearer_secret(authorization)
        hashed = secret_hash(secret)
        principal = self.configured.get(hashed)
        if principal is None:
            remembered = self._remembered.get(hashed)
            if remembered is None or remembered.until < time.monotonic():
                remembered = await anyio.to_thread.run_sync(self._look_up, hashed)
            if remembered.expires_at is not None and remembered.expires_at <= utcnow():
                raise Unauthorized(
                    "the bearer token has expired: ask an admin for a new one (`modelyard token create`)"
                )
            principal = remembered.principal
        if principal is None:
            raise Unauthorized("the bearer token is not valid (unknown or revoked): check `Authorization: Bearer ...`")
        return principal

    def _look_up(self, hashed: str) -> _Remembered:
        with transaction(self.database.read_sessions) as session:
            tokens = TokenRepository(session)
            token = tokens.by_secret_hash(hashed)
            if token is not None and token.parent_id is not None and not _usable(tokens.get(token.parent_id)):
                token = None  # a session ends with the token it was made from
            remembered = _Remembered(
                principal=_principal(token) if token is not None and token.revoked_at is None else None,
                expires_at=token.expires_at if token is not None else None,
                until=time.monotonic() + PRINCIPAL_TTL_SECONDS,
            )
        if remembered.principal is not None and remembered.principal.token_id is not None:
            self._record_use(remembered.principal.token_id)
        with self._lock:
            if len(self._remembered) >= REMEMBERED_TOKENS:
                self._remembered.clear()
            self._remembered[hashed] = remembered
        return remembered

    def _record_use(self, token_id: str) -> None:
        """Set last_used_at, at most once a minute per token (a write on every request would cost the hot path)."""
        if not self._due_for_last_used(token_id):
            return
        try:
            with transaction(self.database.sessions) as session:
                TokenRepository(session).mark_used(token_id, utcnow())
        except sqlalchemy.exc.OperationalError as error:  # a bookkeeping write never fails the request it serves
            log.warning("auth.token.last_used_not_recorded", token=token_id, error=str(error))

    def _due_for_last_used(self, token_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last_used.get(token_id)
            if last is not None and now - last < LAST_USED_INTERVAL_SECONDS:
                return False
            self._last_used[token_id] = now
            return True


def _usable(token: ApiToken | None) -> bool:
    return (
        token is not None
        and token.revoked_at is None
        and (token.expires_at is None or token.expires_at > utcnow())
    )


def _principal(token: ApiToken) -> Principal:
    access = ProjectAccess(frozenset(token.project_ids)) if token.project_ids is not None else EVERY_PROJECT
    return Principal(user=token.user.name, scope=Scope(token.scope), access=access, token_id=token.id)


def _bearer_secret(authorization: str | None) -> str:
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "a bearer token is required: pass `Authorization: Bearer <token>` (CLI: --token or MODELYARD_TOKEN)"
        )
    return secret.strip()


def authentication_enabled(context: AppContext) -> bool:
    """Whether requests must carry a token: configured tokens, or any token ever stored (revoked ones count).

    For the edge guard: answered from memory, with one database query at most every few seconds,
    so a server started before the first `modelyard token create` turns authentication on by itself.
    """
    return context.auth.enabled()
