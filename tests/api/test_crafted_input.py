"""Crafted requests get a 4xx problem naming what was wrong, never a 500 (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.config import Settings
from modelyard.sdk import Client


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    return response.json()


@pytest.fixture
def filled(client: Client) -> Client:
    """One of everything that a list shows: a project and a registered model with a version."""
    client.projects.create("p", "multiclass_classification")
    client.registry.create("m")
    client.registry.register("m", metrics={"acc": 0.5})
    return client


LISTS = [
    "/projects",
    "/projects/p/dataset/items",
    "/projects/p/models",
    "/jobs",
    "/files",
    "/registry/models",
    "/registry/models?sort=num_versions",
    "/registry/models/m/versions",
    "/registry/versions",
    "/registry/versions?metric=acc>=0.1",
    "/registry/models/m/events",
    "/registry/events",
]


def _every_list_refuses(client: Client, cursor: str) -> None:
    answers = {}
    for path in LISTS:
        response = client._http.get(path, params={"cursor": cursor})
        answers[path] = (response.status_code, response.json().get("code"))
    assert answers == dict.fromkeys(LISTS, (400, "invalid_cursor"))


def test_a_cursor_holding_a_dict_is_refused_by_every_list(filled: Client) -> None:
    _every_list_refuses(filled, _cursor({"v": {"a": 1}, "id": {"b": 2}}))


def test_a_cursor_holding_a_list_is_refused_by_every_list(filled: Client) -> None:
    _every_list_refuses(filled, _cursor({"v": [1, 2], "id": [3]}))


def test_a_cursor_holding_a_huge_number_is_refused_by_every_list(filled: Client) -> None:
    _every_list_refuses(filled, _cursor({"v": 10**20, "id": 10**20}))


def test_a_cursor_holding_null_is_refused_by_every_list(filled: Client) -> None:
    _every_list_refuses(filled, _cursor({"v": None, "id": None}))


def test_a_cursor_holding_a_time_before_year_one_in_utc_is_refused(filled: Client) -> None:
    response = filled._http.get("/jobs", params={"cursor": _cursor({"t": "0001-01-01T00:00:00+14:00", "id": "x"})})
    _problem(response, 400, "invalid_cursor")


def test_a_revision_cursor_that_is_not_an_ascii_offset_is_refused(filled: Client) -> None:
    # The cursor is checked before the revision is looked up, so no revision is needed here.
    response = filled._http.get("/projects/p/dataset/revisions/latest/items", params={"cursor": "²"})
    _problem(response, 400, "invalid_cursor")


def test_a_version_number_past_64_bits_is_not_found(filled: Client) -> None:
    response = filled._http.get("/registry/models/m/versions/99999999999999999999")
    assert "2**63" in _problem(response, 404, "not_found")["detail"]


def test_a_unicode_digit_is_not_a_version_number(filled: Client) -> None:
    response = filled._http.get("/registry/models/m/versions/²")
    _problem(response, 400, "invalid_input")


@pytest.mark.parametrize("version", ["1e20", "99999999999999999999"])
def test_a_version_filter_past_64_bits_is_a_422(filled: Client, version: str) -> None:
    for path in ("/registry/events", "/registry/models/m/events"):
        response = filled._http.get(path, params={"version": version})
        assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "version"


def test_an_alias_put_past_64_bits_is_a_422(filled: Client) -> None:
    response = filled._http.put("/registry/models/m/aliases/champion", json={"version": 10**20})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "version"


def test_an_expected_version_past_64_bits_is_a_422(filled: Client) -> None:
    response = filled._http.put(
        "/registry/models/m/aliases/champion", json={"version": 1, "expected_version": 10**20}
    )
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "expected_version"


def test_a_dataset_revision_number_past_64_bits_is_not_found(filled: Client) -> None:
    response = filled._http.get("/projects/p/dataset/revisions/99999999999999999999")
    assert "99999999999999999999" in _problem(response, 404, "not_found")["detail"]


def test_a_metric_filter_with_a_malformed_number_names_the_filter(filled: Client) -> None:
    response = filled._http.get("/registry/versions", params={"metric": "acc>=1.2.3"})
    assert "acc>=1.2.3" in _problem(response, 400, "invalid_metric_filter")["detail"]


def test_a_time_that_utc_cannot_hold_is_a_422(filled: Client) -> None:
    response = filled._http.get("/projects/p/dataset/items", params={"uploaded_after": "0001-01-01T00:00:00+14:00"})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "uploaded_after"


def test_a_lone_surrogate_in_a_description_is_a_422(filled: Client) -> None:
    body = '{"name": "q", "task_type": "detection", "description": "bad \\ud800 text"}'
    response = filled._http.post("/projects", content=body, headers={"content-type": "application/json"})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "description"
    assert [p.name for p in filled.projects.list().items] == ["p"]


def test_a_nul_in_a_model_description_is_a_422(filled: Client) -> None:
    response = filled._http.patch("/registry/models/m", json={"description": "a\x00b"})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "description"
    assert filled.registry.get("m").description == ""


def test_a_nul_in_a_version_name_is_a_422(filled: Client) -> None:
    response = filled._http.patch("/registry/models/m/versions/1", json={"name": "v\x001"})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "name"


def test_a_nul_in_a_label_name_is_a_422(filled: Client) -> None:
    response = filled._http.post("/projects/p/labels", json={"name": "cat\x00"})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"] == "name"


def _stored_keys(client: Client) -> list[str]:
    return sorted(item["key"] for item in client._http.get("/files", params={"limit": 1000}).json()["items"])


def _blobs(settings: Settings) -> list[Path]:
    return sorted(path for path in (settings.data_dir / ".blobs").rglob("*") if path.is_file())


def test_a_nul_in_an_uploaded_file_name_is_refused_and_stores_nothing(filled: Client, settings: Settings) -> None:
    before = _stored_keys(filled), _blobs(settings)
    response = filled._http.put("/registry/models/m/versions/1/files/a%00b.pt", files={"file": ("x", b"weights")})
    assert "control" in _problem(response, 400, "invalid_input")["detail"]
    assert (_stored_keys(filled), _blobs(settings)) == before


def test_a_file_name_past_the_file_system_limit_is_refused_and_stores_nothing(
    filled: Client, settings: Settings
) -> None:
    before = _stored_keys(filled), _blobs(settings)
    response = filled._http.put(f"/registry/models/m/versions/1/files/{'n' * 230}", files={"file": ("x", b"weights")})
    assert "200 bytes" in _problem(response, 400, "file_name_too_long")["detail"]
    assert (_stored_keys(filled), _blobs(settings)) == before


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ({"n" * 300 + ".jpg": b"x"}, "over 200 bytes"),
        ({"a": b"x", "a/b.jpg": b"y"}, "cannot be unpacked"),  # the file system's error, which names its path
    ],
    ids=["long-member-name", "member-under-a-file"],
)
def test_an_unpackable_upload_is_a_400_that_shows_no_server_path(
    filled: Client, settings: Settings, entries: dict[str, bytes], words: str
) -> None:
    for file_name in ("images.zip", "."):
        response = filled._http.post("/projects/p/dataset/items", files=[("files", (file_name, _zip(entries)))])
        detail = _problem(response, 400, "unsafe_archive")["detail"]
        assert words in detail
        assert str(settings.data_dir) not in response.text and ".tmp" not in response.text
        assert detail.startswith("images.zip: " if file_name == "images.zip" else "file-0: ")


def test_a_nul_in_a_tag_value_is_a_422(filled: Client) -> None:
    response = filled._http.patch("/registry/models/m", json={"set_tags": {"team": "a\x00"}})
    assert _problem(response, 422, "validation_error")["errors"][0]["field"].startswith("set_tags")
    assert filled.registry.get("m").tags == {}
