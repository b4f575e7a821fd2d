"""`modelyard registry ...` as a new user types it (Determined and Quadra walkthroughs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from modelyard.cli.main import main
from modelyard.config import Settings


def test_determined_walkthrough(cli, tmp_path: Path) -> None:  # noqa: ANN001
    cli("create", "mnist_cnn", "--description", "A CNN for MNIST digits", "--metadata",
        '{"dataset": "mnist", "training": {"epochs": 5, "batch": 64}}', "--tag", "team=vision")  # fmt: skip
    cli("update", "mnist_cnn", "--add-metadata", '{"training": {"epochs": 10}, "owner": "ana"}')
    model = json.loads(cli("update", "mnist_cnn", "--remove-metadata", "dataset", "--json"))
    assert model["metadata"] == {"training": {"epochs": 10}, "owner": "ana"}

    weights = tmp_path / "model.pt"
    weights.write_bytes(b"fake weights")
    first = json.loads(cli("register", "mnist_cnn", "--framework", "pytorch", "--label", "0=zero", "--label",
                           "1=one", "--metric", "accuracy=0.97", "--file", str(weights), "--json"))  # fmt: skip
    second = json.loads(cli("register", "mnist_cnn", "--framework", "pytorch", "--metric", "accuracy=0.98",
                            "--param", "lr=0.01", "--name", "tuned", "--json"))  # fmt: skip
    assert (first["number"], second["number"]) == (1, 2)
    assert first["files"][0]["name"] == "model.pt" and second["parameters"] == {"lr": 0.01}

    described = json.loads(cli("describe", "mnist_cnn", "--json"))
    assert described["model"]["num_versions"] == 2 and described["latest_version"]["name"] == "tuned"
    assert "mnist_cnn/2 (tuned)" in cli("describe", "mnist_cnn")

    versions = json.loads(cli("versions", "mnist_cnn", "--json"))
    assert [v["number"] for v in versions] == [2, 1]
    assert "tuned" in cli("versions", "mnist_cnn")

    cli("create", "another", "--description", "zzz")
    by_versions = json.loads(cli("list", "--sort-by", "num_versions", "--order-by", "desc", "--json"))
    assert [m["name"] for m in by_versions] == ["mnist_cnn", "another"]
    by_name = json.loads(cli("list", "--sort-by", "name", "--order-by", "asc", "--json"))
    assert [m["name"] for m in by_name] == ["another", "mnist_cnn"]
    assert "mnist_cnn" in cli("list", "--tag", "team:vision")

    edited = json.loads(cli("version", "mnist_cnn/2", "--label", "2=two", "--json"))
    assert edited["label_map"] == {"2": "two"}
    assert json.loads(cli("version", "mnist_cnn/latest", "--json"))["number"] == 2

    archived = json.loads(cli("archive", "another", "--json"))
    assert archived["archived"] is True
    assert json.loads(cli("archive", "another", "--undo", "--json"))["archived"] is False
    cli("delete", "another", "--yes")
    assert [m["name"] for m in json.loads(cli("list", "--json"))] == ["mnist_cnn"]


def test_quadra_walkthrough_with_files_history_transfer_and_copy(cli, tmp_path: Path) -> None:  # noqa: ANN001
    weights = tmp_path / "model.xml"
    weights.write_text("<net/>")
    cli("register", "inspector", "--create-model", "--framework", "openvino", "--label", "0=ok", "--file",
        str(weights))  # fmt: skip
    cli("stage", "inspector/1", "staging", "-m", "candidate")
    cli("stage", "inspector/1", "production", "-m", "approved")
    cli("alias", "inspector", "production", "1", "--expect-unset")
    before_move = json.loads(cli("events", "inspector", "--json"))[-1]["at"]

    cli("register", "inspector", "--framework", "openvino", "--label", "0=ok")
    moved = json.loads(cli("stage", "inspector/2", "production", "--archive-existing", "-m", "better", "--json"))
    assert moved["stage"] == "production"
    cli("alias", "inspector", "production", "2", "--expected", "1")

    holders = json.loads(cli("stage", "inspector", "production", "--holders", "--at", before_move, "--json"))
    assert holders["versions"] == [1]
    assert json.loads(cli("alias", "inspector", "production", "--at", before_move, "--json"))["version"] == 1
    assert json.loads(cli("alias", "inspector", "--json")) == {"production": 2}
    actions = [e["action"] for e in json.loads(cli("events", "inspector", "--json"))]
    assert actions.count("version.stage_changed") == 4 and actions.count("alias.set") == 2

    files = json.loads(cli("files", "inspector/1", "--json"))
    assert [(f["name"], f["size"], f["category"]) for f in files] == [("model.xml", 6, "small")]
    out = tmp_path / "out"
    cli("download", "inspector@production", "--output", str(out))
    assert not out.exists() or list(out.iterdir()) == []  # version 2 has no files
    cli("download", "inspector/1", "--output", str(out))
    assert (out / "model.xml").read_text() == "<net/>"

    copied = json.loads(cli("copy", "inspector/1", "archive-bin", "--create-model", "--json"))
    transferred = json.loads(cli("transfer", "inspector/2", "archive-bin", "--json"))
    assert (copied["number"], transferred["number"]) == (1, 2)
    assert json.loads(cli("version", "archive-bin/1", "--json"))["files"][0]["name"] == "model.xml"
    cli("delete", "inspector/1", "--yes")
    assert json.loads(cli("versions", "inspector", "--json")) == []


def test_holders_lists_aliases_and_stages_now_and_at_a_time(cli) -> None:  # noqa: ANN001
    cli("register", "held", "--create-model")
    cli("alias", "held", "production", "1")
    cli("stage", "held/1", "staging")
    found = json.loads(cli("holders", "held", "--json"))
    assert (found["aliases"], found["stages"]) == ({"production": 1}, {"staging": [1]})
    assert json.loads(cli("holders", "held", "--at", "2020-01-01T00:00:00", "--json"))["aliases"] == {}
    assert "@production" in cli("holders", "held")



def test_errors_are_one_red_line_and_exit_code_1(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("MODELYARD_SERVER", raising=False)
    monkeypatch.setattr(sys, "argv", ["modelyard", "--data-dir", str(settings.data_dir), "registry", "best",
                                      "nothing", "--project", "nope", "--metric", "f1"])  # fmt: skip

    with pytest.raises(SystemExit) as exit_info:
        main()

    assert exit_info.value.code == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: project 'nope' does not exist")
    assert len(error.splitlines()) == 1
