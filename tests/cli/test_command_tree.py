"""Every command of the CLI, found by walking its Click tree (so a command added later is covered), run in-process
with bad arguments against the real app on a tmp data directory, and its help read.

Usage errors (an unknown option, a value of the wrong type, a missing file that Click checks) exit 1 like every
other failure: a script needs one rule, "non-zero is failure, stderr says why", not Click's 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from modelyard.cli.help import walk
from modelyard.cli.main import command
from modelyard.sdk import Client
from tests.cli.inprocess import run

# References that name nothing here, in every malformed shape the issue found: a free id prefix, a bare
# project/model with a slash, a negative and a non-numeric number, an empty alias.
BAD_VALUES = ("abcdef", "m/", "m/-1", "m/abc", "m@")
# Creating from a bare name is what these do: a name that names nothing is good input for them.
CREATE_FROM_A_NAME = {("registry", "create")}
# Given good values it would start a server and never return; only its usage errors are run.
NEVER_RUN_FOR_REAL = {("serve",)}


def leaf_commands() -> list[tuple[tuple[str, ...], Any]]:
    return [(path, found) for path, found in walk(command()) if not getattr(found, "commands", None)]


def value_kind(param: Any, found: Any) -> str:
    shown = param.display_type(typer.Context(found))
    if "path" in shown.lower() or "file" in shown:
        return "path"
    if "int" in shown or "float" in shown or "datetime" in shown:
        return "number"
    return "text"


def fill(found: Any, text: str, missing_path: Path) -> list[str]:
    """Values for the required parameters: `text` for text, a missing file for paths, a number for numbers."""
    args: list[str] = []
    for param in found.params:
        if not param.required:
            continue
        value = {"path": str(missing_path), "number": "7", "text": text}[value_kind(param, found)]
        args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    if any("--yes" in getattr(param, "opts", ()) for param in found.params):
        args.append("--yes")
    return args


def bad_invocations(path: tuple[str, ...], found: Any, missing: Path) -> Iterator[tuple[str, list[str]]]:
    yield "unknown option", [*path, *fill(found, "m", missing), "--no-such-option"]
    optional = [param for param in found.params if not param.required and param.param_type_name == "option"]
    for param in optional:
        kind = value_kind(param, found)
        if kind == "number" and not param.is_flag:
            yield f"{param.opts[0]} not a number", [*path, *fill(found, "m", missing), param.opts[0], "many"]
    if path in NEVER_RUN_FOR_REAL:
        return
    for value in BAD_VALUES if any(param.required for param in found.params) else ():
        yield f"required {value!r}", [*path, *fill(found, value, missing)]
    for param in optional:
        if value_kind(param, found) == "path":
            yield f"{param.opts[0]} missing file", [*path, *fill(found, "m", missing), param.opts[0], str(missing)]


def test_every_command_answers_bad_arguments_with_one_error_line(
    cli_app: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli_app.projects.create("m", "multiclass_classification", labels=["cat"])
    cli_app.registry.create("m")
    missing = tmp_path / "missing" / "file.png"
    wrong: list[str] = []
    count = 0
    for path, found in leaf_commands():
        for case, args in bad_invocations(path, found, missing):
            count += 1
            outcome = run(capsys, args)
            if outcome.code == 0 and path in CREATE_FROM_A_NAME:
                cli_app.registry.delete(args[-1])  # what it made would be found by the commands after it
                continue
            lines = outcome.stderr.strip().splitlines()
            one_line = len(lines) == 1 and lines[0].startswith("error: ")
            if outcome.code != 1 or not one_line or "Traceback" in outcome.stderr + outcome.stdout \
                    or "internal error" in outcome.stderr:  # fmt: skip
                wrong.append(f"{' '.join(args)} [{case}] -> exit {outcome.code}: {outcome.stderr.strip()[-300:]}")
    assert wrong == [], "\n".join(wrong)
    assert count > 5 * len(leaf_commands())  # the walk found the tree and made cases for it


def test_malformed_references_say_what_is_wrong(cli_app: Client, capsys: pytest.CaptureFixture[str]) -> None:
    cli_app.registry.create("m")
    expected = {
        ("registry", "version", "m/abc"): "version 'abc' is not a number",
        ("registry", "delete", "m@", "--yes"): "model reference 'm@' is not valid",
        ("registry", "register", "m", "--metric", "accuracy=high"): "metric accuracy='high' must be a number",
        ("registry", "register", "m", "--file", "/nonexistent"): "file '/nonexistent' does not exist",
        ("registry", "archive", "m/"): "'m/' is not a registered model: give its name or id, without '/'",
        ("models", "show", "digits/x"): "model revision 'digits/x' is not valid: use PROJECT/NUMBER",
    }
    for args, message in expected.items():
        outcome = run(capsys, list(args))
        assert (outcome.code, outcome.stdout) == (1, ""), args
        assert message in outcome.stderr, (args, outcome.stderr)


def test_unknown_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run(capsys, ["--server", "http://127.0.0.1:9", "project", "list"])
    assert outcome.code == 1
    assert outcome.stderr.startswith("error: cannot reach the modelyard server") and "Traceback" not in outcome.stderr


def test_every_argument_and_option_has_a_help_line() -> None:
    undocumented = [
        f"{' '.join(path)} {param.name}"
        for path, found in leaf_commands()
        for param in found.get_params(typer.Context(found))
        if not (param.help or "").strip()
    ]
    assert undocumented == []


@pytest.mark.parametrize("path", [path for path, _ in leaf_commands()], ids=" ".join)
def test_help_names_arguments_in_capitals_and_flags_without_a_type(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    outcome = run(capsys, [*path, "--help"])
    assert outcome.code == 0
    usage = next(line for line in outcome.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and re.search(r"\[OPTIONS\]", usage)
    assert "<bool>" not in outcome.stdout
    found = dict(leaf_commands())[path]
    for argument in (param for param in found.params if param.param_type_name == "argument"):
        assert argument.metavar and argument.metavar.upper() == argument.metavar
        assert argument.metavar in usage
