"""`modelyard`: the command line. Each command parses, calls the SDK, prints."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main

from modelyard import __version__
from modelyard.cli import (
    architectures,
    dataset_selection,
    datasets,
    jobs,
    labels,
    pipeline,
    projects,
    registry,
    revisions,
    server,
    storage,
    tokens,
    tuning,
)
from modelyard.cli.help import tidy
from modelyard.cli.output import fail
from modelyard.cli.state import CliState

if TYPE_CHECKING:
    from modelyard.errors import ModelyardError
    from modelyard.sdk.errors import ApiError

app = typer.Typer(
    name="modelyard",
    help="Manage computer-vision models: projects, datasets, training, export, registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(projects.app, name="project")
app.add_typer(labels.app, name="label")
app.add_typer(datasets.app, name="dataset")
datasets.app.command("counts")(dataset_selection.counts)
datasets.app.command("bulk")(dataset_selection.bulk)
app.command("annotate")(datasets.annotate)
app.command("train")(revisions.train)
app.command("export")(revisions.export)
app.command("evaluate")(revisions.evaluate)
app.command("optimize")(revisions.optimize)
app.command("tune")(tuning.tune)
revisions.app.command("study")(tuning.study)
app.add_typer(revisions.app, name="models")
app.add_typer(pipeline.app, name="pipeline")
app.command("deploy")(pipeline.deploy)
app.add_typer(jobs.app, name="job")
app.add_typer(architectures.app, name="architectures")
app.add_typer(architectures.weights_app, name="weights")
app.add_typer(registry.app, name="registry")
app.add_typer(server.db_app, name="db")
app.add_typer(tokens.app, name="token")
app.add_typer(storage.app, name="storage")
app.command("serve")(server.serve)
app.command("health")(server.health)
app.command("doctor")(server.doctor)


def _version(value: bool) -> None:
    if value:
        print(f"modelyard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    server_url: Annotated[
        str | None,
        typer.Option("--server", envvar="MODELYARD_SERVER", help="URL of a running server; default: local data dir."),
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="MODELYARD_TOKEN", help="Bearer token for the server.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(envvar="MODELYARD_DATA_DIR", help="Local data directory (no --server).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    state = CliState(server=server_url, token=token, data_dir=data_dir)
    ctx.obj = state
    ctx.call_on_close(state.close)


def command() -> Any:
    """The Click command tree of `app`, with help that names arguments and flags as manuals do."""
    global _command
    if _command is None:
        _command = tidy(typer.main.get_command(app))
    return _command


_command: Any = None


def main(args: Sequence[str] | None = None) -> None:
    """Run the CLI; every failure ends as one red line on stderr and exit code 1."""
    try:
        # Outside standalone mode Click returns a command's `typer.Exit(code)` instead of raising it.
        code = command().main(args=args, prog_name="modelyard", standalone_mode=False)
    except _api_errors() as error:
        fail(error.detail)
        sys.exit(1)
    except _domain_errors() as error:  # raised by the SDK before any request, e.g. a malformed reference
        fail(error.message)
        sys.exit(1)
    except _connection_errors() as error:
        fail(f"cannot reach the modelyard server ({error}); is `modelyard serve` running at that URL?")
        sys.exit(1)
    except typer.Abort:
        fail("aborted")
        sys.exit(1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except _click_errors() as error:
        context = getattr(error, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        fail(f"{error.format_message()}{hint}")  # type: ignore[attr-defined]  # both click copies define it
        sys.exit(1)
    except OSError as error:  # a file named on the command line that cannot be read or written
        fail(_os_error_line(error))
        sys.exit(1)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)
    except Exception as error:  # a defect, not bad input: still one line, the traceback only on request
        if os.environ.get("MODELYARD_DEBUG"):
            raise
        fail(f"internal error: {type(error).__name__}: {error} (MODELYARD_DEBUG=1 shows the traceback)")
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


def _os_error_line(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if error.filename else reason


# The except clauses below are evaluated only when a command has raised, and they look the SDK's and httpx's
# exception classes up only if a command loaded those modules: `--help` then never imports the SDK (and with it
# SQLAlchemy and httpx), which is most of a cold start.


def _api_errors() -> tuple[type[ApiError], ...]:
    errors = sys.modules.get("modelyard.sdk.errors")
    return (errors.ApiError,) if errors is not None else ()


def _domain_errors() -> tuple[type[ModelyardError], ...]:
    errors = sys.modules.get("modelyard.errors")
    return (errors.ModelyardError,) if errors is not None else ()


def _connection_errors() -> tuple[type[BaseException], ...]:
    httpx = sys.modules.get("httpx")
    # Refused, timed out, dropped mid-answer (a server restarting), or a URL it cannot use.
    return (httpx.TransportError, httpx.InvalidURL) if httpx is not None else ()


def _click_errors() -> tuple[type[BaseException], ...]:
    """Usage errors: Typer raises its own bundled copy of click's exceptions, or click's."""
    errors: list[type[BaseException]] = []
    try:
        from typer._click.exceptions import ClickException as BundledClickException

        errors.append(BundledClickException)
    except ImportError:
        pass
    try:
        import click

        errors.append(click.ClickException)
    except ImportError:
        pass
    return tuple(errors)
