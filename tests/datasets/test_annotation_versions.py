"""The editor's API: annotation versions (If-Match, 409 on a stale save), an item's neighbours, label usage."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from modelyard.cli.main import app, main
from modelyard.config import Settings
from modelyard.sdk import ApiError, Client
from tests.datasets.factories import image_bytes


@pytest.fixture
def items(client: Client) -> list[str]:
    """Project "boxes" (detection, labels cat and dog) with three 40x30 images, in upload order."""
    client.projects.create("boxes", "detection", labels=["cat", "dog"])
    created = []
    for seed in range(3):
        response = client.request(
            "POST", "/projects/boxes/dataset/items", files=[("files", (f"{seed}.png", image_bytes(seed, (40, 30))))]
        )
        created.append(response.json()["created"][0]["id"])
    return created


BOX = {"x": 1, "y": 2, "width": 10, "height": 5, "label": "cat"}


def test_each_save_raises_the_version_and_the_etag_says_it(client: Client, items: list[str]) -> None:
    assert client.datasets.item("boxes", items[0]).annotation_version == 0
    first = client.datasets.annotate("boxes", items[0], boxes=[BOX], if_version=0)
    second = client.datasets.annotate("boxes", items[0], boxes=[], if_version=1)
    assert (first.annotation_version, second.annotation_version) == (1, 2)
    response = client.request("GET", f"/projects/boxes/dataset/items/{items[0]}")
    assert response.headers["etag"] == '"2"'
    assert client.request("GET", f"/projects/boxes/dataset/items/{items[0]}/annotation").headers["etag"] == '"2"'


def test_a_save_naming_an_older_version_is_a_409_and_changes_nothing(client: Client, items: list[str]) -> None:
    client.datasets.annotate("boxes", items[0], boxes=[BOX], if_version=0)  # someone else saved first
    with pytest.raises(ApiError) as refused:
        client.datasets.annotate("boxes", items[0], boxes=[{**BOX, "label": "dog"}], if_version=0)
    assert refused.value.status == 409
    assert refused.value.code == "annotation_changed"
    assert refused.value.problem["current_version"] == 1
    stored = client.datasets.item("boxes", items[0])
    assert (stored.annotation_version, [box.label_name for box in stored.annotation.boxes]) == (1, ["cat"])


def test_deleting_an_annotation_checks_the_version_too(client: Client, items: list[str]) -> None:
    client.datasets.annotate("boxes", items[0], boxes=[BOX])
    with pytest.raises(ApiError) as refused:
        client.datasets.delete_annotation("boxes", items[0], if_version=0)
    assert refused.value.status == 409
    cleared = client.datasets.delete_annotation("boxes", items[0], if_version=1)
    assert (cleared.annotated, cleared.annotation_version) == (False, 2)


def test_a_save_without_if_match_always_passes(client: Client, items: list[str]) -> None:
    client.datasets.annotate("boxes", items[0], boxes=[BOX])
    assert client.datasets.annotate("boxes", items[0], boxes=[BOX]).annotation_version == 2


def test_removing_a_label_by_force_raises_the_version_of_the_items_that_used_it(
    client: Client, items: list[str]
) -> None:
    client.datasets.annotate("boxes", items[0], boxes=[BOX, {**BOX, "label": "dog"}])
    client.projects.delete_label("boxes", "cat", force=True)
    assert client.datasets.item("boxes", items[0]).annotation_version == 2
    assert client.datasets.item("boxes", items[1]).annotation_version == 0


def test_an_if_match_that_is_not_a_version_is_a_400(client: Client, items: list[str]) -> None:
    response = client.request(
        "PUT", f"/projects/boxes/dataset/items/{items[0]}/annotation", json={"boxes": []},
        headers={"if-match": '"abc"'}, allow_statuses=(400,),
    )  # fmt: skip
    assert response.status_code == 400
    assert "If-Match" in response.json()["detail"]


def test_neighbours_follow_upload_order_within_the_filter(client: Client, items: list[str]) -> None:
    middle = client.datasets.neighbours("boxes", items[1])
    assert (middle.previous, middle.next, middle.position, middle.total) == (items[0], items[2], 2, 3)
    client.datasets.annotate("boxes", items[1], boxes=[BOX])
    unannotated = client.datasets.neighbours("boxes", items[0], annotated=False)
    assert (unannotated.previous, unannotated.next, unannotated.position, unannotated.total) == (
        None, items[2], 1, 2,
    )  # fmt: skip
    left_out = client.datasets.neighbours("boxes", items[1], annotated=False)
    assert (left_out.previous, left_out.next, left_out.position) == (items[0], items[2], None)


def test_label_usage_counts_items_and_shapes_per_label(client: Client, items: list[str]) -> None:
    client.datasets.annotate("boxes", items[0], boxes=[BOX, BOX, {**BOX, "label": "dog"}])
    client.datasets.annotate("boxes", items[1], boxes=[BOX])
    usage = client.projects.label_usage("boxes")
    assert (usage.items, usage.annotated_items) == (3, 2)
    assert [(label.label_name, label.items, label.shapes) for label in usage.labels] == [("cat", 2, 3), ("dog", 1, 1)]


def test_the_cli_saves_with_a_version_check_and_shows_usage_and_neighbours(
    client: Client,
    items: list[str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    saved = runner.invoke(app, ["annotate", "boxes", items[0], "--box", "1,2,10,5,cat", "--if-version", "0"])
    assert saved.exit_code == 0, saved.output
    assert "annotation version 1" in saved.output
    with pytest.raises(SystemExit) as stale:
        main(["annotate", "boxes", items[0], "--box", "1,2,10,5,dog", "--if-version", "0"])
    assert stale.value.code == 1
    assert "changed since version 0" in capsys.readouterr().err
    usage = json.loads(runner.invoke(app, ["label", "usage", "boxes", "--json"]).output)
    assert (usage["annotated_items"], usage["labels"][0]["shapes"]) == (1, 1)
    around = json.loads(runner.invoke(app, ["dataset", "neighbours", "boxes", items[1], "--json"]).output)
    assert (around["previous"], around["next"], around["position"]) == (items[0], items[2], 2)


def test_a_bulk_label_assignment_raises_the_version_of_each_item_it_changes(client: Client) -> None:
    client.projects.create("bulk-versions", "multiclass_classification", labels=["cat", "dog"])
    ids = []
    for seed in range(2):
        response = client.request(
            "POST", "/projects/bulk-versions/dataset/items", files=[("files", (f"{seed}.png", image_bytes(seed)))]
        )
        ids.append(response.json()["created"][0]["id"])
    client.datasets.bulk("bulk-versions", "assign_label", ids=[ids[0]], label="dog")
    assert [client.datasets.item("bulk-versions", item).annotation_version for item in ids] == [1, 0]
    with pytest.raises(ApiError) as refused:  # an editor opened before the assignment
        client.datasets.annotate("bulk-versions", ids[0], labels=["cat"], if_version=0)
    assert refused.value.code == "annotation_changed"
