"""The request guard through the real app over ASGI: Host header, loopback-only without tokens, CSRF, CORS,
the JSON body limit, and a health report without server paths."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.app import create_app
from modelyard.config import Settings
from tests.datasets.factories import image_bytes

# The guard reads headers and counts bytes before any query: one database is enough.
pytestmark = pytest.mark.anyio
TOKEN = "guard-test-token"
PROJECT = {"name": "shapes", "task_type": "detection", "labels": [{"name": "circle"}]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", log_level="warning", **overrides)


@asynccontextmanager
async def served(
    settings: Settings, *, host: str = "127.0.0.1:8000", peer: str = "127.0.0.1", token: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (migrated by its lifespan), reached as `http://HOST` from the address PEER."""
    app = create_app(settings, run_jobs=False, configure_logs=False)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}/api/v1", headers=headers) as http:
            yield http


async def _project_names(http: httpx.AsyncClient) -> list[str]:
    response = await http.get("/projects", headers={"host": "127.0.0.1:8000"})
    assert response.status_code == 200, response.text
    return [project["name"] for project in response.json()["items"]]


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.headers["content-type"]) == (status, "application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# -- Host header -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST", "127.0.0.2:8000"])
async def test_loopback_host_names_are_answered(tmp_path: Path, host: str) -> None:
    async with served(_settings(tmp_path), host=host) as http:
        response = await http.get("/projects")
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "192.168.1.5:8000", "localhost.evil.example"])
async def test_a_foreign_host_header_is_refused_with_a_problem_naming_the_setting(tmp_path: Path, host: str) -> None:
    async with served(_settings(tmp_path), host=host) as http:
        response = await http.get("/projects")
    body = _assert_problem(response, 421, "host_not_allowed")
    assert "MODELYARD_ALLOWED_HOSTS" in body["detail"]


async def test_health_answers_any_host_for_probes(tmp_path: Path) -> None:
    async with served(_settings(tmp_path), host="10.244.0.7:8000") as http:
        assert (await http.get("/health")).json()["status"] == "ok"
        _assert_problem(await http.get("/projects"), 421, "host_not_allowed")


async def test_a_dns_rebound_page_cannot_create_anything(tmp_path: Path) -> None:
    async with served(_settings(tmp_path), host="rebound.evil.example:8000") as http:
        response = await http.post("/projects", json=PROJECT, headers={"origin": "http://rebound.evil.example:8000"})
        _assert_problem(response, 421, "host_not_allowed")
        assert await _project_names(http) == []


async def test_configured_host_names_and_the_serve_address_are_answered(tmp_path: Path) -> None:
    settings = _settings(tmp_path, allowed_hosts="models.example.com, Other.Example, [FD00::5]", host="10.1.2.3")
    for host in ("models.example.com", "other.example:8000", "[fd00::5]:8000", "10.1.2.3:8000"):
        async with served(settings, host=host, token=TOKEN) as http:
            assert (host, (await http.get("/projects")).status_code) == (host, 200)
    async with served(settings, host="third.example") as http:
        _assert_problem(await http.get("/projects"), 421, "host_not_allowed")


async def test_any_host_is_answered_only_when_tokens_are_required(tmp_path: Path) -> None:
    async with served(_settings(tmp_path, allowed_hosts=["*"]), host="anything.example") as http:
        _assert_problem(await http.get("/projects"), 421, "host_not_allowed")
    tokens = {TOKEN: "alice"}
    settings = _settings(tmp_path, allowed_hosts=["*"], api_tokens=tokens)
    async with served(settings, host="anything.example", token=TOKEN) as http:
        assert (await http.get("/projects")).status_code == 200


# -- loopback only without tokens ------------------------------------------------------------------------------
async def test_without_tokens_a_caller_on_another_machine_is_refused(tmp_path: Path) -> None:
    async with served(_settings(tmp_path), peer="192.168.1.20") as http:
        body = _assert_problem(await http.post("/projects", json=PROJECT), 403, "loopback_only")
        assert "--insecure" in body["detail"] and "modelyard token create" in body["detail"]
    async with served(_settings(tmp_path)) as http:
        assert await _project_names(http) == []


async def test_a_remote_caller_is_served_with_tokens_or_when_insecure(tmp_path: Path) -> None:
    async with served(_settings(tmp_path, api_tokens={TOKEN: "alice"}), peer="192.168.1.20", token=TOKEN) as http:
        assert (await http.post("/projects", json=PROJECT)).status_code == 201
    async with served(_settings(tmp_path, insecure=True), peer="192.168.1.20") as http:
        assert await _project_names(http) == ["shapes"]


# -- CSRF -------------------------------------------------------------------------------------------------------
async def _create_project(http: httpx.AsyncClient) -> None:
    assert (await http.post("/projects", json=PROJECT)).status_code == 201


async def _upload(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    files = [("files", ("circle.png", image_bytes(1), "image/png"))]
    return await http.post("/projects/shapes/dataset/items", files=files, headers=headers)


async def _item_count(http: httpx.AsyncClient) -> int:
    response = await http.get("/projects/shapes/dataset/items")
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


async def test_a_cross_origin_multipart_upload_is_refused_and_stores_nothing(tmp_path: Path) -> None:
    async with served(_settings(tmp_path), host="localhost:8000") as http:
        await _create_project(http)
        refused = await _upload(http, {"origin": "http://evil.example"})
        body = _assert_problem(refused, 403, "cross_origin_refused")
        assert "MODELYARD_CORS_ORIGINS" in body["detail"]
        assert await _item_count(http) == 0
        # The same upload from the server's own page, and from a program that sends no Origin, is stored.
        assert (await _upload(http, {"origin": "http://localhost:8000"})).status_code == 201
        assert await _item_count(http) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example", "content-type": "application/x-www-form-urlencoded"},
        {"origin": "http://evil.example", "content-type": "text/plain"},
        {"origin": "null", "content-type": "application/x-www-form-urlencoded"},
        {"origin": "http://localhost:9999", "content-type": "application/x-www-form-urlencoded"},
        {"sec-fetch-site": "cross-site", "content-type": "application/x-www-form-urlencoded"},
    ],
)
async def test_a_cross_origin_form_post_is_refused_with_no_side_effect(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    form = "name=stolen&task_type=detection"
    async with served(_settings(tmp_path), host="localhost:8000") as http:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await http.request(method, "/projects", content=form, headers=headers)
            _assert_problem(response, 403, "cross_origin_refused")
        assert await _project_names(http) == []


@pytest.mark.parametrize("headers", [{}, {"origin": "http://localhost:8000"}, {"sec-fetch-site": "same-origin"}])
async def test_same_origin_and_program_requests_change_state(tmp_path: Path, headers: dict[str, str]) -> None:
    async with served(_settings(tmp_path), host="localhost:8000") as http:
        response = await http.post("/projects", json=PROJECT, headers=headers)
        assert response.status_code == 201, response.text
        assert await _project_names(http) == ["shapes"]


async def test_a_cross_origin_read_passes_the_guard(tmp_path: Path) -> None:
    """Reads change nothing; without CORS headers the browser keeps the answer from the other page."""
    async with served(_settings(tmp_path), host="localhost:8000") as http:
        response = await http.get("/projects", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# -- CORS -------------------------------------------------------------------------------------------------------
async def test_cors_headers_are_sent_only_to_configured_origins(tmp_path: Path) -> None:
    settings = _settings(tmp_path, cors_origins='["https://ui.example/"]')
    async with served(settings, host="localhost:8000") as http:
        allowed = await http.post("/projects", json=PROJECT, headers={"origin": "https://ui.example"})
        assert allowed.status_code == 201
        assert allowed.headers["access-control-allow-origin"] == "https://ui.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "x-request-id" in allowed.headers["access-control-expose-headers"]
        preflight = await http.options(
            "/projects",
            headers={"origin": "https://ui.example", "access-control-request-method": "DELETE",
                     "access-control-request-headers": "authorization, content-type"},
        )  # fmt: skip
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example"
        other = await http.get("/projects", headers={"origin": "https://other.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
        refused = await http.post("/projects", json=PROJECT, headers={"origin": "https://other.example"})
        _assert_problem(refused, 403, "cross_origin_refused")


async def test_cors_is_off_by_default(tmp_path: Path) -> None:
    async with served(_settings(tmp_path), host="localhost:8000") as http:
        preflight = await http.options(
            "/projects", headers={"origin": "https://ui.example", "access-control-request-method": "POST"}
        )
        assert "access-control-allow-origin" not in preflight.headers
        response = await http.get("/projects", headers={"origin": "https://ui.example"})
        assert "access-control-allow-origin" not in response.headers


# -- JSON body size ---------------------------------------------------------------------------------------------
LIMIT = 4096


def _project_with_description(size: int) -> bytes:
    body = json.dumps({**PROJECT, "description": ""}).encode()
    return body.replace(b'"description": ""', b'"description": "' + b"x" * (size - len(body)) + b'"')


async def test_a_json_body_over_the_limit_is_refused_by_its_length_and_nothing_is_stored(tmp_path: Path) -> None:
    async with served(_settings(tmp_path, max_json_body_bytes=LIMIT)) as http:
        body = _project_with_description(LIMIT + 1)
        response = await http.post("/projects", content=body, headers={"content-type": "application/json"})
        problem = _assert_problem(response, 413, "payload_too_large")
        assert (problem["limit_bytes"], problem["setting"]) == (LIMIT, "MODELYARD_MAX_JSON_BODY_BYTES")
        assert f"{LIMIT} bytes" in problem["detail"]
        assert await _project_names(http) == []
        at_limit = await http.post("/projects", content=_project_with_description(LIMIT), headers={
            "content-type": "application/json; charset=utf-8"})  # fmt: skip
        assert at_limit.status_code == 201, at_limit.text


async def test_a_chunked_json_body_is_counted_as_it_streams_and_refused_past_the_limit(tmp_path: Path) -> None:
    body = _project_with_description(LIMIT * 3)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            sent.append(start)
            yield body[start : start + 1024]

    async with served(_settings(tmp_path, max_json_body_bytes=LIMIT)) as http:
        response = await http.post("/projects", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in response.request.headers
        _assert_problem(response, 413, "payload_too_large")
        assert await _project_names(http) == []
    # Reading stopped just past the limit: the rest of the body was never asked for, let alone held.
    assert len(sent) <= LIMIT // 1024 + 1 < len(body) // 1024


async def test_file_uploads_keep_the_upload_limit_not_the_json_limit(tmp_path: Path) -> None:
    image = image_bytes(2, size=(64, 64), format="BMP")
    assert len(image) > 1024
    async with served(_settings(tmp_path, max_json_body_bytes=1024)) as http:
        await _create_project(http)
        files = [("files", ("big.bmp", image, "image/bmp"))]
        assert (await http.post("/projects/shapes/dataset/items", files=files)).status_code == 201


# -- health ------------------------------------------------------------------------------------------------------
async def test_health_shows_no_server_paths(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with served(settings) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    health = response.json()
    assert str(tmp_path) not in response.text and "modelyard.db" not in response.text
    assert set(health) == {"status", "version", "database", "storage", "jobs"}
    assert set(health["database"]) == {"dialect", "status", "revision", "up_to_date"}
    assert set(health["storage"]) == {"backend", "status", "total_bytes", "used_bytes", "free_bytes"}


# -- settings -----------------------------------------------------------------------------------------------------
def test_list_settings_read_json_or_comma_separated_names_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELYARD_ALLOWED_HOSTS", "models.example.com, 10.0.0.5")
    monkeypatch.setenv("MODELYARD_CORS_ORIGINS", '["https://UI.example:8443/"]')
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.allowed_hosts == ["models.example.com", "10.0.0.5"]
    assert settings.cors_origins == ["https://ui.example:8443"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cors_origins", ["*"], "name the origins"),
        ("cors_origins", ["ui.example"], "is not an origin"),
        ("cors_origins", ["https://ui.example/app"], "is not an origin"),
        ("allowed_hosts", ["https://models.example.com"], "is not a host name"),
    ],
)
def test_origins_and_host_names_that_cannot_match_are_refused_at_start(
    tmp_path: Path, field: str, value: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(tmp_path, **{field: value})


@pytest.mark.parametrize(
    "host", [b"[", b"[::1", b"[::1]x", b"a b", "évil.example".encode("latin-1"), b"", b"localhost:abc", b":8000"]
)
async def test_a_malformed_host_header_is_refused_not_a_server_error(tmp_path: Path, host: bytes) -> None:
    async with served(_settings(tmp_path)) as http:
        response = await http.get("/projects", headers={b"host": host})
    _assert_problem(response, 421, "host_not_allowed")
