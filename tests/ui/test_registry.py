"""The registry pages: models, a model, a version, the history; aliases moved with compare-and-set."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.axe import assert_accessible
from tests.ui.conftest import SEEDED_REGISTERED_MODEL, UiServer

# An instant as a `datetime-local` input takes it: the browser's own time zone, to the second.
LOCAL_INPUT_VALUE = """(iso) => {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${day}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}"""


def _model_with_versions(ui_server: UiServer, name: str, label_maps: list[dict[str, str]]) -> None:
    for index, label_map in enumerate(label_maps):
        ui_server.sdk.registry.register(
            name, create_model=index == 0, framework="onnx", task_type="detection", label_map=label_map
        )


def test_the_models_list_searches_by_label_and_sorts_by_number_of_versions(page: Page, ui_server: UiServer) -> None:
    _model_with_versions(ui_server, "list-triple", [{"0": "cat"}] * 3)
    ui_server.sdk.registry.update("list-triple", add_labels=["cat"], set_tags={"team": "vision"})
    page.goto("/registry?sort=-num_versions")
    table = page.get_by_role("table", name="Registered models")
    expect(table.get_by_role("row").nth(1)).to_contain_text("list-triple")
    expect(table.get_by_role("columnheader", name="Versions")).to_have_attribute("aria-sort", "descending")
    assert_accessible(page)

    page.get_by_label("Label").fill("cat")
    expect(page).to_have_url(re.compile(r"label=cat"))
    expect(table.get_by_role("link")).to_have_text(["list-triple"])
    expect(table).to_contain_text("team: vision")
    table.get_by_role("link", name="list-triple").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("list-triple")


def test_a_model_page_edits_metadata_tags_and_archives_through_the_api(page: Page, ui_server: UiServer) -> None:
    ui_server.sdk.registry.create("edited", metadata={"owner": "ana", "dataset": "v1"})
    page.goto("/registry/edited")
    expect(page.get_by_test_id("metadata")).to_contain_text('"owner": "ana"')
    assert_accessible(page)

    page.get_by_label(re.compile(r"^Merge")).fill('{"owner": "bo", "epochs": 10}')
    page.get_by_label(re.compile(r"^Remove keys")).fill("dataset")
    page.get_by_role("button", name="Apply to metadata").click()
    expect(page.get_by_test_id("metadata")).to_contain_text('"owner": "bo"')
    page.get_by_label("Tag key").fill("team")
    page.get_by_label("Tag value").fill("vision")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tags")).to_contain_text("team: vision")
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("button", name="Unarchive")).to_be_visible()

    stored = ui_server.sdk.registry.get("edited")
    assert (stored.metadata, stored.tags, stored.archived) == ({"owner": "bo", "epochs": 10}, {"team": "vision"}, True)


def test_an_alias_moved_on_the_model_page_is_what_the_sdk_reads(page: Page, ui_server: UiServer) -> None:
    page.goto(f"/registry/{SEEDED_REGISTERED_MODEL}")
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row")).to_have_count(3)
    page.get_by_role("textbox", name="Alias").fill("champion")
    page.get_by_role("textbox", name="Version").fill("2")
    page.get_by_role("button", name="Move alias").click()
    expect(page.get_by_test_id("alias-champion")).to_contain_text("version 2")
    expect(versions.get_by_role("row").filter(has_text="@champion")).to_contain_text("2")
    assert ui_server.sdk.registry.alias(SEEDED_REGISTERED_MODEL, "champion").version == 2


def test_a_stale_alias_move_shows_the_servers_409_and_reads_the_holder_again(page: Page, ui_server: UiServer) -> None:
    _model_with_versions(ui_server, "stale", [{"0": "cat"}] * 3)
    ui_server.sdk.registry.set_alias("stale", "production", 1)
    page.goto("/registry/stale")
    expect(page.get_by_test_id("alias-production")).to_contain_text("version 1")
    ui_server.sdk.registry.set_alias("stale", "production", 2, expected_version=1)  # someone else, meanwhile

    page.get_by_role("textbox", name="Alias").fill("production")
    expect(page.get_by_test_id("alias-expected")).to_contain_text("held by version 1")
    page.get_by_role("textbox", name="Version").fill("3")
    page.get_by_role("button", name="Move alias").click()
    problem = page.get_by_test_id("problem")
    expect(problem).to_contain_text("held by version 2, not version 1")
    expect(problem).to_contain_text("alias_changed")
    expect(page.get_by_test_id("alias-production")).to_contain_text("version 2")
    assert ui_server.sdk.registry.alias("stale", "production").version == 2
    assert_accessible(page)


def test_a_move_across_a_label_map_change_shows_the_diff_before_forcing(page: Page, ui_server: UiServer) -> None:
    _model_with_versions(ui_server, "relabelled", [{"0": "cat", "1": "dog"}, {"0": "cat", "1": "wolf", "2": "fox"}])
    ui_server.sdk.registry.set_alias("relabelled", "production", 1)
    page.goto("/registry/relabelled/versions/2")
    page.get_by_role("textbox", name="Alias").fill("production")
    page.get_by_role("button", name="Move alias").click()
    diff = page.get_by_test_id("label-map-diff")
    expect(diff.get_by_role("row").filter(has_text="added")).to_contain_text("fox")
    expect(diff.get_by_role("row").filter(has_text="renamed")).to_contain_text("dog → wolf")
    assert ui_server.sdk.registry.alias("relabelled", "production").version == 1
    assert_accessible(page)

    page.get_by_role("button", name="Move anyway").click()
    expect(page.get_by_role("status").filter(has_text="now points at")).to_contain_text("version 2")
    assert ui_server.sdk.registry.alias("relabelled", "production").version == 2


def test_a_version_page_shows_labels_files_and_moves_the_stage(page: Page, ui_server: UiServer, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 2048)
    version = ui_server.sdk.registry.register(
        "versioned", create_model=True, framework="onnx", files=[weights],
        label_map={"0": "cat", "1": "dog"}, parameters={"lr": 0.01},
    )  # fmt: skip
    page.goto("/registry/versioned/versions/1")
    expect(page.get_by_role("heading", level=1)).to_have_text("versioned · version 1")
    expect(page.get_by_role("table", name="Label map")).to_contain_text("dog")
    files = page.get_by_role("table", name="Files")
    expect(files).to_contain_text("2.0 KB")
    expect(files.locator("code")).to_have_attribute("title", version.files[0].sha256)
    with page.expect_download() as download:
        files.get_by_role("link", name="Download weights.bin").click()
    assert Path(download.value.path()).read_bytes() == weights.read_bytes()
    assert_accessible(page)

    page.get_by_role("combobox", name="Stage").click()
    page.get_by_role("option", name="staging").click()
    page.get_by_role("button", name="Move to stage").click()
    expect(page.get_by_test_id("stage")).to_have_text("staging")
    assert ui_server.sdk.registry.version("versioned/1").stage.value == "staging"


def test_the_history_as_of_an_earlier_moment_shows_the_earlier_holder(page: Page, ui_server: UiServer) -> None:
    _model_with_versions(ui_server, "historic", [{"0": "cat"}] * 2)
    ui_server.sdk.registry.set_alias("historic", "production", 1)
    ui_server.sdk.registry.stage("historic/1", "production")
    time.sleep(1.1)  # the picker resolves to the second
    earlier = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    ui_server.sdk.registry.set_alias("historic", "production", 2, expected_version=1, comment="better")

    page.goto("/registry/historic/history")
    expect(page.get_by_test_id("holders")).to_contain_text("Held now")
    expect(page.get_by_test_id("alias-production")).to_contain_text("version 2")
    expect(page.get_by_test_id("timeline")).to_contain_text("@production → version 2 (was version 1)")
    expect(page.get_by_test_id("timeline")).to_contain_text("“better”")
    assert_accessible(page)

    local = page.evaluate(LOCAL_INPUT_VALUE, earlier.isoformat())
    page.get_by_label("As of").fill(local)
    expect(page.get_by_test_id("holders")).to_contain_text("Held as of")
    expect(page.get_by_test_id("alias-production")).to_contain_text("version 1")
    expect(page.get_by_test_id("stage-production")).to_contain_text("version 1")
    assert ui_server.sdk.registry.holders("historic", at=earlier).aliases == {"production": 1}
