"""/docs and /redoc load every script and style from the server itself: an offline installation shows them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.sdk import Client

# Documentation pages read no data: one database is enough.
SERVER = "http://modelyard.local"


@pytest.fixture
def docs_client(tmp_path: Path) -> Iterator[Client]:
    with Client(settings=Settings(data_dir=tmp_path / "data", log_level="warning")) as client:
        yield client


def _referenced(page: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page)


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_a_documentation_page_references_only_files_that_the_server_serves(
    docs_client: Client, page: str, script: str
) -> None:
    response = docs_client._http.get(f"{SERVER}{page}")
    assert response.status_code == 200
    references = _referenced(response.text)
    assert f"/docs-assets/{script}" in references
    assert [url for url in references if "//" in url] == []  # no external host, CDN or fonts
    assert "http://" not in response.text and "https://" not in response.text
    for url in references:
        asset = docs_client._http.get(f"{SERVER}{url}")
        assert (url, asset.status_code) == (url, 200)
        assert len(asset.content) > 1000 or url == "/openapi.json"


def test_the_swagger_script_is_the_real_bundle(docs_client: Client) -> None:
    response = docs_client._http.get(f"{SERVER}/docs-assets/swagger-ui-bundle.js")
    assert response.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert b"SwaggerUIBundle" in response.content
