"""The pipeline page: enable a revision's variant, predict a dropped image and see its boxes, request metrics."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from modelyard.config import Settings
from tests.conftest import TEST_JOB_MODULES
from tests.ui.axe import assert_accessible
from tests.ui.conftest import UiServer
from tests.ui.seed_pipeline import ServedDetector, serve_tiny_detector, tiny_detector_checkpoint

LOADING_MS = 45_000
DROP_FILE = """async ([name, encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  return transfer;
}"""


def _drop(page: Page, image: Path) -> None:
    """Drops the file on the drop zone as a person dragging it from their desktop would."""
    transfer = page.evaluate_handle(DROP_FILE, [image.name, base64.b64encode(image.read_bytes()).decode()])
    page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": transfer})


@pytest.fixture(scope="module")
def detector(
    ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> ServedDetector:
    """The tiny detector's checkpoint is kept in pytest's cache: made once, then reused by later runs."""
    assert pytestconfig.cache is not None
    checkpoint = tiny_detector_checkpoint(pytestconfig.cache.mkdir("ui-tiny-detector"))
    settings = Settings(data_dir=ui_server.data_dir, job_modules=TEST_JOB_MODULES, log_level="warning")
    return serve_tiny_detector(ui_server.sdk, settings, tmp_path_factory.mktemp("detector"), checkpoint)


def test_enable_predict_a_dropped_image_and_see_boxes_and_metrics(
    page: Page, ui_server: UiServer, detector: ServedDetector
) -> None:
    page.goto(f"/projects/{detector.project}/pipeline")
    expect(page.get_by_test_id("pipeline-state")).to_contain_text("Disabled")
    assert_accessible(page)

    page.get_by_role("combobox", name="Revision").click()
    page.get_by_role("option", name="#1 tiny detector").click()
    page.get_by_role("combobox", name="Variant").click()
    page.get_by_role("option", name="pytorch-fp32").click()
    page.get_by_role("textbox", name="Confidence threshold").fill("0.01")
    page.get_by_role("button", name="Enable").click()
    # Enabling loads the variant and predicting runs it: seconds on a busy machine.
    serving = page.get_by_test_id("pipeline-state")
    expect(serving).to_contain_text("with pytorch-fp32 at confidence ≥ 0.01", timeout=LOADING_MS)
    status = ui_server.sdk.pipelines.status(detector.project)
    assert (status.enabled, status.revision_id, status.variant) == (True, detector.revision_id, "pytorch-fp32")

    image: Path = detector.images[0]
    _drop(page, image)
    prediction = page.get_by_test_id("prediction")
    expect(prediction).to_contain_text(image.name, timeout=LOADING_MS)
    expect(prediction.get_by_role("img", name=image.name, exact=True)).to_be_visible()
    boxes = prediction.get_by_test_id("overlay-box")
    expect(boxes.first).to_be_attached()
    found = boxes.count()
    assert found > 0
    expect(prediction.get_by_test_id("object-count")).to_contain_text(f"{found} of {found} objects")
    assert_accessible(page)

    page.get_by_role("slider", name="Score threshold").focus()
    page.keyboard.press("End")
    expect(prediction.get_by_test_id("object-count")).to_contain_text(f"0 of {found} objects at score ≥ 1.00")
    expect(boxes).to_have_count(0)
    expect(page.get_by_test_id("metric-requests")).to_have_text("1")
    expect(page.get_by_test_id("metric-latency-p99")).to_contain_text("ms")
    metrics = ui_server.sdk.pipelines.status(detector.project).metrics
    assert metrics is not None and (metrics.requests, metrics.images) == (1, 1)
