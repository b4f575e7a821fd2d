"""The whole life of a model in the browser: create a project, train a tiny detector and watch its curves,
evaluate it, enable it in the pipeline, predict on an image and see the boxes, register it, move an alias.
The annotated images come in as a COCO zip through the import page: no step leaves the browser."""

from __future__ import annotations

import base64
import random
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.datasets.factories import write_coco, zip_folder
from tests.revisions.factories import shapes_image
from tests.ui.axe import assert_accessible
from tests.ui.conftest import UiServer
from tests.waiting import JOB_CEILING_SECONDS

PROJECT = "whole-path"
IMAGES = 12
LABELS = ("square", "circle")
# Long waits: the training job trains, exports and evaluates on whatever the machine has to spare.
JOB_MS = int(JOB_CEILING_SECONDS * 1000)
LOADING_MS = 45_000
ONE_QUICK_EPOCH = (("epochs", "1"), ("batch size", "4"), ("warmup epochs", "0"), ("early stopping patience", "0"))
DROP_FILE = """async ([name, encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  return transfer;
}"""


def _shapes_archive(folder: Path) -> tuple[Path, list[Path]]:
    """A COCO zip of annotated shapes (train and val, as a labelling tool exports them), and its images."""
    rng = random.Random(7)
    subsets: dict[str, list[tuple[str, bytes, list[tuple[float, float, float, float, int]]]]] = {"train": [], "val": []}
    for index in range(IMAGES):
        content, boxes = shapes_image(rng)
        shapes = [(box["x"], box["y"], box["width"], box["height"], LABELS.index(box["label"])) for box in boxes]
        subsets["train" if index % 4 else "val"].append((f"shape-{index}.png", content, shapes))
    source = write_coco(folder / "coco", subsets, list(LABELS), size=(64, 64))
    archive = folder / "shapes.zip"
    archive.write_bytes(zip_folder(source))
    return archive, sorted((source / "images").glob("*/shape-*.png"))


def _import_in_the_browser(page: Page, archive: Path) -> None:
    page.goto(f"/projects/{PROJECT}")
    page.get_by_role("link", name="Import & export").first.click()
    expect(page).to_have_url(f"/projects/{PROJECT}/dataset/transfer")
    page.get_by_test_id("import-archive").click()
    page.locator("input[type=file]").set_input_files(archive)
    page.get_by_role("button", name="Import", exact=True).click()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible(timeout=JOB_MS)
    expect(report.get_by_test_id("report-imported")).to_have_text(str(IMAGES))
    expect(report.get_by_test_id("report-skipped")).to_have_text("0")


def _create_project(page: Page) -> None:
    page.goto("/projects")
    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    dialog.get_by_label(re.compile(r"^Name")).fill(PROJECT)
    dialog.get_by_label("Task", exact=True).click()
    page.get_by_role("option", name="Detection").click()
    dialog.get_by_label("Label 1 name").fill("square")
    dialog.get_by_label("Label 2 name").fill("circle")
    dialog.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(f"/projects/{PROJECT}")


def _train_and_watch(page: Page) -> None:
    page.goto(f"/projects/{PROJECT}/training")
    page.get_by_role("radio", name="SSDlite 320 MobileNetV3 Large").click()
    page.locator("label", has_text="From scratch").click()
    for field, value in ONE_QUICK_EPOCH:
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(f"/projects/{PROJECT}/training/[0-9a-f]+$"))
    expect(page.get_by_test_id("epochs").get_by_role("row").nth(1)).to_contain_text("map", timeout=JOB_MS)
    expect(page.get_by_test_id("training-curves")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=JOB_MS)
    page.get_by_role("link", name="Open the trained revision").click()
    expect(page).to_have_url(re.compile(f"/projects/{PROJECT}/models/[0-9a-f]+$"))


def _evaluate_and_register(page: Page) -> None:
    expect(page.get_by_test_id("revision-curves")).to_be_visible()
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_role("dialog").get_by_role("button", name="Evaluate").click()
    expect(page.get_by_test_id("action-outcome")).to_contain_text(re.compile(r"map|Evaluation"))
    page.get_by_test_id("action-outcome").get_by_role("button", name="Dismiss").click()
    page.get_by_role("button", name="Register").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("textbox", name="Registered model")).to_have_value(PROJECT)
    dialog.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("action-outcome")).to_contain_text(f"Registered as {PROJECT} version 1.")


def _enable_and_predict(page: Page, image: Path) -> None:
    page.goto(f"/projects/{PROJECT}/pipeline")
    page.get_by_role("combobox", name="Revision").click()
    page.get_by_role("option").first.click()
    page.get_by_role("combobox", name="Variant").click()
    page.get_by_role("option", name="openvino-fp16").click()
    # One epoch from scratch scores low: a threshold near zero keeps the boxes it finds.
    page.get_by_role("textbox", name="Confidence threshold").fill("0.001")
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("pipeline-state")).to_contain_text("with openvino-fp16", timeout=LOADING_MS)
    transfer = page.evaluate_handle(DROP_FILE, [image.name, base64.b64encode(image.read_bytes()).decode()])
    page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": transfer})
    prediction = page.get_by_test_id("prediction")
    expect(prediction).to_contain_text(image.name, timeout=LOADING_MS)
    expect(prediction.get_by_test_id("overlay-box").first).to_be_attached()
    assert_accessible(page)


def _move_alias(page: Page) -> None:
    page.goto(f"/registry/{PROJECT}")
    expect(page.get_by_role("table", name="Versions").get_by_test_id("source-revision")).to_be_visible()
    page.get_by_role("textbox", name="Alias").fill("production")
    page.get_by_role("textbox", name="Version").fill("1")
    page.get_by_role("button", name="Move alias").click()
    expect(page.get_by_test_id("alias-production")).to_contain_text("version 1")


def test_a_detector_from_a_new_project_to_an_alias_in_the_browser(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    _create_project(page)
    archive, images = _shapes_archive(tmp_path)
    _import_in_the_browser(page, archive)
    _train_and_watch(page)
    revision_id = page.url.rsplit("/", 1)[1]
    _evaluate_and_register(page)
    _enable_and_predict(page, images[0])
    _move_alias(page)

    assert ui_server.sdk.pipelines.status(PROJECT).revision_id == revision_id
    version = ui_server.sdk.registry.version(f"{PROJECT}@production")
    assert (version.number, version.source_revision_id) == (1, revision_id)
    assert {e.variant for e in ui_server.sdk.models.evaluations(revision_id)} >= {"openvino-fp16"}
