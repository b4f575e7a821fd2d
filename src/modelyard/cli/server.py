"""`modelyard serve`, `modelyard db upgrade`, `modelyard health`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli.output import fail, print_fields, print_json
from modelyard.cli.state import client

if TYPE_CHECKING:
    from modelyard.config import Settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _settings(ctx: typer.Context, **overrides: object) -> Settings:
    from modelyard.config import Settings

    data_dir = overrides.pop("data_dir", None) or ctx.find_root().obj.data_dir
    values: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    if data_dir:
        values["data_dir"] = data_dir
    return Settings(**values)


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (MODELYARD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (MODELYARD_PORT).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (MODELYARD_DATA_DIR).")] = None,
    job_slots: Annotated[int | None, typer.Option(help="Jobs run at once (MODELYARD_JOB_SLOTS).")] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Serve every address without API tokens: anyone who reaches the port may change or delete "
            "everything (MODELYARD_INSECURE).",
        ),
    ] = False,
) -> None:
    """Start the API server and the job runner (migrates the database first)."""
    import structlog
    import uvicorn

    from modelyard.api.guard import authentication_enabled, serve_refusal
    from modelyard.app import create_app

    settings = _settings(ctx, host=host, port=port, data_dir=data_dir, job_slots=job_slots, insecure=insecure or None)
    app = create_app(settings)
    authenticated = authentication_enabled(app.state.context)
    refusal = serve_refusal(settings, authenticated)
    if refusal:
        app.state.context.close()
        fail(refusal)
        raise typer.Exit(1)
    if settings.insecure and not authenticated:
        structlog.get_logger("modelyard.cli").warning(
            "server.insecure", host=settings.host, detail="no API tokens: every caller that reaches the port is served"
        )
    print(f"modelyard serving http://{settings.host}:{settings.port} (data: {settings.data_dir}); API docs at /docs")
    # The app logs each request itself (api.request); uvicorn's access log would repeat it.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Migration to reach; default: the newest.")] = "head",
) -> None:
    """Apply the database migrations up to REVISION (default: the newest)."""
    from modelyard.db import migrate
    from modelyard.db.engine import Database

    settings = _settings(ctx)
    database = Database(settings)
    try:
        migrate.upgrade(database.engine, revision)
        print(f"database at revision {migrate.current_revision(database.engine)} ({database.dialect})")
    finally:
        database.dispose()


def health(ctx: typer.Context, json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Version, database, storage and job runner state."""
    report = client(ctx).health()
    if json:
        print_json(report)
        return
    print_fields(
        {
            "status": report["status"],
            "version": report["version"],
            "database": f"{report['database'].get('dialect')} {report['database'].get('status')} "
            f"(revision {report['database'].get('revision')})",
            "storage": f"{report['storage'].get('backend')} {report['storage'].get('status')}"
            + _free_space(report["storage"]),
            "job runner": f"{report['jobs']['runner']} ({report['jobs']['active']}/{report['jobs']['slots']} slots)",
        }
    )


def _free_space(storage: dict[str, Any]) -> str:
    free, total = storage.get("free_bytes"), storage.get("total_bytes")
    if not isinstance(free, int) or not isinstance(total, int):
        return ""
    return f" ({free / 1024**3:.1f} of {total / 1024**3:.1f} GiB free)"


def doctor(ctx: typer.Context) -> None:
    """Check this configuration: database reachable and migrated, store writable and readable (sha256 compared),
    and with MODELYARD_EXECUTOR=ray the cluster reachable with room for every job type. Exit 1 on any failure."""
    from modelyard.health.doctor import run_checks

    results = run_checks(_settings(ctx))
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
    if not all(result.ok for result in results):
        raise typer.Exit(1)
