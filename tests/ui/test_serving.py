"""The built web application at `/`: files, the history fallback, caching, and API paths that stay API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.logging import configure_logging
from modelyard.sdk.transport import InProcessTransport
from modelyard.ui.serving import IMMUTABLE, REVALIDATE

INDEX = "<!doctype html><title>modelyard</title><div id=root></div>"


def _client(settings: Settings) -> Iterator[httpx.Client]:
    configure_logging("warning")
    app = create_app(settings, run_jobs=False, configure_logs=False)
    transport = InProcessTransport(app)
    with httpx.Client(transport=transport, base_url="http://modelyard.local") as client:
        yield client
    transport.close()


@pytest.fixture
def built(settings: Settings, tmp_path: Path) -> Iterator[httpx.Client]:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text(INDEX)
    (static / "assets" / "index-3f9a1c.js").write_text("console.log('modelyard')")
    (static / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    yield from _client(settings.model_copy(update={"ui_dir": static}))


@pytest.fixture
def unbuilt(settings: Settings, tmp_path: Path) -> Iterator[httpx.Client]:
    yield from _client(settings.model_copy(update={"ui_dir": tmp_path / "missing"}))


def test_root_and_page_paths_answer_the_application_revalidated(built: httpx.Client) -> None:
    for path in ("/", "/projects", "/projects/digits/models/3", "/registry/models/a%20b"):
        response = built.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == REVALIDATE
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_hashed_assets_are_cached_for_good_and_other_files_revalidated(built: httpx.Client) -> None:
    asset = built.get("/assets/index-3f9a1c.js")
    assert asset.status_code == 200 and asset.text == "console.log('modelyard')"
    assert asset.headers["cache-control"] == IMMUTABLE
    icon = built.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["cache-control"] == REVALIDATE


def test_an_asset_of_another_build_is_404_not_the_page(built: httpx.Client) -> None:
    response = built.get("/assets/index-000000.js")
    assert response.status_code == 404
    assert "reload" in response.text


def test_api_paths_never_fall_back_to_the_application(built: httpx.Client) -> None:
    missing = built.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    # A change to a missing route stays a 404, not a 405 from a catch-all route.
    assert built.post("/api/v1/no-such-thing", json={}).status_code == 404
    assert built.post("/projects", json={}).status_code == 404
    assert built.get("/api/v1/health").json()["status"] == "ok"


def test_paths_that_climb_out_of_the_build_get_the_page_not_a_file(built: httpx.Client, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("not for the web")
    for path in ("/..%2Fsecret.txt", "/assets/..%2F..%2Fsecret.txt", "/%2e%2e/secret.txt"):
        response = built.get(path)
        assert "not for the web" not in response.text, path


def test_without_a_build_the_root_says_how_to_build_it_and_the_api_works(unbuilt: httpx.Client) -> None:
    page = unbuilt.get("/")
    assert page.status_code == 200
    assert "make serve" in page.text and "npm run build" in page.text
    assert unbuilt.get("/api/v1/health").status_code == 200
