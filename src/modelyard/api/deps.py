"""Request dependencies: the session (committed once, at the edge), the caller, the app context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from modelyard.context import AppContext
from modelyard.errors import Unauthorized

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_END_THREADS = 64


async def get_context(request: Request) -> AppContext:
    return request.app.state.context


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed once after the endpoint returns.

    Commit, rollback and close run on worker threads of their own limiter, not of the pool that
    runs sync endpoints: when every endpoint thread waits for a lock (SQLite's write lock, a
    PostgreSQL row lock), the request holding it must still be able to commit and release it.
    Sharing one pool deadlocks as soon as more requests wait than the pool has threads.
    """
    context: AppContext = request.app.state.context
    factory = context.db.read_sessions if request.method in READ_METHODS else context.db.sessions
    limiter = _session_end_limiter(request)
    read_only = factory is context.db.read_sessions
    session = factory()
    try:
        yield session
    except BaseException:
        await _end(session, limiter, commit=False, read_only=read_only)
        raise
    await _end(session, limiter, commit=True, read_only=read_only)


async def _end(session: Session, limiter: anyio.CapacityLimiter, *, commit: bool, read_only: bool) -> None:
    if not session.in_transaction() or read_only:
        # Nothing written, no lock held: ending a read transaction costs less than a thread hop.
        _finish(session, commit)
        return
    await anyio.to_thread.run_sync(_finish, session, commit, limiter=limiter)


def _finish(session: Session, commit: bool) -> None:
    """Commit (or roll back) and close, in one worker-thread hop."""
    try:
        if commit:
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
        else:
            session.rollback()
    finally:
        session.close()


def _session_end_limiter(request: Request) -> anyio.CapacityLimiter:
    limiter = getattr(request.app.state, "session_end_limiter", None)
    if limiter is None:
        limiter = request.app.state.session_end_limiter = anyio.CapacityLimiter(SESSION_END_THREADS)
    return limiter


async def get_actor(request: Request) -> str:
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
