"""The models page: a project's revisions in a table, filtered and sorted through the URL, and two of them
compared side by side (hyperparameters that differ, curves overlaid, metrics per label)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import UiServer
from tests.ui.seed_revisions import FINE_TUNED_LEARNING_RATE, TrainedRevisions


def test_the_models_table_filters_sorts_and_compares_two_revisions(
    page: Page, ui_server: UiServer, trained_revisions: TrainedRevisions
) -> None:
    project = trained_revisions.project
    first, second = (
        ui_server.sdk.models.get(trained_revisions.first_id),
        ui_server.sdk.models.get(trained_revisions.second_id),
    )
    # The browser tests share this project, and test_training.py adds a cancelled revision to it; files run in any
    # order across test processes, so the table is read filtered to the two succeeded revisions made here.
    page.goto(f"/projects/{project}/models?status=succeeded")
    table = page.get_by_role("table", name="Model revisions")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two revisions, newest first
    expect(rows.nth(1)).to_contain_text(f"#2 {second.name}")
    expect(rows.nth(1)).to_contain_text("mobilenet_v3_small")
    expect(rows.nth(1)).to_contain_text(f"accuracy {second.best_metric:.3f}")
    expect(rows.nth(1).get_by_role("link", name="#1")).to_have_attribute(
        "href", f"/projects/{project}/models/{first.id}"
    )
    expect(rows.nth(1)).to_contain_text(f"{second.size_bytes / 1024 / 1024:.1f} MB")
    expect(rows.nth(2)).to_contain_text("scratch")
    expect(rows.nth(2)).to_contain_text("#1")  # its dataset revision
    assert_accessible(page)

    table.get_by_role("button", name="Name").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(rows.nth(1)).to_contain_text(f"#1 {first.name}")
    page.goto(f"/projects/{project}/models?status=failed")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No revision matches")
    assert ui_server.sdk.models.list(project, status="failed").items == []

    page.goto(f"/projects/{project}/models")
    page.get_by_role("checkbox", name=f"Compare {first.name}").check()
    page.get_by_role("checkbox", name=f"Compare {second.name}").check()
    page.get_by_role("button", name="Compare 2 selected").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare models")
    difference = page.get_by_test_id("hyperparameter-difference")
    expect(difference).to_have_count(1)
    expect(difference).to_contain_text("learning_rate")
    expect(difference.get_by_role("cell")).to_have_text(["0.001", str(FINE_TUNED_LEARNING_RATE)])
    assert (first.configuration["learning_rate"], second.configuration["learning_rate"]) == (
        0.001,
        FINE_TUNED_LEARNING_RATE,
    )
    expect(page.get_by_test_id("compare-curves")).to_have_attribute("data-ready", "true")
    per_label = page.get_by_role("table", name="Metrics per label compared")
    expect(per_label.get_by_role("rowheader")).to_have_text(["overall", "red", "blue"])
    assert_accessible(page)
