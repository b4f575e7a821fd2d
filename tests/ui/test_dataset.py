"""The dataset pages: the gallery (filters, selection, bulk actions, counts), upload, import with its report, and
export of a revision downloaded as a zip."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.datasets.factories import image_bytes, truncated_jpeg, write_coco, zip_folder
from tests.ui.axe import assert_accessible
from tests.ui.conftest import UiServer
from tests.waiting import JOB_CEILING_SECONDS

GALLERY = "gallery-pets"
DOG_NAMES = [f"dog-{n}.png" for n in range(4)]
CAT_NAMES = [f"cat-{n}.png" for n in range(8)]


@pytest.fixture(scope="module")
def gallery_project(ui_server: UiServer) -> str:
    """A classification project with twelve unannotated images: four dogs and eight cats by name."""
    ui_server.sdk.projects.create(GALLERY, "multiclass_classification", labels=["cat", "dog"])
    files = [("files", (name, image_bytes(100 + n))) for n, name in enumerate(DOG_NAMES + CAT_NAMES)]
    assert ui_server.http.post(f"/projects/{GALLERY}/dataset/items", files=files).status_code == 201
    return GALLERY


def test_gallery_filters_select_a_range_and_assign_a_label_changing_the_counts(
    page: Page, ui_server: UiServer, gallery_project: str
) -> None:
    page.goto(f"/projects/{gallery_project}/dataset")
    expect(page.get_by_test_id("count-total")).to_have_text("12")
    expect(page.get_by_test_id("gallery-item")).to_have_count(12)
    assert_accessible(page)

    page.get_by_test_id("filter-name").fill("DOG")
    expect(page).to_have_url(re.compile(r"name=DOG"))
    expect(page.get_by_test_id("matching-count")).to_have_text("4 items match")
    tiles = page.get_by_test_id("gallery-item")
    expect(tiles).to_have_count(4)
    tiles.first.click()
    tiles.last.click(modifiers=["Shift"])
    expect(page.get_by_test_id("selected-count")).to_have_text("4 items selected")
    page.get_by_test_id("bulk-label").click()
    page.get_by_role("option", name="dog", exact=True).click()
    page.get_by_role("button", name="Assign label").click()
    expect(page.get_by_test_id("bulk-outcome")).to_have_text("4 items labelled (4 selected).")
    expect(page.get_by_test_id("count-label-dog")).to_have_text("4")
    expect(page.get_by_test_id("count-annotated")).to_have_text("4")
    assert {label.label_name: label.items for label in ui_server.sdk.datasets.counts(gallery_project).labels} == {
        "cat": 0, "dog": 4
    }  # fmt: skip

    page.goto(f"/projects/{gallery_project}/dataset?annotated=no&sort=-name")
    expect(page.get_by_test_id("gallery-item")).to_have_count(8)
    expect(page.get_by_test_id("gallery-item").first).to_have_attribute("data-name", "cat-7.png")
    page.get_by_role("button", name=re.compile(r"^Select all 8 matching")).click()
    page.get_by_test_id("gallery-item").first.press("Space")  # leaves cat-7 out
    expect(page.get_by_test_id("selected-count")).to_have_text("7 items selected")
    page.get_by_test_id("bulk-subset").click()
    page.get_by_role("option", name="validation").click()
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_test_id("count-subset-validation")).to_have_text("7")
    assert ui_server.sdk.datasets.item(gallery_project, ui_server.sdk.datasets.items(
        gallery_project, name="cat-7").items[0].id).subset == "unassigned"  # fmt: skip
    assert_accessible(page)


def test_upload_of_a_folder_lists_the_duplicate_and_the_corrupt_file(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    ui_server.sdk.projects.create("upload-pets", "multiclass_classification", labels=["cat"])
    folder = tmp_path / "holiday"
    folder.mkdir()
    (folder / "a.png").write_bytes(image_bytes(7))
    (folder / "b.png").write_bytes(image_bytes(8))
    (folder / "b-again.png").write_bytes(image_bytes(8))
    (folder / "broken.jpg").write_bytes(truncated_jpeg())
    page.goto("/projects/upload-pets/dataset/upload")
    page.get_by_test_id("folder-input").set_input_files(folder)

    expect(page.get_by_test_id("upload-summary")).to_contain_text("Done. 2 images stored")
    rejected = page.get_by_test_id("rejected-files")
    expect(rejected).to_contain_text("broken.jpg")
    expect(rejected.get_by_role("row")).to_have_count(2)
    duplicates = page.get_by_test_id("duplicate-files")
    expect(duplicates.get_by_role("row")).to_have_count(2)
    expect(duplicates).to_contain_text(re.compile(r"b(-again)?\.png"))
    expect(page.locator("[data-testid=upload-row][data-status=stored]")).to_have_count(2)
    assert_accessible(page)
    assert sorted(item.name for item in ui_server.sdk.datasets.items("upload-pets").items) in (
        ["a.png", "b.png"], ["a.png", "b-again.png"]
    )  # fmt: skip


def test_import_of_a_coco_zip_shows_its_report(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    ui_server.sdk.projects.create("import-shapes", "detection", labels=["square"])
    source = write_coco(
        tmp_path / "coco",
        {"train": [("one.png", image_bytes(21), [(1, 1, 8, 8, 0)]), ("two.png", image_bytes(22), [(2, 2, 9, 9, 1)])],
         "val": [("three.png", image_bytes(23), [(0, 0, 5, 5, 1)])]},
        ["square", "circle"],
    )  # fmt: skip
    archive = tmp_path / "shapes.zip"
    archive.write_bytes(zip_folder(source))

    page.goto("/projects/import-shapes/dataset/transfer")
    page.get_by_test_id("import-archive").click()
    page.locator("input[type=file]").set_input_files(archive)
    page.get_by_role("button", name="Import", exact=True).click()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible(timeout=JOB_CEILING_SECONDS * 1000)
    expect(page).to_have_url(re.compile(r"import="))
    expect(report.get_by_test_id("report-imported")).to_have_text("3")
    expect(report.get_by_test_id("report-skipped")).to_have_text("0")
    expect(report.get_by_test_id("report-label-names")).to_have_text("New labels: circle")
    expect(report.get_by_test_id("report-subsets")).to_contain_text("validation 1")
    assert_accessible(page)
    assert ui_server.sdk.datasets.counts("import-shapes").total == 3


def test_export_a_revision_as_coco_and_download_its_zip(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    sdk = ui_server.sdk
    sdk.projects.create("export-shapes", "detection", labels=["square", "circle"])
    paths = []
    for index in range(4):
        paths.append(tmp_path / f"shape-{index}.png")
        paths[-1].write_bytes(image_bytes(40 + index, (48, 32)))
    items = [item.id for item in sdk.datasets.upload("export-shapes", paths[:3]).created]
    shapes = [[("square", 2, 3, 10, 8)], [("circle", 20, 4, 12, 12), ("square", 1, 1, 6, 6)], [("circle", 5, 5, 9, 9)]]
    for item, boxes in zip(items, shapes, strict=True):
        sdk.datasets.annotate(
            "export-shapes",
            item,
            boxes=[
                {"label": label, "x": x, "y": y, "width": width, "height": height}
                for label, x, y, width, height in boxes
            ],
        )
    sdk.datasets.create_revision("export-shapes")
    sdk.datasets.upload("export-shapes", paths[3:])  # in the current data, not in revision 1

    page.goto("/projects/export-shapes/dataset/transfer")
    page.get_by_test_id("export-revision").click()
    page.get_by_role("option", name="Revision 1 (3 items)").click()
    expect(page.get_by_test_id("export-format")).to_have_value("COCO")
    page.get_by_role("button", name="Export", exact=True).click()
    download = page.get_by_test_id("export-download")
    expect(download).to_be_visible(timeout=JOB_CEILING_SECONDS * 1000)
    expect(page).to_have_url(re.compile(r"export="))
    expect(page.get_by_test_id("followed-job")).to_contain_text("3 items")
    assert_accessible(page)
    with page.expect_download() as downloading:
        download.click()
    archive = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(archive)

    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        documents = [json.loads(bundle.read(name)) for name in names if re.fullmatch(r"annotations/[^/]+\.json", name)]
    assert sorted(Path(name).name for name in names if name.startswith("images/") and name.endswith(".png")) == [
        "shape-0.png", "shape-1.png", "shape-2.png"]  # fmt: skip
    assert sum(len(document["images"]) for document in documents) == 3
    categories = {category["id"]: category["name"] for document in documents for category in document["categories"]}
    assert sorted(categories.values()) == ["circle", "square"]
    exported = sorted((categories[annotation["category_id"]], *annotation["bbox"])
                      for document in documents for annotation in document["annotations"])  # fmt: skip
    assert exported == sorted(box for boxes in shapes for box in boxes)
