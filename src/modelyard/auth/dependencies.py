"""What each route requires, as FastAPI dependencies: `dependencies=[Requires.read]` and so on.

Every API route declares one of them (a test walks the app's routes to prove it), so a new route cannot
be left open by forgetting. Authentication (401) runs before anything the route looks up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from modelyard.auth.access import Principal, ProjectAccess, Scope
from modelyard.auth.service import SESSION_COOKIE
from modelyard.errors import Forbidden

REQUIRED_SCOPE = "required_scope"


async def get_principal(request: Request) -> Principal:
    """The caller; FastAPI runs this once per request however many dependencies ask for it."""
    principal: Principal = await request.app.state.context.auth.principal_for(
        request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
    )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_access(principal: CurrentPrincipal) -> ProjectAccess:
    return principal.access


Access = Annotated[ProjectAccess, Depends(get_access)]


def forbid_unless(principal: Principal, scope: Scope) -> None:
    """403, naming the scope needed, unless the caller's scope includes `scope`."""
    if not principal.may(scope):
        raise Forbidden(
            f"this request needs a token with the {scope.value} scope; this token has {principal.scope.value}",
            needed_scope=scope.value,
        )


def _requirement(scope: Scope) -> Callable[[Principal], Awaitable[None]]:
    async def require(principal: CurrentPrincipal) -> None:
        forbid_unless(principal, scope)

    require.__name__ = f"require_{scope.value}"
    setattr(require, REQUIRED_SCOPE, scope)
    return require


async def public() -> None:
    """Open to anyone, token or not: health only."""


setattr(public, REQUIRED_SCOPE, None)


class Requires:
    """The declarations routes choose from."""

    read: Any = Depends(_requirement(Scope.READ))
    write: Any = Depends(_requirement(Scope.WRITE))
    admin: Any = Depends(_requirement(Scope.ADMIN))
    nothing: Any = Depends(public)
