"""Tables show ids that commands take back: a prefix of 8 characters or more, never cut by a narrow terminal,
and model revisions with their number in the project."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelyard.context import AppContext
from modelyard.sdk import Client
from tests.cli.inprocess import run
from tests.revisions.factories import classification_project
from tests.revisions.test_references import FIRST_ID, SECOND_ID, THIRD_ID, add_revisions


@pytest.fixture
def colors(cli_app: Client, context: AppContext, tmp_path: Path) -> str:
    project = cli_app.projects.get(classification_project(cli_app, tmp_path / "images", per_label=2))
    add_revisions(context, project.id, cli_app.datasets.create_revision(project.name).id)
    return project.name


def test_model_table_shows_numbers_and_ids_that_commands_accept_on_a_narrow_terminal(
    colors: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    listed = run(capsys, ["models", "list", colors])
    assert listed.code == 0, listed.stderr
    rows = re.findall(r"^│ (\d) │.*│ (\S+) +│$", listed.stdout, flags=re.MULTILINE)
    shown = {int(number): prefix for number, prefix in rows}
    # Other columns give way (the terminal is narrow); the ids stay whole, 8 characters that commands accept.
    assert shown == {1: FIRST_ID[:8], 2: SECOND_ID[:8], 3: THIRD_ID[:8]}
    assert "…" in listed.stdout
    for number, prefix in shown.items():
        by_prefix = run(capsys, ["models", "show", prefix])
        by_number = run(capsys, ["models", "show", f"{colors}/{number}"])
        assert by_prefix.code == by_number.code == 0
        assert by_prefix.stdout == by_number.stdout and f"#{number} run {number}" in by_number.stdout


def test_item_and_job_tables_show_prefixes_that_commands_accept(
    colors: str, cli_app: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    items = run(capsys, ["dataset", "items", colors])
    first_prefix = re.findall(r"│ ([0-9a-f]{8,32}) ", items.stdout)[0]
    annotated = run(capsys, ["annotate", colors, first_prefix, "--label", "blue", "--json"])
    assert annotated.code == 0, annotated.stderr
    assert annotated.stdout.count(first_prefix) >= 1
    job = cli_app.jobs.submit("test.count", {"steps": 1})
    jobs = run(capsys, ["job", "list"])
    (job_prefix,) = re.findall(r"│ ([0-9a-f]{8,32}) ", jobs.stdout)
    assert job.id.startswith(job_prefix) and len(job_prefix) == 8
    shown = run(capsys, ["job", "show", job_prefix, "--json"])
    assert shown.code == 0 and f'"id": "{job.id}"' in shown.stdout


def test_an_ambiguous_prefix_is_one_error_line(colors: str, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run(capsys, ["models", "show", "abcdef"])
    assert outcome.code == 1
    assert outcome.stderr.strip() == (
        "error: ambiguous id prefix 'abcdef': it matches 2 model revisions; give more characters of the id"
    )
