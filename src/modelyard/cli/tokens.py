"""`modelyard token create|list|revoke`: API tokens, written straight into the data directory's database.

Like `modelyard db upgrade`, these run on the server's machine (the first admin token can only be made
there); a running server notices a new or revoked token within seconds. Through a server, an admin
token manages tokens with the SDK (`Client.tokens`) or `/api/v1/tokens`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from modelyard.cli.output import fail, print_json, print_table
from modelyard.cli.server import _settings

if TYPE_CHECKING:
    from modelyard.auth.service import TokenService

app = typer.Typer(help="API tokens (stored hashed; the secret is shown once).", no_args_is_help=True)
CLI_ACTOR = "cli"


@contextmanager
def _tokens(ctx: typer.Context) -> Iterator[TokenService]:
    from modelyard.auth.service import TokenService
    from modelyard.db import migrate
    from modelyard.db.engine import Database, transaction
    from modelyard.errors import ModelyardError
    from modelyard.logging import configure_logging

    settings = _settings(ctx)
    # Warnings only, on stderr, as for every in-process command: the command prints its own answer, and the
    # token's creation is recorded in the database (created_by, created_at).
    configure_logging("warning", settings.log_json)
    database = Database(settings)
    try:
        migrate.upgrade(database.engine)
        with transaction(database.sessions) as session:
            yield TokenService(session, CLI_ACTOR)
    except ModelyardError as error:
        fail(error.message)
        raise typer.Exit(1) from None
    finally:
        database.dispose()


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. ci-upload.")],
    scope: Annotated[str, typer.Option(help="read (GET), write (create, change, train, predict) or admin.")],
    project: Annotated[
        list[str] | None, typer.Option("--project", help="Limit the token to this project (name or id); repeat.")
    ] = None,
    expires: Annotated[str | None, typer.Option(help="Lifetime, e.g. 30d, 12h, 2w (default: none).")] = None,
    user: Annotated[str | None, typer.Option(help="Whose token (default: a user named like the token).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a token and print its secret, which is never shown again."""
    from modelyard.auth.access import Scope
    from modelyard.auth.endpoints import token_read
    from modelyard.auth.schemas import TokenCreated
    from modelyard.auth.service import parse_duration

    if scope not in {item.value for item in Scope}:
        raise typer.BadParameter(f"{scope!r} is not a scope: use read, write or admin", param_hint="--scope")
    expires_in = parse_duration(expires) if expires else None
    with _tokens(ctx) as service:
        created = service.create(name, Scope(scope), user=user, projects=project or [], expires_in=expires_in)
        result = TokenCreated(**token_read(created.token).model_dump(), secret=created.secret)
    if json:
        print_json(result)
        return
    limit = ", ".join(result.project_ids) if result.project_ids else "every project"
    expiry = result.expires_at.strftime("%Y-%m-%d %H:%M UTC") if result.expires_at else "never"
    print(f"token {result.id} for user {result.user}: scope {result.scope}, {limit}, expires {expiry}")
    print("secret (shown once; pass it as `Authorization: Bearer ...` or MODELYARD_TOKEN):")
    print(result.secret)


@app.command("list")
def list_tokens(ctx: typer.Context, json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every token (never its secret), revoked and expired ones too."""
    from modelyard.auth.endpoints import token_read

    with _tokens(ctx) as service:
        tokens = [token_read(token) for token in service.all()]
    if json:
        print_json(tokens)
        return
    columns = ("id", "name", "kind", "user", "scope", "projects", "expires", "revoked", "last used", "created")
    print_table("API tokens", columns, (
        (t.id, t.name, t.kind, t.user, t.scope, ",".join(t.project_ids) if t.project_ids else "all", t.expires_at,
         t.revoked_at, t.last_used_at, t.created_at)
        for t in tokens
    ))  # fmt: skip


@app.command("revoke")
def revoke(
    ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")]
) -> None:
    """Revoke a token; running servers refuse it within seconds."""
    with _tokens(ctx) as service:
        token = service.revoke(service.get(token_id))
        print(f"token {token.id} ({token.name}, user {token.user.name}) revoked")
