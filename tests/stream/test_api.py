"""The stream's configuration through the API, SDK and CLI, its refusals, and /metrics in Prometheus text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from modelyard.cli import pipeline
from modelyard.cli.state import CliState
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from modelyard.sdk.errors import ApiError
from modelyard.stream.repository import StreamRepository
from modelyard.stream.schemas import SinkMetrics, StreamMetrics
from tests.stream.conftest import ServerProcess


@pytest.fixture
def project(api: ServerProcess) -> str:
    assert api.client is not None
    api.client.projects.create("digits", "detection", labels=["cat", "dog"])
    return "digits"


def _refusal(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as refused:
        call()
    return refused.value


def test_sources_sinks_and_settings_are_stored_and_listed(api: ServerProcess, project: str, tmp_path: Path) -> None:
    client = api.client
    assert client is not None
    status = client.pipelines.set_source(project, "folder", path=tmp_path)
    assert (status.source.kind, status.source.path, status.state) == ("folder", str(tmp_path), "stopped")
    (tmp_path / "out").mkdir()
    folder = client.pipelines.add_sink(project, "folder", path=tmp_path / "out", draw=True)
    mqtt = client.pipelines.add_sink(project, "mqtt", host="127.0.0.1", port=1884)
    webhook = client.pipelines.add_sink(project, "webhook", url="http://127.0.0.1:9/hook")
    settings = client.pipelines.configure_stream(project, confidence_threshold=0.3, labels=["cat"],
                                                 region=(1, 2, 30, 40)).settings  # fmt: skip

    assert mqtt.config == {"host": "127.0.0.1", "port": 1884, "topic": "modelyard/digits/predictions"}
    assert folder.config == {"path": str(tmp_path / "out"), "draw": True}
    client.pipelines.remove_sink(project, webhook.id)
    assert [sink.id for sink in client.pipelines.sinks(project)] == [folder.id, mqtt.id]
    assert (settings.confidence_threshold, settings.labels) == (0.3, ["cat"])
    assert settings.region is not None and (settings.region.x, settings.region.height) == (1, 40)
    assert client.pipelines.stream_status(project).settings == settings


def test_refusals_name_what_to_fix(api: ServerProcess, project: str, tmp_path: Path) -> None:
    client = api.client
    assert client is not None
    no_source = _refusal(lambda: client.pipelines.start(project))
    assert (no_source.status, no_source.code) == (409, "stream_without_source")
    client.pipelines.set_source(project, "folder", path=tmp_path)
    disabled = _refusal(lambda: client.pipelines.start(project))
    assert (disabled.status, disabled.code) == (409, "pipeline_disabled")
    missing = _refusal(lambda: client.pipelines.set_source(project, "video", path=tmp_path / "nope.mp4"))
    assert missing.status == 400 and "does not exist" in missing.detail
    relative = _refusal(lambda: client.pipelines.set_source(project, "folder", path="incoming"))
    assert relative.status == 400 and "relative" in relative.detail
    unknown = _refusal(lambda: client.pipelines.configure_stream(project, labels=["cat", "horse"]))
    assert unknown.status == 400 and "'horse'" in unknown.detail
    not_http = _refusal(lambda: client.pipelines.upload_frames(project, [_png(tmp_path / "x.png")]))
    assert (not_http.status, not_http.code) == (409, "stream_not_http")
    no_camera = _refusal(lambda: client.pipelines.set_source(project, "camera"))
    assert no_camera.status == 422
    wildcard = _refusal(lambda: client.pipelines.add_sink(project, "mqtt", host="localhost", topic="a/#"))
    assert wildcard.status == 422
    assert _refusal(lambda: client.pipelines.remove_sink(project, "nope")).status == 404


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(path)
    return path


def test_metrics_are_prometheus_text_at_the_root(api: ServerProcess, project: str, tmp_path: Path) -> None:
    client = api.client
    assert client is not None
    client.pipelines.set_source(project, "folder", path=tmp_path)
    project_id = client.projects.get(project).id
    reported = StreamMetrics(
        since="2026-01-01T00:00:00Z", frames_in=12, frames_processed=10, frames_dropped=2, frames_failed=0,
        latency_ms_p50=40.0, latency_ms_p99=90.0, model_ms_p50=20.0, model_ms_p99=30.0, queue_depth=1,
        sinks=[SinkMetrics(id="s1", kind="webhook", delivered=9, failed=3, retrying=1, pending=1)],
    )  # fmt: skip
    with transaction(api.context.db.sessions) as session:
        StreamRepository(session).update(project_id, state="running", metrics=reported.model_dump(mode="json"))

    response = api.http.get("/metrics")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(response.text) for sample in family.samples}  # fmt: skip
    key = (("project", "digits"), ("project_id", project_id))

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted((*key, *labels.items()))))]

    assert value("modelyard_stream_frames_total", outcome="dropped") == 2
    assert value("modelyard_stream_frames_total", outcome="processed") == 10
    assert value("modelyard_stream_latency_seconds", quantile="0.99") == 0.09
    assert value("modelyard_stream_queue_depth") == 1
    assert value("modelyard_stream_sink_messages_total", sink="s1", kind="webhook", outcome="failed") == 3
    assert value("modelyard_stream_running") == 1
    shown = client.pipelines.stream_status(project).metrics
    assert shown is not None and (shown.frames_in, shown.frames_dropped, shown.sinks) == (12, 2, [])  # s1 is gone


def test_the_cli_sets_source_and_sinks_and_shows_them_in_status(api: ServerProcess, project: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    sdk: Client | None = api.client
    assert sdk is not None
    monkeypatch.setattr(CliState, "client", lambda self, run_jobs=False: sdk)
    cli = typer.Typer()
    cli.add_typer(pipeline.app, name="pipeline")

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, ["pipeline", *args], obj=CliState())
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "folder" in invoke("source", project, "--folder", str(tmp_path))
    added = invoke("sink", project, "--mqtt", "127.0.0.1:1884", "--topic", "cameras/digits")
    assert "mqtt 127.0.0.1:1884 cameras/digits" in added
    invoke("sink", project, "--live")
    listed = json.loads(invoke("sinks", project, "--json"))
    assert [sink["kind"] for sink in listed] == ["mqtt", "live"]
    status = json.loads(invoke("status", project, "--json"))
    assert status["enabled"] is False and status["stream"]["source"]["path"] == str(tmp_path)
    refused = CliRunner().invoke(cli, ["pipeline", "source", project, "--http", "--folder", "x"], obj=CliState())
    assert refused.exit_code != 0 and "exactly one" in refused.output
