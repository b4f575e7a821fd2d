"""HTTP for web UI sign-in: a token exchanged for an HttpOnly, SameSite=Strict session cookie.

The cookie holds the secret of a session token (kind `session`) made from the token the person typed, so
the browser never keeps that token, signing out revokes only the session, and revoking the token ends
every session made from it. Requests from a page elsewhere cannot ride the cookie: SameSite=Strict keeps
it off cross-site requests, and the edge guard refuses cross-origin state changes whatever they carry.
"""

from __future__ import annotations

from datetime import datetime

import anyio
from fastapi import APIRouter, Request, Response

from modelyard.api.deps import Context, SessionTokens
from modelyard.auth.access import Principal
from modelyard.auth.dependencies import Requires
from modelyard.auth.schemas import SessionRead, SessionStart
from modelyard.auth.service import SESSION_COOKIE
from modelyard.db.base import utcnow
from modelyard.errors import Unauthorized

router = APIRouter(prefix="/session", tags=["session"])


@router.get("", response_model=SessionRead, dependencies=[Requires.nothing])
async def read_session(request: Request, context: Context) -> SessionRead:
    """Whether sign-in is needed and who is signed in; never 401, so a signed-out page can ask."""
    required = await anyio.to_thread.run_sync(context.auth.enabled)
    try:
        principal = await context.auth.principal_for(
            request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
        )
    except Unauthorized:
        return SessionRead(auth_required=required, user=None, scope=None, projects=None)
    return _session_read(required, principal)


@router.post("", response_model=SessionRead, dependencies=[Requires.nothing])
async def start_session(body: SessionStart, request: Request, response: Response, context: Context,
                        service: SessionTokens) -> SessionRead:  # fmt: skip
    """Sign in with a token: 200 with a session cookie, or 401 when the token is not valid. Without
    authentication there is nothing to sign in to: 200 and no cookie."""
    principal = await context.auth.principal_for(f"Bearer {body.token.strip()}")
    if not await anyio.to_thread.run_sync(context.auth.enabled):
        return _session_read(False, principal)
    created = service.start_session(principal)
    expires_at = created.token.expires_at or utcnow()
    response.set_cookie(
        SESSION_COOKIE, created.secret, max_age=_seconds_until(expires_at), path="/", httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return _session_read(True, principal, expires_at)


@router.delete("", status_code=204, dependencies=[Requires.nothing])
def end_session(request: Request, response: Response, service: SessionTokens) -> Response:
    """Sign out: the session is revoked and the cookie cleared (also when it was no longer valid)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        service.end_session(secret)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _session_read(required: bool, principal: Principal, expires_at: datetime | None = None) -> SessionRead:
    projects = sorted(principal.access.project_ids) if principal.access.project_ids is not None else None
    return SessionRead(auth_required=required, user=principal.user, scope=principal.scope, projects=projects,
                       expires_at=expires_at)  # fmt: skip


def _seconds_until(moment: datetime) -> int:
    return max(0, int((moment - utcnow()).total_seconds()))
