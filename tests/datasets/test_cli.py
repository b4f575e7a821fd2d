"""`modelyard dataset ...` and `modelyard annotate ...`, run as a user would (local data directory)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelyard.cli.main import app
from modelyard.config import Settings
from tests.datasets.factories import image_bytes

HEAVY = ("torch", "torchvision", "openvino", "nncf", "datumaro", "pyarrow", "sklearn")


def test_help_imports_no_heavy_library() -> None:
    code = "import sys; from modelyard.cli.main import app; app(['--help'], standalone_mode=False); " \
           f"print([m for m in {HEAVY!r} if m in sys.modules])"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().splitlines()[-1] == "[]"


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MODELYARD_LOG_LEVEL", "warning")
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def test_upload_annotate_revise_and_export_from_the_command_line(run, tmp_path: Path) -> None:  # noqa: ANN001
    run("project", "create", "cars", "--task", "detection", "--label", "car", "--label", "bus")
    for seed in range(4):
        (tmp_path / f"{seed}.png").write_bytes(image_bytes(seed, (40, 30)))
    output = run("dataset", "upload", "cars", *(str(tmp_path / f"{seed}.png") for seed in range(4)))
    assert "stored 4, duplicates 0, rejected 0" in output

    items = json.loads(run("dataset", "items", "cars", "--json"))
    assert sorted(item["name"] for item in items) == ["0.png", "1.png", "2.png", "3.png"]
    for item in items:
        run("annotate", "cars", item["id"], "--box", "1,2,10,8,car", "--box", "0,0,40,30,bus")
    annotated = json.loads(run("dataset", "items", "cars", "--annotated", "--label", "bus", "--json"))
    assert len(annotated) == 4 and annotated[0]["annotation"]["boxes"][1]["label_name"] == "bus"

    revision = json.loads(run("dataset", "revision", "create", "cars", "--json"))
    assert revision["number"] == 1 and revision["subset_counts"] == {"training": 2, "validation": 1, "testing": 1}
    listed = json.loads(run("dataset", "revisions", "cars", "--json"))
    assert [r["id"] for r in listed] == [revision["id"]]
    testing = json.loads(run("dataset", "items", "cars", "--subset", "testing", "--json"))
    assert len(testing) == 1

    out = tmp_path / "cars.zip"
    run("dataset", "export", "cars", "--format", "coco", "--revision", "1", "-o", str(out))
    with zipfile.ZipFile(out) as bundle:
        names = bundle.namelist()
    assert "annotations/instances_train.json" in names and "annotations/instances_test.json" in names
