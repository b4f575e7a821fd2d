"""The jobs pages: a job followed live (progress and log over Server-Sent Events) and cancelled; the list filtered."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import SEEDED_PROJECT, UiServer
from tests.waiting import JOB_CEILING_SECONDS

JOB_START_MS = 120_000


def test_a_job_page_follows_progress_and_log_live_and_cancels(page: Page, ui_server: UiServer) -> None:
    job = ui_server.sdk.jobs.submit("test.count", {"steps": 600, "delay": 0.05}, project=SEEDED_PROJECT)
    page.goto(f"/jobs/{job.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("test.count")
    # A job waits for a free worker and starts a process: on a busy machine that takes a while.
    expect(page.get_by_test_id("job-log")).to_contain_text("counting 3", timeout=JOB_START_MS)
    expect(page.get_by_test_id("job-step")).to_have_text(re.compile(r"step \d+ · \d+/600"))
    expect(page.get_by_role("link", name=SEEDED_PROJECT)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Cancel job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled", timeout=JOB_CEILING_SECONDS * 1000)
    expect(page.get_by_text("The job was cancelled")).to_be_visible()
    assert ui_server.sdk.jobs.get(job.id).status == "cancelled"


def test_the_jobs_list_shows_status_type_project_and_progress_and_filters_by_status(
    page: Page, ui_server: UiServer
) -> None:
    done = ui_server.sdk.jobs.wait(ui_server.succeeded_job_id, timeout=JOB_CEILING_SECONDS)
    failed = ui_server.sdk.jobs.wait(ui_server.failed_job_id, timeout=JOB_CEILING_SECONDS)
    page.goto("/jobs")
    table = page.get_by_role("table", name="Jobs")
    done_row = table.get_by_role("row").filter(has=page.locator(f'a[href="/jobs/{done.id}"]'))
    expect(done_row.get_by_test_id("job-status")).to_have_text("succeeded")
    expect(done_row.get_by_test_id("job-progress")).to_have_text("100% · step 2")
    failed_row = table.get_by_role("row").filter(has=page.locator(f'a[href="/jobs/{failed.id}"]'))
    expect(failed_row).to_contain_text(SEEDED_PROJECT)
    assert_accessible(page)

    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="failed", exact=True).click()
    expect(page).to_have_url("/jobs?status=failed")
    expect(table.get_by_test_id("job-status")).to_have_text(
        ["failed"] * len(ui_server.sdk.jobs.list(status="failed").items)
    )
    expect(done_row).to_have_count(0)
