"""The training pages: architecture cards from the manifests, base with lineage, a hyperparameter form that
enforces the manifest's bounds, and a started training followed live (progress, curves, log) and cancelled."""

from __future__ import annotations

import re

import yaml
from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import OFFLINE_ARCHITECTURE, UiServer
from tests.ui.seed_revisions import SMALLEST_ARCHITECTURE, TrainedRevisions


def _training_jobs(ui_server: UiServer, project: str) -> list[str]:
    return [job.id for job in ui_server.sdk.jobs.list(project=project, type="revision.train", limit=100).items]


def test_a_training_started_from_the_form_is_followed_live_and_cancelled(
    page: Page, ui_server: UiServer, trained_revisions: TrainedRevisions
) -> None:
    project = trained_revisions.project
    page.goto(f"/projects/{project}/training")
    cards = page.get_by_test_id("architecture-card")
    expect(cards.filter(has_text="MobileNetV3 Small")).to_contain_text("0.057 GFLOPs · 2.5 M parameters · 9.829 MB")
    expect(cards.filter(has_text="MobileNetV3 Small")).to_contain_text("ImageNet-1K acc@1: 67.668")
    expect(page.get_by_role("radio", name="ResNet-18")).to_have_count(1)
    assert cards.filter(has_text="Faster R-CNN").count() == 0  # detection architectures are not offered here
    assert_accessible(page)

    page.get_by_role("radio", name="MobileNetV3 Small").click()
    expect(page).to_have_url(re.compile(f"architecture={SMALLEST_ARCHITECTURE}"))
    page.locator("label", has_text="A revision").click()
    expect(page.get_by_test_id("base-lineage")).to_have_text(re.compile(r"Lineage: #2 .+ ← #1 "))
    page.locator("label", has_text="From scratch").click()

    before = _training_jobs(ui_server, project)
    page.get_by_label("epochs", exact=True).fill("999")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("must be ≤ 500")).to_be_visible()
    assert _training_jobs(ui_server, project) == before  # refused before anything was sent
    assert_accessible(page)

    for field, value in (
        ("epochs", "6"),
        ("batch size", "4"),
        ("warmup epochs", "0"),
        ("early stopping patience", "0"),
    ):
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(f"/projects/{project}/training/[0-9a-f]+$"))
    job_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Training job")
    # Curves arrive over the job's event stream once the first epoch ends; the log's tail follows the job.
    expect(page.get_by_test_id("epochs").get_by_role("row").nth(1)).to_contain_text("accuracy", timeout=120_000)
    expect(page.get_by_test_id("training-curves")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("job-log")).to_contain_text("training from scratch")
    expect(page.get_by_test_id("job-eta")).to_have_text(re.compile(r"ETA (\d+ s|\d+ min \d+ s|—)"))
    assert_accessible(page)

    page.get_by_role("button", name="Cancel training").click()
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled", timeout=60_000)
    job = ui_server.sdk.jobs.get(job_id)
    assert job.status == "cancelled"
    assert (job.params["architecture"], job.params["base"]) == (SMALLEST_ARCHITECTURE, "scratch")
    assert job.params["hyperparameters"]["epochs"] == 6 and job.params["hyperparameters"]["batch_size"] == 4
    assert ui_server.sdk.jobs.metrics(job_id)[0]["epoch"] == 1


def test_the_servers_400_is_shown_on_the_field_it_names(
    page: Page, ui_server: UiServer, trained_revisions: TrainedRevisions
) -> None:
    # The manifest is read on every call, so it can tighten a bound after the page loaded its form: the browser's
    # own check passes, the server refuses, and its 400 lands on the field it names.
    project = trained_revisions.project
    manifest_file = ui_server.data_dir / "model_manifests" / "classification" / f"{OFFLINE_ARCHITECTURE}.yaml"
    original = manifest_file.read_text(encoding="utf-8")
    page.goto(f"/projects/{project}/training?architecture={OFFLINE_ARCHITECTURE}")
    page.locator("label", has_text="From scratch").click()
    epochs = page.get_by_label("epochs", exact=True)
    epochs.fill("7")
    before = _training_jobs(ui_server, project)
    tightened = yaml.safe_load(original)
    tightened["hyperparameters"]["epochs"].update(default=3, max=5)
    manifest_file.write_text(yaml.safe_dump(tightened), encoding="utf-8")
    try:
        page.get_by_role("button", name="Start training").click()
        expect(page.get_by_text("must be <= 5, got 7")).to_be_visible()
        assert epochs.get_attribute("aria-invalid") == "true"
        expect(page).to_have_url(re.compile(f"/projects/{project}/training\\?"))
    finally:
        manifest_file.write_text(original, encoding="utf-8")
    assert _training_jobs(ui_server, project) == before
