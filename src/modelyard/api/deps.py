"""Request dependencies: the session (committed once, at the edge), the caller, the app context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.errors import Unauthorized

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> AppContext:
    return request.app.state.context


def get_session(request: Request) -> Iterator[Session]:
    context: AppContext = request.app.state.context
    factory = context.db.read_sessions if request.method in READ_METHODS else context.db.sessions
    with transaction(factory) as session:
        yield session


def get_actor(request: Request) -> str:
    """The caller's identity: the user a bearer token maps to, or `local` when no tokens are set."""
    tokens = request.app.state.context.settings.api_tokens
    if not tokens:
        return "local"
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token not in tokens:
        raise Unauthorized("a valid bearer token is required: pass `Authorization: Bearer <token>` (SDK: token=...)")
    return tokens[token]


DbSession = Annotated[Session, Depends(get_session, scope="function")]
Actor = Annotated[str, Depends(get_actor)]
Context = Annotated[AppContext, Depends(get_context)]
