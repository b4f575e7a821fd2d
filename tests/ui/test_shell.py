"""Sign-in, the shell and its navigation, in a real Chromium against a real server."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import SEEDED_PROJECT, UiServer


def test_a_signed_out_visitor_signs_in_with_a_token_and_lands_on_the_page_asked_for(
    anonymous_page: Page, ui_server: UiServer
) -> None:
    page = anonymous_page
    page.goto("/jobs?status=running")
    expect(page.get_by_role("heading", name="Sign in to modelyard")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("API token").fill("my_not_a_real_token")
    page.get_by_role("button", name="Sign in").click()
    problem = page.get_by_test_id("problem")
    expect(problem).to_contain_text("Not signed in")
    expect(problem.get_by_test_id("problem-request-id")).to_have_text(re.compile(r"^[0-9a-f]{32}$"))

    page.get_by_label("API token").fill(ui_server.admin_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")
    assert page.url.endswith("/jobs?status=running")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["modelyard_session"]["httpOnly"] is True
    assert cookies["modelyard_session"]["sameSite"] == "Strict"
    assert page.evaluate("() => document.cookie") == ""


def test_the_shell_links_every_global_page_and_a_projects_own_pages(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url("/projects")
    nav = page.get_by_role("navigation", name="Main")
    pages = (("Jobs", "/jobs"), ("Registry", "/registry"), ("Settings", "/settings"), ("Projects", "/projects"))
    for name, path in pages:
        nav.get_by_role("link", name=name, exact=True).click()
        expect(page).to_have_url(path)
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")

    page.goto(f"/projects/{SEEDED_PROJECT}/models")
    for name in ("Training", "Models", "Pipeline"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_test_id("nav-project")).to_have_text(SEEDED_PROJECT)


def test_signing_out_returns_to_sign_in_and_the_session_is_gone(page: Page, ui_server: UiServer) -> None:
    page.goto("/projects")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to modelyard")).to_be_visible()
    answer = page.context.request.get("/api/v1/session")
    assert answer.json()["user"] is None


def test_a_session_revoked_elsewhere_brings_back_sign_in_on_the_next_request(page: Page, ui_server: UiServer) -> None:
    page.goto("/projects")
    expect(page.get_by_role("table", name="Projects")).to_contain_text(SEEDED_PROJECT)
    session_cookie = next(c for c in page.context.cookies() if c["name"] == "modelyard_session")
    # Sign the same session out from another client: the page still shows, but its next request gets 401.
    ui_server.http.delete("/session", headers={"cookie": f"modelyard_session={session_cookie['value']}"})
    page.get_by_role("columnheader", name="Name").get_by_role("button").click()
    expect(page.get_by_role("heading", name="Sign in to modelyard")).to_be_visible()


def test_a_read_token_signs_in_and_the_header_names_its_user_and_scope(
    anonymous_page: Page, ui_server: UiServer
) -> None:
    page = anonymous_page
    page.goto("/projects")
    page.get_by_label("API token").fill(ui_server.read_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_have_text("rita")
    expect(page.get_by_role("banner")).to_contain_text("read")
    expect(page.get_by_role("table", name="Projects")).to_contain_text(SEEDED_PROJECT)
    expect(page.get_by_role("button", name="New project")).to_have_count(0)  # creating needs the write scope
    assert page.context.request.get("/api/v1/session").json()["scope"] == "read"
