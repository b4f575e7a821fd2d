"""HTTP for API tokens: list, create, revoke. Admin scope only."""

from __future__ import annotations

from fastapi import APIRouter, status

from modelyard.api.deps import Tokens
from modelyard.auth.dependencies import Requires
from modelyard.auth.models import ApiToken
from modelyard.auth.schemas import TokenCreate, TokenCreated, TokenRead
from modelyard.auth.service import parse_duration

router = APIRouter(prefix="/tokens", tags=["tokens"])


def token_read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id, name=token.name, kind=token.kind, parent_id=token.parent_id, user=token.user.name,
        scope=token.scope, project_ids=token.project_ids, expires_at=token.expires_at, revoked_at=token.revoked_at,
        last_used_at=token.last_used_at, created_at=token.created_at, created_by=token.created_by,
    )  # fmt: skip


@router.get("", response_model=list[TokenRead], dependencies=[Requires.admin])
def list_tokens(service: Tokens) -> list[TokenRead]:
    return [token_read(token) for token in service.all()]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated, dependencies=[Requires.admin])
def create_token(body: TokenCreate, service: Tokens) -> TokenCreated:
    """Create a token; the answer carries its secret, which is never shown again."""
    expires_in = parse_duration(body.expires_in) if body.expires_in else None
    created = service.create(body.name, body.scope, user=body.user, projects=body.projects, expires_in=expires_in)
    return TokenCreated(**token_read(created.token).model_dump(), secret=created.secret)


@router.post("/{token_id}:revoke", response_model=TokenRead, dependencies=[Requires.admin])
def revoke_token(token_id: str, service: Tokens) -> TokenRead:
    """Revoke a token: this server refuses it at once, other servers on the same database within seconds."""
    return token_read(service.revoke(service.get(token_id)))
