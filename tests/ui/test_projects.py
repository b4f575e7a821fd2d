"""The projects pages: the list with task, labels and counts; create, rename and delete through the API."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import SEEDED_PROJECT, UiServer


def test_the_list_shows_projects_and_a_created_project_has_its_task_and_labels(page: Page, ui_server: UiServer) -> None:
    page.goto("/projects?sort=name")
    table = page.get_by_role("table", name="Projects")
    seeded = table.get_by_role("row").filter(has=page.get_by_role("link", name=SEEDED_PROJECT, exact=True))
    expect(seeded).to_contain_text("Multi-class classification")
    expect(seeded.get_by_test_id("label-chip")).to_have_text(["red", "blue"])
    expect(table.get_by_role("columnheader", name="Name")).to_have_attribute("aria-sort", "ascending")
    assert_accessible(page)

    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    dialog.get_by_label(re.compile(r"^Name")).fill("shapes-ui")
    dialog.get_by_role("combobox", name="Task").click()
    page.get_by_role("option", name="Detection").click()
    dialog.get_by_label("Label 1 name").fill("square")
    dialog.get_by_label("Label 1 colour").fill("#ff8800")
    dialog.get_by_label("Label 1 hotkey").fill("s")
    dialog.get_by_label("Label 2 name").fill("circle")
    assert_accessible(page)
    dialog.get_by_role("button", name="Create project").click()

    expect(page).to_have_url("/projects/shapes-ui")
    expect(page.get_by_role("heading", level=1)).to_have_text("shapes-ui")
    created = ui_server.sdk.projects.get("shapes-ui")
    assert created.task_type == "detection"
    assert [(label.name, label.color, label.hotkey) for label in created.labels] == [
        ("square", "#ff8800", "s"),
        ("circle", "#1971c2", "2"),
    ]


def test_a_project_page_renames_and_deletes_naming_what_goes(page: Page, ui_server: UiServer) -> None:
    ui_server.sdk.projects.create("doomed", "multiclass_classification", labels=["a", "b"])
    page.goto("/projects/doomed")
    expect(page.get_by_test_id("count-items")).to_have_text("0")
    expect(page.get_by_role("table", name="Labels")).to_contain_text("a")
    assert_accessible(page)

    page.get_by_role("button", name="Rename").click()
    page.get_by_label(re.compile(r"^New name")).fill("doomed-renamed")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    expect(page).to_have_url("/projects/doomed-renamed")
    assert ui_server.sdk.projects.get("doomed-renamed").name == "doomed-renamed"

    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete project doomed-renamed?")
    expect(dialog.get_by_test_id("delete-consequences")).to_contain_text("0 dataset items and their images")
    expect(dialog.get_by_test_id("delete-consequences")).to_contain_text("2 labels")
    confirm = dialog.get_by_role("button", name="Delete")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type doomed-renamed to confirm").fill("doomed-renamed")
    confirm.click()
    expect(page).to_have_url("/projects")
    assert ui_server.http.get("/projects/doomed-renamed").status_code == 404
