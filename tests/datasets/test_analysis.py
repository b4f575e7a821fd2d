"""A dataset revision's analysis: computed from its data.parquet when it is made, read through the API, the SDK
and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from modelyard.cli.main import app
from modelyard.config import Settings
from modelyard.sdk import ApiError, Client
from tests.databases import on_one_database
from tests.datasets.factories import image_bytes

# Images are 100 x 50 px (area 5,000); relative side = sqrt(box area / 5,000).
BOXES = [
    [{"x": 0, "y": 0, "width": 5, "height": 5, "label": "car"},       # 0.071: small
     {"x": 10, "y": 10, "width": 50, "height": 25, "label": "bus"}],  # 0.5: large
    [{"x": 0, "y": 0, "width": 20, "height": 10, "label": "car"}],    # 0.2: medium
    [{"x": 5, "y": 5, "width": 10, "height": 10, "label": "car"}],    # 0.141: medium
]  # fmt: skip


def _detection_project(client: Client) -> str:
    client.projects.create("roads", "detection", labels=["car", "bus", "bike"])
    files = [("files", (f"{seed}.png", image_bytes(seed, (100, 50)))) for seed in range(len(BOXES))]
    created = client.request("POST", "/projects/roads/dataset/items", files=files).json()["created"]
    for item, boxes in zip(sorted(created, key=lambda item: item["name"]), BOXES, strict=True):
        client.datasets.annotate("roads", item["id"], boxes=boxes)
    return "roads"


def test_detection_revision_is_analysed_when_made_and_shown_by_api_sdk_and_cli(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _detection_project(client)
    client.datasets.create_revision(project)
    analysis = client.datasets.analysis(project)
    assert (analysis.task, analysis.items, sum(analysis.subsets.values())) == ("detection", 3, 3)
    assert (analysis.image_width.median, analysis.image_height.maximum) == (100, 50)
    assert analysis.objects_per_image is not None
    assert (analysis.objects_per_image.minimum, analysis.objects_per_image.maximum) == (1, 2)
    assert analysis.objects_per_image.mean == pytest.approx(4 / 3, abs=1e-4)
    assert analysis.object_sizes is not None
    assert (analysis.object_sizes.small, analysis.object_sizes.medium, analysis.object_sizes.large) == (1, 2, 1)
    assert analysis.object_sizes.median_relative_side == pytest.approx((0.2 + 0.02**0.5) / 2, abs=1e-4)
    assert [(label.label_name, label.items, label.shapes) for label in analysis.labels] == [
        ("car", 3, 3), ("bus", 1, 1), ("bike", 0, 0)]  # fmt: skip
    assert (analysis.imbalance_ratio, analysis.imbalanced, analysis.unused_labels) == (3.0, True, ["bike"])
    assert analysis.annotation_density == pytest.approx((0.255 + 0.04 + 0.02) / 3, abs=1e-4)
    raw = client.request("GET", f"/projects/{project}/dataset/revisions/latest/analysis").json()
    assert raw == analysis.model_dump(mode="json")
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    as_json = runner.invoke(app, ["dataset", "stats", project, "--json"], catch_exceptions=False)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == client.datasets.analysis(project).model_dump(mode="json")
    shown = runner.invoke(app, ["dataset", "stats", project, "--revision", "1"], catch_exceptions=False)
    assert "object sizes (small/medium/large)" in shown.output and "1 / 2 / 1" in shown.output
    assert "3 (imbalanced)" in shown.output and "bike" in shown.output


@on_one_database("postgresql")
def test_classification_analysis_counts_labels_without_object_sizes(client: Client) -> None:
    client.projects.create("pets", "multiclass_classification", labels=["cat", "dog"])
    files = [("files", (f"{seed}.png", image_bytes(seed, (40, 30)))) for seed in range(8)]
    created = client.request("POST", "/projects/pets/dataset/items", files=files).json()["created"]
    for index, item in enumerate(created):
        client.datasets.annotate("pets", item["id"], labels=["cat" if index < 6 else "dog"])
    revision = client.datasets.create_revision("pets")
    analysis = client.datasets.analysis("pets", revision.number)
    assert (analysis.object_sizes, analysis.objects_per_image, analysis.annotation_density) == (None, None, None)
    assert [(label.label_name, label.shapes, label.share) for label in analysis.labels] == [
        ("cat", 6, 0.75), ("dog", 2, 0.25)]  # fmt: skip
    assert (analysis.imbalance_ratio, analysis.imbalanced) == (3.0, True)
    assert (analysis.image_width.mean, analysis.image_height.mean) == (40, 30)


@on_one_database("sqlite")
def test_stats_without_a_revision_says_what_to_do(client: Client) -> None:
    client.projects.create("empty", "detection", labels=["car"])
    with pytest.raises(ApiError) as raised:
        client.datasets.analysis("empty")
    assert raised.value.status == 404 and "modelyard dataset revisions" in raised.value.detail
