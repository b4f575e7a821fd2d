"""`modelyard registry ...` under the registry's rules: one meaning for a bare name, `--force` for
versions in use, the options for runtime, framework, removals and named files, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.cli.main import main
from modelyard.config import Settings


@pytest.fixture
def failing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., str]:
    """Run a registry command through the real entry point; assert exit 1 and return its one error line."""
    monkeypatch.delenv("MODELYARD_SERVER", raising=False)
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)

    def run(*args: str) -> str:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["modelyard", "--data-dir", str(settings.data_dir), "registry", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        error = capsys.readouterr().err.strip()
        assert exit_info.value.code == 1, f"{args}: {error}"
        assert len(error.splitlines()) == 1 and error.startswith("error: "), f"{args}: {error}"
        return error

    return run


def test_a_bare_name_is_the_model_and_versions_need_a_reference_or_latest(cli, failing) -> None:  # noqa: ANN001
    cli("register", "m", "--create-model")
    cli("register", "m")

    for command in (["stage", "m", "production"], ["version", "m"], ["files", "m"], ["download", "m"],
                    ["transfer", "m", "other"], ["copy", "m", "other"]):  # fmt: skip
        assert "'m' names a model, not a version" in failing(*command), command
    assert json.loads(cli("versions", "m", "--json"))[0]["stage"] == "none"

    moved = json.loads(cli("stage", "m", "production", "--latest", "--json"))
    assert (moved["number"], moved["stage"]) == (2, "production")
    assert json.loads(cli("version", "m", "--latest", "--json"))["number"] == 2
    assert "--latest goes with a bare model name" in failing("version", "m/1", "--latest")
    assert "m production: 2" in cli("stage", "m", "production", "--holders")
    assert "--holders takes a model name" in failing("stage", "m/2", "production", "--holders")


@pytest.mark.parametrize(
    "args",
    [
        ["version", "m/abc"],
        ["version", "m/-1"],
        ["version", "m/"],
        ["delete", "m@", "--yes"],
        ["register", "m", "--metric", "accuracy=high"],
        ["register", "m", "--file", "/nonexistent/model.pt"],
        ["register", "m", "--file-as", "model.pt=/nonexistent/model.pt"],
    ],
)
def test_bad_references_and_values_are_one_line_errors(cli, failing, args: list[str]) -> None:  # noqa: ANN001
    cli("register", "m", "--create-model")
    failing(*args)
    assert json.loads(cli("describe", "m", "--json"))["model"]["num_versions"] == 1


def test_changing_the_labels_or_files_of_the_production_version_needs_force(
    cli, failing, tmp_path: Path  # noqa: ANN001
) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights")
    cli("register", "m", "--create-model", "--label", "0=cat", "--label", "1=dog", "--file", str(weights))
    cli("alias", "m", "production", "1")
    cli("stage", "m/1", "production")

    error = failing("version", "m/1", "--label", "2=bird")
    assert "holds alias @production and stage production" in error and "--force" in error
    assert "uploading 'model.pt'" in failing("files", "m@production", "--upload", str(weights))
    assert json.loads(cli("version", "m/1", "--json"))["label_map"] == {"0": "cat", "1": "dog"}

    forced = json.loads(cli("version", "m@production", "--label", "2=bird", "--force", "--json"))
    assert forced["label_map"] == {"0": "cat", "1": "dog", "2": "bird"}
    files = json.loads(cli("files", "m/1", "--delete", "model.pt", "--force", "--json"))
    assert files == []


def test_runtime_framework_task_and_removals_from_the_command_line(cli) -> None:  # noqa: ANN001
    cli("register", "m", "--create-model", "--image", "ghcr.io/acme/serve:1.4", "--runtime-flag", "--gpus=all",
        "--runtime-env", "THREADS=2", "--param", "lr=0.1", "--param", "epochs=3", "--metric", "accuracy=0.9",
        "--metric", "loss=0.2", "--tag", "team=vision", "--tag", "temp=yes")  # fmt: skip
    registered = json.loads(cli("version", "m/1", "--json"))
    assert registered["runtime"] == {"image": "ghcr.io/acme/serve", "tag": "1.4", "flags": ["--gpus=all"],
                                     "environment": {"THREADS": "2"}}  # fmt: skip

    changed = json.loads(cli("version", "m/1", "--framework", "onnx", "--task", "object_detection", "--remove-param",
                             "epochs", "--remove-metric", "loss", "--remove-tag", "temp", "--image",
                             "localhost:5000/serve", "--runtime-env", "DEVICE=cpu", "--json"))  # fmt: skip
    assert (changed["framework"], changed["task_type"]) == ("onnx", "object_detection")
    assert changed["parameters"] == {"lr": 0.1} and changed["metrics"] == {"accuracy": 0.9}
    assert changed["tags"] == {"team": "vision"}
    assert changed["runtime"] == {"image": "localhost:5000/serve", "tag": None, "flags": ["--gpus=all"],
                                  "environment": {"THREADS": "2", "DEVICE": "cpu"}}  # fmt: skip


def test_files_are_named_on_upload(cli, tmp_path: Path) -> None:  # noqa: ANN001
    xml, weights = tmp_path / "exported.xml", tmp_path / "exported.bin"
    xml.write_text("<net/>")
    weights.write_bytes(b"bin")
    registered = json.loads(cli("register", "m", "--create-model", "--framework", "openvino", "--file-as",
                                f"openvino/model.xml={xml}", "--json"))  # fmt: skip
    assert [file["name"] for file in registered["files"]] == ["openvino/model.xml"]

    files = json.loads(cli("files", "m/1", "--upload-as", f"openvino/model.bin={weights}", "--upload", str(xml),
                           "--json"))  # fmt: skip
    assert sorted(file["name"] for file in files) == ["exported.xml", "openvino/model.bin", "openvino/model.xml"]


def test_the_history_of_a_deleted_model_prints_by_its_name(cli) -> None:  # noqa: ANN001
    cli("register", "old", "--create-model")
    cli("delete", "old", "--yes", "-m", "replaced")
    events = json.loads(cli("events", "old", "--json"))
    assert [event["action"] for event in events] == ["model.created", "version.registered", "model.deleted"]
    assert events[-1]["comment"] == "replaced"
    assert "model.deleted" in cli("events", "old")
