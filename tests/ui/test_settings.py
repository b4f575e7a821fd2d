"""The settings page: pretrained weights imported from a file, storage usage and checks, tokens."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import FilePayload, Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import OFFLINE_ARCHITECTURE, OFFLINE_WEIGHTS, UiServer


def test_weights_imported_from_a_file_are_cached_for_their_architecture(page: Page, ui_server: UiServer) -> None:
    page.goto("/settings")
    row = page.get_by_test_id(f"architecture-{OFFLINE_ARCHITECTURE}")
    expect(row).to_contain_text("not cached")
    expect(page.get_by_test_id("architecture-mobilenet_v3_small")).to_contain_text("mobilenet_v3_small-047dcff4.pth")
    assert_accessible(page)

    with page.expect_file_chooser() as chooser:
        row.get_by_role("button", name=f"Import file for {OFFLINE_ARCHITECTURE}").click()
    weights: FilePayload = {"name": "tiny.pth", "mimeType": "application/octet-stream", "buffer": OFFLINE_WEIGHTS}
    chooser.value.set_files(files=[weights])
    expect(page.get_by_role("status").filter(has_text="Weights imported")).to_be_visible()
    expect(row).to_contain_text("cached")
    expect(row).not_to_contain_text("not cached")
    assert ui_server.sdk.architectures.get(OFFLINE_ARCHITECTURE).weights_cached
    assert [w.size_bytes for w in ui_server.sdk.architectures.cached_weights()] == [len(OFFLINE_WEIGHTS)]


def test_storage_usage_is_shown_and_a_verification_runs_to_its_result(page: Page, ui_server: UiServer) -> None:
    usage = ui_server.sdk.files.usage()
    page.goto("/settings?tab=storage")
    expect(page.get_by_test_id("storage-files")).to_have_text(str(usage.files))
    expect(page.get_by_role("table", name="By folder")).to_contain_text("registry")
    expect(page.get_by_role("img", name=re.compile("^Size of each folder")).locator("canvas")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Verify files").click()
    job_row = page.get_by_test_id("storage-job").first
    expect(job_row.get_by_test_id("job-status")).to_have_text("succeeded", timeout=30_000)
    verified = ui_server.sdk.jobs.list(type="storage.verify").items
    assert [job.status for job in verified] == ["succeeded"]
    assert (verified[0].result["checked"], verified[0].result["problem_count"]) == (usage.files, 0)
    expect(job_row).to_contain_text(f'"checked":{usage.files}')


def test_an_admin_creates_a_token_sees_its_secret_once_and_revokes_it(page: Page, ui_server: UiServer) -> None:
    page.goto("/settings?tab=tokens")
    expect(page.get_by_role("table", name="Tokens")).to_contain_text("ui-reader")
    page.get_by_label(re.compile(r"^Token name")).fill("ci-reader")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("token-secret").inner_text()
    assert secret.startswith("my_")
    assert_accessible(page)
    session = httpx.get(f"{ui_server.url}/api/v1/session", headers={"authorization": f"Bearer {secret}"})
    assert (session.json()["user"], session.json()["scope"]) == ("ci-reader", "read")

    row = page.get_by_test_id("token-ci-reader")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Revoke ci-reader").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_contain_text("revoked")
    assert (
        httpx.get(f"{ui_server.url}/api/v1/projects", headers={"authorization": f"Bearer {secret}"}).status_code == 401
    )
