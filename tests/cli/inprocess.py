"""The CLI run in-process: `main(args)` as the `modelyard` script calls it, its exit code and output captured."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from modelyard.cli.main import main


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> Outcome:
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
