"""The CLI as a user runs it: a real `modelyard` process, on the local data directory or a server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard.config import Settings
from tests.server import REPO_ROOT, ServerProcess, server_env

HEAVY_MODULES = ("torch", "torchvision", "openvino", "nncf", "datumaro")


def modelyard(settings: Settings, *args: str, server: str | None = None) -> subprocess.CompletedProcess[str]:
    env = server_env(settings, 8000)
    env.pop("MODELYARD_SERVER", None)
    command = [sys.executable, "-m", "modelyard", *(["--server", server] if server else []), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def modules_loaded_by(*args: str) -> list[str]:
    """The top-level modules a real `modelyard ARGS` process has imported when it exits."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted({name.split('.')[0] for name in sys.modules}), file=sys.stderr))\n"
        f"sys.argv = ['modelyard', *{list(args)!r}]\n"
        "from modelyard.cli.main import main\n"
        "main()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Usage: modelyard" in result.stdout
    return json.loads(result.stderr.strip().splitlines()[-1].replace("'", '"'))


def test_help_imports_neither_heavy_libraries_nor_the_sdk_stack() -> None:
    loaded = modules_loaded_by("--help")
    assert [name for name in (*HEAVY_MODULES, "sqlalchemy", "pydantic", "httpx") if name in loaded] == []
    assert "typer" in loaded  # the check sees what the process imported


def test_subcommand_help_imports_no_heavy_library() -> None:
    loaded = modules_loaded_by("train", "--help")
    assert [name for name in (*HEAVY_MODULES, "sqlalchemy") if name in loaded] == []


def test_project_create_and_list_print_json(settings: Settings) -> None:
    created = modelyard(settings, "project", "create", "shapes", "--task", "detection",
                        "--label", "circle", "--label", "square", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    project = json.loads(created.stdout)
    assert (project["name"], project["task_type"]) == ("shapes", "detection")
    assert [label["name"] for label in project["labels"]] == ["circle", "square"]
    listed = modelyard(settings, "project", "list", "--json")
    assert [p["id"] for p in json.loads(listed.stdout)] == [project["id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["project", "create", "x", "--task", "nope"], "task_type: Input should be"),
        (["label", "add", "missing-project", "cat"], "project 'missing-project' does not exist"),
        (["job", "show", "nope"], "job 'nope' does not exist"),
        (["registry", "version", "m/abc"], "version 'abc' is not a number"),
        (["dataset", "upload", "p", "/nonexistent.png"], "/nonexistent.png: No such file or directory"),
        (["models", "show", "digits/4"], "project 'digits' does not exist"),
        (["project", "list", "--limit", "many"], "Invalid value for '--limit'"),
    ],
)
def test_errors_are_one_line_and_exit_1(settings: Settings, args: list[str], message: str) -> None:
    result = modelyard(settings, *args)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_duplicate_label_through_the_cli_changes_nothing(settings: Settings) -> None:
    modelyard(settings, "project", "create", "p", "--task", "multiclass_classification", "--label", "cat")
    duplicate = modelyard(settings, "label", "add", "p", "cat")
    assert duplicate.returncode == 1 and "already has a label named 'cat'" in duplicate.stderr
    labels = json.loads(modelyard(settings, "label", "list", "p", "--json").stdout)
    assert [label["name"] for label in labels] == ["cat"]


def test_label_commands_rename_recolor_hotkey_delete(settings: Settings) -> None:
    modelyard(settings, "project", "create", "p", "--task", "detection", "--label", "a", "--label", "b")
    assert json.loads(modelyard(settings, "label", "rename", "p", "a", "apple", "--json").stdout)["name"] == "apple"
    assert (
        json.loads(modelyard(settings, "label", "recolor", "p", "apple", "#00ff00", "--json").stdout)["color"]
        == "#00ff00"
    )
    assert json.loads(modelyard(settings, "label", "hotkey", "p", "apple", "2", "--json").stdout)["hotkey"] == "2"
    assert modelyard(settings, "label", "delete", "p", "b").returncode == 0
    names = [label["name"] for label in json.loads(modelyard(settings, "label", "list", "p", "--json").stdout)]
    assert names == ["apple"]


def test_project_show_rename_delete(settings: Settings) -> None:
    modelyard(settings, "project", "create", "p", "--task", "detection", "--description", "first")
    shown = modelyard(settings, "project", "show", "p")
    assert "first" in shown.stdout and "detection" in shown.stdout
    assert "0 item(s), 0 dataset revision(s), 0 model revision(s)" in shown.stdout
    assert json.loads(modelyard(settings, "project", "rename", "p", "q", "--json").stdout)["name"] == "q"
    assert modelyard(settings, "project", "delete", "q", "--yes").returncode == 0
    assert json.loads(modelyard(settings, "project", "list", "--json").stdout) == []


def test_job_submit_wait_show_logs_in_local_mode(settings: Settings) -> None:
    submitted = modelyard(settings, "job", "submit", "test.count", "-p", "steps=2", "--wait", "--json")
    assert submitted.returncode == 0, submitted.stderr
    job = json.loads(submitted.stdout[submitted.stdout.index("{"):])
    assert (job["status"], job["result"]) == ("succeeded", {"counted": 2})
    logs = modelyard(settings, "job", "logs", job["id"])
    assert "counting 2" in logs.stdout
    metrics = json.loads(modelyard(settings, "job", "metrics", job["id"], "--json").stdout)
    assert metrics == [{"square": 1, "step": 1}, {"square": 4, "step": 2}]
    listed = json.loads(modelyard(settings, "job", "list", "--json").stdout)
    assert [item["id"] for item in listed] == [job["id"]]


@pytest.mark.parametrize(
    ("job_type", "line"),
    [
        ("test.fail", "error: job test.fail failed: ValueError: this job always fails [job "),
        ("test.cancel_self", "error: job test.cancel_self cancelled [job "),
    ],
)
def test_wait_on_a_job_that_does_not_succeed_exits_1_with_one_line(
    settings: Settings, job_type: str, line: str
) -> None:
    result = modelyard(settings, "job", "submit", job_type, "--wait", "--json")
    assert result.returncode == 1
    errors = [text for text in result.stderr.splitlines() if text.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(line), result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout[result.stdout.index("{"):])["status"] in ("failed", "cancelled")


@pytest.mark.parametrize(
    ("job_type", "status", "reason", "error", "line"),
    [
        ("revision.evaluate", "failed", "error", "ValueError: no images", "evaluation failed: ValueError: no images"),
        ("revision.train", "failed", "crashed", "exited with code 9", "training failed (crashed): exited with code 9"),
        ("revision.optimize", "cancelled", "cancelled", None, "INT8 optimization cancelled"),
        ("dataset.import", "failed", "interrupted", None, "dataset import failed (interrupted)"),
    ],
)
def test_failure_line_names_the_jobs_own_kind(
    job_type: str, status: str, reason: str, error: str | None, line: str
) -> None:
    from types import SimpleNamespace

    from modelyard.cli.jobs import failure_line

    job = SimpleNamespace(id="j1", type=job_type, status=status, reason=reason, error=error)
    assert failure_line(job) == f"{line} [job j1]"


def test_job_logs_follow_in_local_mode_runs_the_job_and_streams_to_its_end(settings: Settings) -> None:
    job = json.loads(modelyard(settings, "job", "submit", "test.count", "-p", "steps=2", "--json").stdout)
    followed = modelyard(settings, "job", "logs", job["id"], "--follow")
    assert followed.returncode == 0, followed.stderr
    assert [line.split()[-1] for line in followed.stdout.splitlines() if "counting" in line] == ["1", "2"]


def test_the_same_commands_work_against_a_server(settings: Settings, tmp_path: Path) -> None:
    server = ServerProcess(settings, tmp_path / "server.log")
    server.start()
    try:
        created = modelyard(settings, "project", "create", "shapes", "--task", "detection", "--label", "circle",
                            "--json", server=server.url)  # fmt: skip
        assert created.returncode == 0, created.stderr
        remote = json.loads(modelyard(settings, "project", "list", "--json", server=server.url).stdout)
        local = json.loads(modelyard(settings, "project", "list", "--json").stdout)
        assert remote == local and [p["name"] for p in remote] == ["shapes"]
        job = json.loads(modelyard(settings, "job", "submit", "test.count", "--json", server=server.url).stdout)
        followed = modelyard(settings, "job", "logs", job["id"], "--follow", server=server.url)
        assert "counting 3" in followed.stdout
        health = json.loads(modelyard(settings, "health", "--json", server=server.url).stdout)
        assert health["jobs"]["runner"] == "running"
    finally:
        server.stop()


def test_unreachable_server_is_one_clear_line(settings: Settings) -> None:
    result = modelyard(settings, "project", "list", server="http://127.0.0.1:9")
    assert result.returncode == 1
    assert "cannot reach the modelyard server" in result.stderr


def test_usage_errors_are_one_line_and_exit_1(settings: Settings) -> None:
    result = modelyard(settings, "project", "create")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Missing argument" in lines[0] and "--help" in lines[0]


def test_health_prints_the_state_without_server_paths(settings: Settings) -> None:
    result = modelyard(settings, "health")
    assert result.returncode == 0, result.stderr
    assert "local ok" in result.stdout and "GiB free" in result.stdout
    assert str(settings.data_dir) not in result.stdout
