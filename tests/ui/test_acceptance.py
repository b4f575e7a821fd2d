"""Acceptance, as a new user tries it: a detection project made, a folder of images uploaded, every image
labelled with the mouse, a dataset revision made and a model trained from it, with no step outside the browser;
the annotations the API then stores are those drawn, box for box, within a pixel."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.ui.canvas import drag, to_screen, within_a_pixel
from tests.ui.conftest import UiServer
from tests.waiting import JOB_CEILING_SECONDS

PROJECT = "street-signs"
SIZE = (96, 72)
LABELS = {"red": "1", "blue": "2"}  # the hotkeys the new-project dialog offers to the first two labels
COLOURS = {"red": (200, 40, 40), "blue": (40, 60, 200)}
Box = tuple[str, int, int, int, int]  # label, x, y, width, height in the image's pixels
SCENES: dict[str, list[Box]] = {
    "sign-0.png": [("red", 8, 10, 30, 24), ("blue", 52, 36, 34, 26)],
    "sign-1.png": [("blue", 12, 8, 40, 30)],
    "sign-2.png": [("red", 50, 12, 36, 40)],
    "sign-3.png": [("red", 6, 40, 28, 24), ("blue", 44, 6, 30, 22)],
    "sign-4.png": [("blue", 30, 30, 50, 34)],
    "sign-5.png": [("red", 20, 14, 44, 44)],
    "sign-6.png": [("red", 60, 6, 28, 28), ("blue", 8, 44, 40, 22)],
}
SPLIT = (("Training %", "60"), ("Validation %", "20"), ("Testing %", "20"))
ONE_QUICK_EPOCH = (("epochs", "1"), ("batch size", "4"), ("warmup epochs", "0"), ("early stopping patience", "0"))
JOB_MS = int(JOB_CEILING_SECONDS * 1000)
# A request that writes files (a revision's Parquet and images) on a machine shared with much else.
SLOW_REQUEST_MS = 60_000


def _photo_folder(folder: Path) -> Path:
    """A folder of the scenes as PNG files: coloured rectangles on a plain background."""
    folder.mkdir()
    for index, (name, boxes) in enumerate(SCENES.items()):
        image = Image.new("RGB", SIZE, (220 - 8 * index, 215, 200 + 5 * index))
        pen = ImageDraw.Draw(image)
        for label, x, y, width, height in boxes:
            pen.rectangle((x, y, x + width - 1, y + height - 1), fill=COLOURS[label])
        image.save(folder / name)
    return folder


def _free_spot(boxes: list[Box], size: int = 12) -> tuple[int, int]:
    """The top-left corner of a `size` square of the image that no box of the scene touches."""
    for y in range(2, SIZE[1] - size - 2, 2):
        for x in range(2, SIZE[0] - size - 2, 2):
            if all(x + size + 2 < bx or bx + bw + 2 < x or y + size + 2 < by or by + bh + 2 < y
                   for _, bx, by, bw, bh in boxes):  # fmt: skip
                return x, y
    raise AssertionError("no free spot in the scene")


def _create_project(page: Page) -> None:
    page.goto("/projects")
    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    dialog.get_by_label(re.compile(r"^Name")).fill(PROJECT)
    dialog.get_by_label("Task", exact=True).click()
    page.get_by_role("option", name="Detection").click()
    for index, (label, hotkey) in enumerate(LABELS.items(), start=1):
        dialog.get_by_label(f"Label {index} name").fill(label)
        expect(dialog.get_by_label(f"Label {index} hotkey")).to_have_value(hotkey)
    dialog.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(f"/projects/{PROJECT}")


def _upload(page: Page, folder: Path) -> None:
    page.get_by_role("link", name="Upload", exact=True).click()
    expect(page).to_have_url(f"/projects/{PROJECT}/dataset/upload")
    page.get_by_test_id("folder-input").set_input_files(folder)
    expect(page.get_by_test_id("upload-summary")).to_contain_text(f"Done. {len(SCENES)} images stored")
    expect(page.locator("[data-testid=upload-row][data-status=stored]")).to_have_count(len(SCENES))


def _choose_label(page: Page, label: str, by_hotkey: bool) -> None:
    """The label of the next box: by its hotkey or its button, with no box selected (else that box is relabelled)."""
    page.keyboard.press("Escape")
    if by_hotkey:
        page.keyboard.press(LABELS[label])
    else:
        page.get_by_role("button", name=re.compile(f"^{label} {LABELS[label]}$")).click()  # its name and hotkey


def _draw(page: Page, box: Box) -> None:
    _, x, y, width, height = box
    drag(page, (x, y), (x + width, y + height))


def _draw_edited(page: Page, boxes: list[Box]) -> None:
    """The first item: the first box drawn small and off its place, then moved and resized onto it; the second
    drawn with the other label and relabelled by its hotkey; a stray box drawn, selected with a click and deleted."""
    first, *others = boxes
    label, x, y, width, height = first
    _choose_label(page, label, by_hotkey=True)
    drag(page, (x + 4, y + 3), (x + width - 2, y + height - 2))  # 6 x 5 pixels short, 4 right and 3 down
    page.keyboard.press("v")
    drag(page, (x + width / 2, y + height / 2), (x + width / 2 - 4, y + height / 2 - 3))  # moved onto the corner
    drag(page, (x + width - 6, y + height - 5), (x + width, y + height))  # its bottom-right corner pulled out
    page.keyboard.press("b")
    for box in others:
        other = next(name for name in LABELS if name != box[0])
        _choose_label(page, other, by_hotkey=False)
        _draw(page, box)
        page.keyboard.press(LABELS[box[0]])  # the new box is selected: its label's key relabels it
    spot_x, spot_y = _free_spot(boxes)
    drag(page, (spot_x, spot_y), (spot_x + 12, spot_y + 12))
    expect(page.get_by_test_id("box")).to_have_count(len(boxes) + 1)
    page.keyboard.press("Escape")
    page.keyboard.press("v")
    page.mouse.click(*to_screen(page, spot_x + 6, spot_y + 6))
    page.keyboard.press("Delete")
    page.keyboard.press("b")


def _annotate_every_image(page: Page) -> list[str]:
    """Each image of the project in the editor's order, its scene's boxes drawn; the names in that order."""
    page.get_by_role("link", name="Annotate", exact=True).click()
    heading = page.get_by_role("heading", level=1)
    boxes = page.get_by_test_id("box")
    visited: list[str] = []
    for step in range(len(SCENES)):
        expect(heading).to_have_text(re.compile(r"^Annotate sign-\d\.png$"))
        if visited:
            expect(heading).not_to_have_text(f"Annotate {visited[-1]}")
        name = heading.inner_text().removeprefix("Annotate ")
        visited.append(name)
        expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 0")
        scene = SCENES[name]
        if step == 0:
            _draw_edited(page, scene)
        else:
            for index, box in enumerate(scene):
                _choose_label(page, box[0], by_hotkey=index % 2 == 0)
                _draw(page, box)
        expect(boxes).to_have_count(len(scene))
        for index, box in enumerate(scene):
            expect(boxes.nth(index)).to_have_attribute("data-label", box[0])
        if step < len(SCENES) - 1:
            page.keyboard.press("ArrowRight")  # saves, then opens the next item
        else:
            expect(page.get_by_role("button", name="Next →")).to_be_disabled()
            page.get_by_role("button", name="Save", exact=True).click()
            expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 1")
    return visited


def _stored_boxes(ui_server: UiServer) -> dict[str, list[tuple[str, list[float]]]]:
    """Every item's boxes as the API returns them, by image name, in the order of their labels and places."""
    listed = ui_server.http.get(f"/projects/{PROJECT}/dataset/items", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    stored = {}
    for item in listed.json()["items"]:
        assert item["annotated"] and item["user_reviewed"], item
        answer = ui_server.http.get(f"/projects/{PROJECT}/dataset/items/{item['id']}/annotation")
        assert answer.status_code == 200, answer.text
        boxes = answer.json()["boxes"]
        stored[item["name"]] = sorted((box["label_name"], [box["x"], box["y"], box["width"], box["height"]])
                                      for box in boxes)  # fmt: skip
    return stored


def _make_revision(page: Page) -> dict[str, int]:
    page.get_by_role("link", name="Dataset revisions", exact=True).click()
    for field, value in SPLIT:
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_role("button", name="New dataset revision").click()
    made = page.get_by_test_id("revision-made")
    expect(made).to_contain_text(f"Revision #1 made with {len(SCENES)} items", timeout=SLOW_REQUEST_MS)
    row = page.get_by_test_id("dataset-revision-row")
    expect(row).to_have_count(1)
    counts = {subset: int(row.get_by_test_id(f"subset-{subset}").inner_text())
              for subset in ("training", "validation", "testing")}  # fmt: skip
    expect(row).to_contain_text("red 5 · blue 5")
    return counts


def _train(page: Page) -> None:
    page.get_by_role("link", name="Training", exact=True).click()
    page.get_by_role("radio", name="SSDlite 320 MobileNetV3 Large").click()
    page.locator("label", has_text="From scratch").click()
    page.get_by_role("combobox", name="Dataset revision").click()
    page.get_by_role("option", name=re.compile(r"^#1: ")).click()
    for field, value in ONE_QUICK_EPOCH:
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(f"/projects/{PROJECT}/training/[0-9a-f]+$"))
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=JOB_MS)
    page.get_by_role("link", name="Open the trained revision").click()
    expect(page).to_have_url(re.compile(f"/projects/{PROJECT}/models/[0-9a-f]+$"))


def test_a_detector_labelled_and_trained_in_the_browser_from_a_folder_of_images(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    _create_project(page)
    _upload(page, _photo_folder(tmp_path / "signs"))
    visited = _annotate_every_image(page)
    assert sorted(visited) == sorted(SCENES)

    stored = _stored_boxes(ui_server)
    assert sorted(stored) == sorted(SCENES)
    for name, scene in SCENES.items():
        expected = sorted((label, [x, y, width, height]) for label, x, y, width, height in scene)
        assert [label for label, _ in stored[name]] == [label for label, _ in expected], name
        assert all(within_a_pixel(got, want) for (_, got), (_, want) in zip(stored[name], expected, strict=True)), (
            name, stored[name], expected)  # fmt: skip

    subsets = _make_revision(page)
    revision = ui_server.http.get(f"/projects/{PROJECT}/dataset/revisions/1").json()
    assert subsets == {subset: revision["subset_counts"].get(subset, 0) for subset in subsets}
    assert sum(subsets.values()) == len(SCENES) and min(subsets.values()) >= 1, subsets

    _train(page)
    model_id = page.url.rsplit("/", 1)[1]
    model = ui_server.sdk.models.get(model_id)
    assert model.status == "succeeded" and model.dataset_revision_id == revision["id"]
    assert model.metric_name == "map" and model.best_metric is not None
    expect(page.get_by_test_id("dataset-revision")).to_contain_text(f"#1: {len(SCENES)} items")
    expect(page.get_by_test_id("epochs").get_by_role("row").nth(1)).to_contain_text(f"map {model.best_metric:.4f}")
    expect(page.get_by_text(f"map {model.best_metric:.4f} (epoch 1)")).to_be_visible()
