"""`modelyard pipeline ...` and `modelyard deploy`: thin over the SDK, JSON for scripts, a table for people."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from modelyard.cli import pipeline
from modelyard.cli.state import CliState
from modelyard.sdk import Client
from tests.pipelines.factories import ServedModel


@pytest.fixture
def cli(app_client: Client, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The pipeline commands plus `deploy`, talking to the test app."""
    monkeypatch.setattr(CliState, "client", lambda self, run_jobs=False: app_client)
    app = typer.Typer()
    app.add_typer(pipeline.app, name="pipeline")
    app.command("deploy")(pipeline.deploy)
    return app


def _invoke(cli: typer.Typer, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), obj=CliState())
    assert result.exit_code == 0, result.output
    return result.stdout


def test_enable_predict_status_and_deploy_from_the_command_line(cli: typer.Typer, served: ServedModel,
                                                                tmp_path: Path) -> None:  # fmt: skip
    enabled = json.loads(_invoke(cli, "pipeline", "enable", served.project, served.revision_id,
                                 "--variant", "openvino-fp16", "--threshold", "0.4", "--json"))  # fmt: skip
    assert (enabled["variant"], enabled["confidence_threshold"]) == ("openvino-fp16", 0.4)

    predicted = json.loads(_invoke(cli, "pipeline", "predict", served.project, *map(str, served.images[:2]),
                                   "--json"))  # fmt: skip
    assert [p["file"] for p in predicted["predictions"]] == [image.name for image in served.images[:2]]
    table = _invoke(cli, "pipeline", "predict", served.project, str(served.images[0]))
    assert served.images[0].name in table and predicted["predictions"][0]["labels"][0]["name"] in table

    status = _invoke(cli, "pipeline", "status", served.project)
    assert "openvino-fp16" in status and "3 images" in status

    _invoke(cli, "deploy", served.revision_id, "-o", str(tmp_path / "model.zip"))
    assert "predict.py" in zipfile.ZipFile(tmp_path / "model.zip").namelist()

    assert "disabled" in _invoke(cli, "pipeline", "disable", served.project)
    assert json.loads(_invoke(cli, "pipeline", "status", served.project, "--json"))["enabled"] is False
