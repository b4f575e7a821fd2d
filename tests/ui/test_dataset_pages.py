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
