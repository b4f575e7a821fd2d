"""A revision's page: status, curves, data, lineage, variants and evaluations as the API has them; its actions
(evaluate, register, enable in the pipeline, package download, delete refused) go through the API."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import UiServer
from tests.ui.seed_revisions import TrainedRevisions


def test_a_revision_shows_what_it_is_made_of_and_its_actions_go_through_the_api(
    page: Page, ui_server: UiServer, trained_revisions: TrainedRevisions
) -> None:
    sdk, project = ui_server.sdk, trained_revisions.project
    revision = sdk.models.get(trained_revisions.second_id)
    dataset = ui_server.http.get(f"/projects/{project}/dataset/revisions/{revision.dataset_revision_id}").json()
    page.goto(f"/projects/{project}/models/{revision.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#2 {revision.name}")
    expect(page.get_by_test_id("revision-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("revision-curves")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("epochs").get_by_role("row")).to_have_count(1 + len(sdk.models.metrics(revision.id)))
    expect(page.get_by_test_id("subset-testing")).to_have_text(f"testing {dataset['subset_counts']['testing']}")
    expect(page.get_by_test_id("revision-labels")).to_contain_text("0: red")
    expect(page.get_by_test_id("lineage-graph")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("hyperparameters")).to_contain_text("learning_rate")
    variants = page.get_by_role("table", name="Variants")
    expect(variants.get_by_role("rowheader")).to_have_text(
        [variant.name for variant in sdk.models.variants(revision.id)]
    )
    expect(variants.get_by_role("row", name=re.compile("openvino-fp16"))).to_contain_text("passed")
    expect(page.get_by_role("table", name="Evaluations").get_by_role("row")).to_have_count(
        1 + len(sdk.models.evaluations(revision.id))
    )
    expect(page.get_by_role("table", name="Metrics per label").get_by_role("rowheader")).to_have_text(["red", "blue"])
    expect(page.get_by_test_id("confusion-matrix")).to_have_attribute("data-ready", "true")
    assert_accessible(page)

    package = page.get_by_role("link", name="Download onnx-fp32 package")
    answer = page.request.get(package.get_attribute("href") or "")
    assert answer.ok and answer.headers["content-type"] == "application/zip"

    evaluations_before = len(sdk.models.evaluations(revision.id))
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_role("dialog").get_by_role("button", name="Evaluate").click()
    expect(page.get_by_test_id("action-outcome")).to_contain_text("was evaluated on the testing subset already")
    assert len(sdk.models.evaluations(revision.id)) == evaluations_before  # the stored one, no new job

    page.get_by_role("button", name="Register").click()
    page.get_by_role("dialog").get_by_label("Registered model", exact=True).fill("palette-model")
    page.get_by_role("dialog").get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("action-outcome")).to_have_text("Registered as palette-model version 1.")
    assert sdk.registry.version("palette-model/1").source_revision_id == revision.id

    variants.get_by_role("button", name="Enable onnx-fp32").click()
    expect(variants.get_by_role("row", name=re.compile("onnx-fp32"))).to_contain_text("serving")
    pipeline = ui_server.http.get(f"/projects/{project}/pipeline").json()
    assert (pipeline["revision_id"], pipeline["variant"]) == (revision.id, "onnx-fp32")

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Optimize to INT8").click()
    page.get_by_label("Largest accuracy drop (optional)").fill("2")
    expect(page.get_by_text("must be above 0 and at most 1")).to_be_visible()
    expect(page.get_by_role("dialog").get_by_role("button", name="Optimize")).to_be_disabled()
    page.keyboard.press("Escape")

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Delete the revision").click()
    dialog = page.get_by_role("dialog", name=re.compile("Delete revision #2"))
    dialog.get_by_role("textbox").fill(revision.name)
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog.get_by_test_id("problem")).to_contain_text("enabled in the project's pipeline")
    assert sdk.models.get(revision.id).status == "succeeded"  # refused with 409, nothing deleted
    assert_accessible(page)
    page.keyboard.press("Escape")

    page.get_by_test_id("lineage-links").get_by_role("link", name=re.compile("^#1 ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^#1 "))
    expect(page).to_have_url(f"/projects/{project}/models/{trained_revisions.first_id}")
