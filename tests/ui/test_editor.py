"""The annotation editor: hotkeys on a classification project, boxes and polygons drawn with the mouse and checked
through the API, a model's proposal accepted, and a stale save refused and reloaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from modelyard.config import Settings
from modelyard.sdk import Client
from tests.conftest import TEST_JOB_MODULES
from tests.datasets.factories import image_bytes
from tests.ui.axe import assert_accessible
from tests.ui.canvas import drag, to_screen, within_a_pixel
from tests.ui.conftest import UiServer
from tests.ui.seed_pipeline import ServedDetector, serve_tiny_detector, tiny_detector_checkpoint

LOADING_MS = 45_000


def _project_with_images(sdk: Client, folder: Path, name: str, task: str, labels: list, count: int,
                         size: tuple[int, int] = (32, 24)) -> list[str]:  # fmt: skip
    """A project and `count` images (uploaded in name order): their item ids, in that order."""
    sdk.projects.create(name, task, labels=labels)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{name}-{index:02d}.png"
        path.write_bytes(image_bytes(index + 1, size))
        paths.append(path)
    created = {item.name: item.id for item in sdk.datasets.upload(name, paths).created}
    return [created[path.name] for path in paths]


def test_label_twenty_digits_with_hotkeys_and_see_the_counts_change(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    labels = [{"name": str(digit), "hotkey": str(digit)} for digit in range(10)]
    items = _project_with_images(ui_server.sdk, tmp_path, "digits", "multiclass_classification", labels, 20)
    page.goto("/projects/digits/annotate?annotated=false")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Annotate digits-00.png")
    expect(page.get_by_test_id("annotated-count")).to_have_text("0 of 20 items annotated")
    assert_accessible(page)

    for index in range(20):
        expect(heading).to_have_text(f"Annotate digits-{index:02d}.png")
        page.keyboard.press(str(index % 10))
    expect(page.get_by_test_id("annotated-count")).to_have_text("20 of 20 items annotated")
    expect(page.get_by_test_id("label-count-3")).to_have_text("3: 2 items")
    stored = [ui_server.sdk.datasets.item("digits", item) for item in items]
    assert [item.annotation.labels[0].name for item in stored] == [str(index % 10) for index in range(20)]
    assert all(item.user_reviewed for item in stored)


def test_draw_move_resize_and_delete_boxes_and_the_api_has_them(
    page: Page, ui_server: UiServer, tmp_path: Path
) -> None:
    labels = [{"name": "cat", "hotkey": "c"}, {"name": "dog", "hotkey": "d"}]
    (item,) = _project_with_images(ui_server.sdk, tmp_path, "boxes-ui", "detection", labels, 1, size=(200, 150))
    page.goto(f"/projects/boxes-ui/annotate/{item}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Annotate boxes-ui-00.png")
    boxes = page.get_by_test_id("box")

    drag(page, (20, 30), (80, 70))  # a cat, with the box tool the editor opens with
    page.keyboard.press("Escape")  # a label key would relabel the selected (new) box: none is selected now
    page.keyboard.press("d")
    drag(page, (120, 20), (170, 60))  # a dog
    expect(boxes).to_have_count(2)
    expect(boxes.nth(1)).to_have_attribute("data-label", "dog")
    assert_accessible(page)

    page.keyboard.press("v")  # select: move the cat by (+10, +15), then far past the right edge
    drag(page, (50, 50), (60, 65))
    drag(page, (60, 65), (400, 65))
    page.keyboard.press("Control+z")  # back to where the first move left it
    drag(page, (90, 85), (100, 95))  # its bottom-right corner: resized to 70 x 50
    boxes.nth(1).click()
    page.keyboard.press("Delete")
    expect(boxes).to_have_count(1)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 1")

    (stored,) = ui_server.sdk.datasets.annotation("boxes-ui", item).boxes
    assert stored.label_name == "cat"
    assert within_a_pixel([stored.x, stored.y, stored.width, stored.height], [30, 45, 70, 50])


def test_a_box_dragged_past_the_edge_stays_inside_the_image(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    (item,) = _project_with_images(ui_server.sdk, tmp_path, "edges-ui", "detection", ["cat"], 1, size=(200, 150))
    page.goto(f"/projects/edges-ui/annotate/{item}")
    drag(page, (150, 100), (260, 190))  # drawn beyond the corner: cut at it
    page.keyboard.press("v")
    drag(page, (170, 120), (10, 400))  # moved below and left of the image: stopped at its edges
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 1")
    (stored,) = ui_server.sdk.datasets.annotation("edges-ui", item).boxes
    assert within_a_pixel([stored.x, stored.y, stored.width, stored.height], [0, 100, 50, 50])


def test_draw_a_polygon_point_by_point_and_the_api_has_it(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    (item,) = _project_with_images(ui_server.sdk, tmp_path, "blobs-ui", "instance_segmentation", ["blob"], 1,
                                   size=(160, 120))  # fmt: skip
    page.goto(f"/projects/blobs-ui/annotate/{item}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Annotate blobs-ui-00.png")
    points = [(20, 20), (100, 25), (110, 90), (30, 80)]
    for x, y in points:
        page.mouse.click(*to_screen(page, x, y))
    page.mouse.click(*to_screen(page, *points[0]))  # the first point again closes it
    expect(page.get_by_test_id("polygon")).to_have_count(1)
    page.get_by_label("Show boxes of polygons").check()
    expect(page.get_by_test_id("polygon-box")).to_have_count(1)
    expect(page.get_by_test_id("shape-geometry")).to_have_text(re.compile(r"4 points · box 2\d\.\d, 2\d\.\d"))
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 1")

    (stored,) = ui_server.sdk.datasets.annotation("blobs-ui", item).polygons
    assert stored.label_name == "blob"
    assert within_a_pixel([coordinate for point in stored.points for coordinate in point],
                  [coordinate for point in points for coordinate in point])  # fmt: skip


def test_a_stale_save_gets_the_409_and_the_item_is_reloaded(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    (item,) = _project_with_images(ui_server.sdk, tmp_path, "stale-ui", "multiclass_classification",
                                   [{"name": "red", "hotkey": "r"}, {"name": "blue", "hotkey": "b"}], 1)  # fmt: skip
    page.goto(f"/projects/stale-ui/annotate/{item}")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 0")
    ui_server.sdk.datasets.annotate("stale-ui", item, labels=["blue"])  # someone else, meanwhile

    page.keyboard.press("r")
    expect(page.get_by_test_id("conflict")).to_contain_text("changed since version 0 (it is version 1 now)")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · version 1")
    expect(page.get_by_role("button", name="blue")).to_have_attribute("aria-pressed", "true")
    assert ui_server.sdk.datasets.item("stale-ui", item).annotation.labels[0].name == "blue"


@pytest.fixture(scope="module")
def proposing_detector(
    ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> ServedDetector:
    """A detection project whose pipeline serves the tiny detector (its checkpoint kept in pytest's cache)."""
    assert pytestconfig.cache is not None
    checkpoint = tiny_detector_checkpoint(pytestconfig.cache.mkdir("ui-tiny-detector"))
    settings = Settings(data_dir=ui_server.data_dir, job_modules=TEST_JOB_MODULES, log_level="warning")
    served = serve_tiny_detector(ui_server.sdk, settings, tmp_path_factory.mktemp("proposals"), checkpoint,
                                 name="shapes-proposed")  # fmt: skip
    sdk = ui_server.sdk
    sdk.pipelines.enable(served.project, served.revision_id, variant="pytorch-fp32", confidence_threshold=0.01)
    return served


def test_accept_the_enabled_model_s_proposal_and_the_item_is_reviewed(
    page: Page, ui_server: UiServer, proposing_detector: ServedDetector
) -> None:
    project = proposing_detector.project
    item = next(ui_server.sdk.datasets.iterate_items(project))
    page.goto(f"/projects/{project}/annotate/{item.id}")
    proposal = page.get_by_test_id("proposal")
    expect(proposal.get_by_test_id("proposal-content")).to_contain_text("boxes", timeout=LOADING_MS)
    expected = ui_server.sdk.datasets.propose(project, item.id).boxes
    expect(page.get_by_test_id("proposed-box")).to_have_count(len(expected))

    proposal.get_by_role("button", name="Accept proposal").click()
    expect(page.get_by_test_id("save-state")).to_have_text(f"Saved · version {item.annotation_version + 1}")
    stored = ui_server.sdk.datasets.item(project, item.id)
    assert stored.user_reviewed is True
    assert [(box.label_id, round(box.x, 2), round(box.y, 2), round(box.width, 2), round(box.height, 2))
            for box in stored.annotation.boxes] == [
        (box.label_id, round(box.x, 2), round(box.y, 2), round(box.width, 2), round(box.height, 2)) for box in expected
    ]  # fmt: skip


def test_a_save_the_server_refuses_shows_its_problem_document(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    (item,) = _project_with_images(ui_server.sdk, tmp_path, "refused-ui", "detection", ["cat", "gone"], 1,
                                   size=(200, 150))  # fmt: skip
    page.goto(f"/projects/refused-ui/annotate/{item}")
    page.get_by_role("button", name="gone").click()  # the label of new boxes
    drag(page, (20, 20), (60, 60))
    ui_server.sdk.projects.delete_label("refused-ui", "gone")  # meanwhile, elsewhere
    page.get_by_role("button", name="Save").click()
    problem = page.get_by_test_id("problem")
    expect(problem).to_contain_text("unknown label")
    expect(problem).to_contain_text("unknown_label")
    assert ui_server.sdk.datasets.item("refused-ui", item).annotated is False
