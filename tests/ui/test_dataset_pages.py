"""The labels page (add, rename, recolour, hotkey, delete naming its use) and the dataset revision pages (make a
revision, see its subsets and items, download its Parquet file, delete its files)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from modelyard.sdk import Client
from tests.datasets.factories import image_bytes
from tests.ui.axe import assert_accessible
from tests.ui.conftest import UiServer
from tests.ui.seed_revisions import TrainedRevisions


def _annotated_project(sdk: Client, folder: Path, name: str, labels: list[str], count: int) -> list[str]:
    """A classification project whose `count` items are annotated with its labels in turn: the item ids."""
    named: list[str | dict[str, Any]] = [*labels]
    sdk.projects.create(name, "multiclass_classification", labels=named)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{name}-{index}.png"
        path.write_bytes(image_bytes(100 + index))
        paths.append(path)
    items = [item.id for item in sdk.datasets.upload(name, paths).created]
    for index, item in enumerate(items):
        sdk.datasets.annotate(name, item, labels=[labels[index % len(labels)]])
    return items


def test_labels_are_added_renamed_recoloured_given_hotkeys_and_deleted_with_their_use_shown(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    _annotated_project(ui_server.sdk, tmp_path, "labels-ui", ["cat"], 2)
    page.goto("/projects/labels-ui/labels")
    row = page.get_by_test_id("label-row").filter(has_text="cat")
    expect(row.get_by_test_id("label-usage")).to_have_text("2 items, 2 shapes")
    assert_accessible(page)

    form = page.get_by_role("form", name="Add a label")
    form.get_by_label(re.compile(r"^Name")).fill("dog")
    form.get_by_label("Hotkey", exact=True).fill("d")
    form.get_by_role("button", name="Add label").click()
    expect(page.get_by_test_id("label-row")).to_have_count(2)

    page.get_by_role("button", name="Edit cat").click()
    dialog = page.get_by_role("dialog", name="Edit label cat")
    dialog.get_by_label(re.compile(r"^Name")).fill("kitty")
    dialog.get_by_label("Colour", exact=True).fill("#123456")
    dialog.get_by_label("Hotkey", exact=True).fill("k")
    dialog.get_by_role("button", name="Save label").click()
    expect(page.get_by_test_id("label-row").first).to_contain_text("kitty")

    page.get_by_role("button", name="Delete kitty").click()
    dialog = page.get_by_role("dialog", name="Delete label kitty?")
    expect(dialog.get_by_test_id("delete-consequences")).to_contain_text("2 annotation shapes on 2 items")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("label-row")).to_have_count(1)

    labels = ui_server.sdk.projects.labels("labels-ui")
    assert [(label.name, label.hotkey) for label in labels] == [("dog", "d")]
    assert ui_server.sdk.projects.label_usage("labels-ui").annotated_items == 0


def test_a_label_edit_the_server_refuses_shows_its_problem(page: Page, ui_server: UiServer) -> None:
    ui_server.sdk.projects.create("hotkeys-ui", "detection", labels=[{"name": "a", "hotkey": "a"}, "b"])
    page.goto("/projects/hotkeys-ui/labels")
    page.get_by_role("button", name="Edit b").click()
    dialog = page.get_by_role("dialog", name="Edit label b")
    dialog.get_by_label("Hotkey", exact=True).fill("a")
    dialog.get_by_role("button", name="Save label").click()
    expect(dialog.get_by_test_id("problem")).to_contain_text("hotkey 'a' is already used by label 'a'")


def test_make_a_revision_and_see_its_subsets_and_items(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    _annotated_project(ui_server.sdk, tmp_path, "frozen-ui", ["red", "blue"], 10)
    page.goto("/projects/frozen-ui/dataset-revisions")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No dataset revision yet")
    make = page.get_by_role("button", name="New dataset revision")
    page.get_by_label("Testing %", exact=True).fill("25")  # 70 + 20 + 25: refused before anything is sent
    expect(page.get_by_role("alert")).to_have_text("The subsets add up to 115 %; they must add up to 100 %.")
    expect(make).to_be_disabled()
    page.get_by_label("Testing %", exact=True).fill("10")
    make.click()
    # The request writes the Parquet file and the images' copies: long on a machine shared with much else.
    expect(page.get_by_test_id("revision-made")).to_contain_text("Revision #1 made with 10 items", timeout=60_000)
    made = ui_server.sdk.datasets.revision("frozen-ui", 1)
    row = page.get_by_test_id("dataset-revision-row")
    for subset in ("training", "validation", "testing"):
        expect(row.get_by_test_id(f"subset-{subset}")).to_have_text(str(made.subset_counts.get(subset, 0)))
    expect(row).to_contain_text("red 5 · blue 5")

    page.get_by_test_id("revision-made").get_by_role("link", name="Open it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dataset revision #1")
    expect(page.get_by_test_id("stat-training")).to_have_text(str(made.subset_counts["training"]))
    expect(page.get_by_test_id("items-training").locator("tbody tr")).to_have_count(made.subset_counts["training"])
    page.get_by_role("tab", name=re.compile(r"^validation")).click()
    expect(page.get_by_test_id("items-validation").locator("tbody tr")).to_have_count(made.subset_counts["validation"])
    download = page.get_by_role("link", name="Download data.parquet")
    with page.expect_download() as downloading:
        download.click()
    assert Path(downloading.value.path()).read_bytes()[:4] == b"PAR1"
    assert_accessible(page)

    page.get_by_role("button", name="Delete files").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text(re.compile("files deleted"))).to_be_visible()
    assert ui_server.sdk.datasets.revision("frozen-ui", 1).files_deleted is True


def test_the_revisions_list_counts_items_and_labels_in_each_subset(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    # Twelve items, red and blue in turn; items 0-5 set to training, 6-8 to validation and 9-11 to testing
    # before the revision, which keeps subsets already given.
    items = _annotated_project(ui_server.sdk, tmp_path, "per-subset-ui", ["red", "blue"], 12)
    for subset, chosen in (("training", items[:6]), ("validation", items[6:9]), ("testing", items[9:])):
        ui_server.sdk.datasets.bulk("per-subset-ui", "move_to_subset", ids=chosen, subset=subset)
    ui_server.sdk.datasets.create_revision("per-subset-ui")
    page.goto("/projects/per-subset-ui/dataset-revisions")

    row = page.get_by_test_id("dataset-revision-row")
    expected = {"training": ("6", "red 3 · blue 3"), "validation": ("3", "red 2 · blue 1"),
                "testing": ("3", "red 1 · blue 2")}  # fmt: skip
    for subset, (count, labels) in expected.items():
        expect(row.get_by_test_id(f"subset-{subset}")).to_have_text(count)
        expect(row.get_by_test_id(f"subset-{subset}-labels")).to_have_text(labels)
    made = ui_server.sdk.datasets.revision("per-subset-ui", 1)
    assert {count.label_name: count.subsets for count in made.label_counts} == {
        "red": {"training": 3, "validation": 2, "testing": 1},
        "blue": {"training": 3, "validation": 1, "testing": 2},
    }

    page.goto("/projects/per-subset-ui/dataset-revisions/1")
    red = page.get_by_test_id("revision-label-row").filter(has_text="red")
    for subset, count in (("training", "3"), ("validation", "2"), ("testing", "1")):
        expect(red.get_by_test_id(f"label-{subset}")).to_have_text(count)
    assert_accessible(page)


def test_deleting_the_files_of_a_revision_a_model_was_trained_on_shows_the_reason_and_another_goes(
    page: Page, ui_server: UiServer, trained_revisions: TrainedRevisions, tmp_path: Path
) -> None:
    sdk, project = ui_server.sdk, trained_revisions.project
    trained = sdk.models.get(trained_revisions.first_id)
    dataset = sdk.datasets.revision(project, trained.dataset_revision_id)
    page.goto(f"/projects/{project}/dataset-revisions/{dataset.number}")
    page.get_by_role("button", name="Delete files").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog.get_by_test_id("problem")).to_contain_text(f"dataset revision {dataset.number} is needed by")
    blockers = dialog.get_by_test_id("delete-blockers").get_by_role("listitem")
    refusal = ui_server.http.delete(f"/projects/{project}/dataset/revisions/{dataset.id}/files")
    assert refusal.status_code == 409
    reasons = refusal.json()["blockers"]
    assert f"model revision {trained.number} ({trained.name}, {trained.id}) was trained on it" in reasons
    expect(blockers).to_have_text(reasons)
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Delete files")).to_be_visible()
    assert sdk.datasets.revision(project, dataset.number).files_deleted is False

    _annotated_project(sdk, tmp_path, "untrained-ui", ["red", "blue"], 4)
    sdk.datasets.create_revision("untrained-ui")
    page.goto("/projects/untrained-ui/dataset-revisions/1")
    page.get_by_role("button", name="Delete files").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text(re.compile("files deleted"))).to_be_visible()
    assert sdk.datasets.revision("untrained-ui", 1).files_deleted is True
    assert sdk.datasets.revision(project, dataset.number).files_deleted is False
