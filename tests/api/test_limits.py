"""Limits of what a request may store, and the names it may give: each refusal is a 4xx problem naming the
limit and its setting (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import update

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.kit.limits import CUT_MARKER, SHOWN_DEPTH
from modelyard.registry.models import RegisteredModel, RegistryEvent
from modelyard.sdk import ApiError, Client


def _nested(depth: int) -> dict[str, Any]:
    """A JSON object nested `depth` levels deep: {"a": {"a": ... {} ...}}."""
    document: dict[str, Any] = {}
    for _ in range(depth - 1):
        document = {"a": document}
    return document


def _refused(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


@pytest.mark.parametrize("depth", [21, 255, 900])
def test_metadata_nested_past_the_limit_is_refused_at_create(client: Client, depth: int) -> None:
    response = client._http.post("/registry/models", json={"name": "m", "metadata": _nested(depth)})
    _refused(response, 422, "metadata", "the limit is 20 (MODELYARD_MAX_JSON_DEPTH)")
    assert client._http.get("/registry/models").json()["items"] == []
    assert client._http.get("/registry/events").status_code == 200


def test_metadata_at_the_depth_limit_is_stored(client: Client) -> None:
    created = client._http.post("/registry/models", json={"name": "m", "metadata": _nested(20)})
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == _nested(20)


def test_metadata_past_the_size_limit_is_refused(client: Client) -> None:
    response = client._http.post("/registry/models", json={"name": "m", "metadata": {"blob": "x" * 70_000}})
    _refused(response, 422, "metadata has 70011 bytes as JSON", "65536 (MODELYARD_MAX_JSON_VALUE_BYTES)")


def test_metadata_patches_cannot_add_up_past_the_size_limit(client: Client) -> None:
    client.registry.create("m")
    for key in ("a", "b"):
        response = client._http.patch("/registry/models/m", json={"add_metadata": {key: "x" * 40_000}})
    body = _refused(response, 400, "MODELYARD_MAX_JSON_VALUE_BYTES")
    assert body["code"] == "limit_exceeded"
    assert list(client.registry.get("m").metadata) == ["a"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/registry/models/m/versions", {"parameters": _nested(25)}, "parameters"),
        ("/registry/models/m/versions", {"description": "d" * 70_000}, "description"),
        ("/projects", {"name": "q", "task_type": "detection", "description": "d" * 70_000}, "description"),
        ("/projects/p/models:train", {"architecture": "x", "overrides": _nested(25)}, "overrides"),
    ],
    ids=["version-parameters", "version-description", "project-description", "train-overrides"],
)
def test_every_document_field_is_bounded(filled: Client, path: str, body: dict[str, Any], field: str) -> None:
    response = filled._http.post(path, json=body)
    problem = _refused(response, 422, "MODELYARD_MAX_JSON")
    assert problem["errors"][0]["field"] == field


def test_a_setting_raises_a_limit(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, max_json_depth=30)
    with Client(settings=settings) as client:
        created = client._http.post("/registry/models", json={"name": "m", "metadata": _nested(25)})
        assert created.status_code == 201, created.text


def test_too_many_tags_are_refused_naming_the_setting(client: Client) -> None:
    tags = {f"t{index}": "v" for index in range(101)}
    response = client._http.post("/registry/models", json={"name": "m", "tags": tags})
    _refused(response, 422, "tags has 101 tags; the limit is 100 (MODELYARD_MAX_TAGS)")


def test_tags_set_one_request_at_a_time_stop_at_the_limit(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, max_tags=2)
    with Client(settings=settings) as client:
        client.registry.create("m", tags={"a": "1", "b": "2"})
        response = client._http.patch("/registry/models/m", json={"set_tags": {"c": "3"}})
        _refused(response, 400, "the limit is 2 (MODELYARD_MAX_TAGS)")
        assert client.registry.get("m").tags == {"a": "1", "b": "2"}


def test_labels_added_one_at_a_time_stop_at_the_limit(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, max_labels=2)
    with Client(settings=settings) as client:
        client.projects.create("p", "detection", labels=["a", "b"])
        response = client._http.post("/projects/p/labels", json={"name": "c"})
        _refused(response, 400, "project 'p' has 2 labels; the limit is 2 (MODELYARD_MAX_LABELS)")
        too_many = client._http.post("/projects", json={"name": "q", "task_type": "detection",
                                                        "labels": ["a", "b", "c"]})  # fmt: skip
        _refused(too_many, 422, "MODELYARD_MAX_LABELS")


def test_files_past_the_limit_of_a_version_are_refused_before_storing(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, max_files_per_version=1)
    with Client(settings=settings) as client:
        client.registry.create("m")
        client.registry.register("m")
        path = "/registry/models/m/versions/1/files"
        assert client._http.put(f"{path}/a.pt", files={"file": ("a", b"one")}).status_code == 200
        assert client._http.put(f"{path}/a.pt", files={"file": ("a", b"two")}).status_code == 200  # a replacement
        response = client._http.put(f"{path}/b.pt", files={"file": ("b", b"three")})
        _refused(response, 400, "has 1 files; the limit is 1 (MODELYARD_MAX_FILES_PER_VERSION)")
        assert [file.name for file in client.registry.files("m/1")] == ["a.pt"]
        keys = [item["key"] for item in client._http.get("/files").json()["items"]]
        assert not any(key.endswith("/b.pt") for key in keys)
        (tmp_path / "c.pt").write_bytes(b"c")
        (tmp_path / "d.pt").write_bytes(b"d")
        with pytest.raises(ApiError, match="the version has 2 files; the limit is 1"):
            client.registry.register("m", files=[tmp_path / "c.pt", tmp_path / "d.pt"])
        assert [version.number for version in client.registry.versions("m").items] == [1]


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("circle\u200b", "U+200B"),
        ("\u202ecircle", "U+202E"),
        ("cir\x1bcle", "U+001B"),
        (" circle", "starts or ends with a space"),
        ("circle ", "starts or ends with a space"),
        ("c" * 257, "the limit is 256 (MODELYARD_MAX_NAME_LENGTH)"),
    ],
    ids=["zero-width-space", "right-to-left-override", "escape", "leading-space", "trailing-space", "long"],
)
def test_a_label_name_that_could_pass_for_another_is_refused(filled: Client, name: str, words: str) -> None:
    response = filled._http.post("/projects/p/labels", json={"name": name})
    assert _refused(response, 422, words)["errors"][0]["field"] == "name"
    assert [label.name for label in filled.projects.get("p").labels] == []


def test_a_label_name_is_stored_in_nfc_so_two_spellings_are_one_name(filled: Client) -> None:
    composed = filled._http.post("/projects/p/labels", json={"name": "caf\u00e9"})
    assert composed.status_code == 201, composed.text
    decomposed = filled._http.post("/projects/p/labels", json={"name": "cafe\u0301"})
    assert decomposed.status_code == 409, decomposed.text


@pytest.mark.parametrize(
    "alias", ["a" * 10_000, "cham\x00pion", " champion", "123", "champ\u200bion"], ids=["long", "nul", "space",
                                                                                      "digits", "zero-width"]
)  # fmt: skip
def test_an_alias_name_outside_the_design_is_refused(filled: Client, alias: str) -> None:
    response = filled._http.put(f"/registry/models/m/aliases/{quote(alias)}", json={"version": 1})
    assert response.status_code == 422, response.text
    assert filled.registry.aliases("m") == {}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/registry/models", {"name": "m2", "tags": {"team\u200b": "a"}}),
        ("/registry/models", {"name": "m2", "labels": ["cat\u200b"]}),
        ("/registry/models/m/versions", {"metrics": {"acc\u200b": 0.5}}),
        ("/registry/models/m/versions", {"label_map": {"0": " cat"}}),
        ("/projects", {"name": "q ", "task_type": "detection"}),
        ("/projects/p/models:train", {"architecture": "x", "name": "r\u200b"}),
    ],
    ids=["tag-key", "model-label", "metric-name", "label-map", "project", "revision"],
)
def test_every_name_field_is_checked(filled: Client, path: str, body: dict[str, Any]) -> None:
    response = filled._http.post(path, json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("file_name", "words"),
    [("model\u200b.pt", "unprintable"), ("dir /model.pt", "starts or ends with a space"), ("x" * 201, "200 bytes")],
    ids=["zero-width", "space", "long"],
)
def test_a_file_name_that_could_pass_for_another_is_refused(filled: Client, file_name: str, words: str) -> None:
    response = filled._http.put(f"/registry/models/m/versions/1/files/{quote(file_name)}",
                                files={"file": ("x", b"w")})  # fmt: skip
    _refused(response, 400, words)
    assert filled.registry.files("m/1") == []


def test_a_file_name_is_stored_in_nfc_and_found_by_either_spelling(filled: Client) -> None:
    decomposed = quote("cafe\u0301.pt")
    upload = filled._http.put(f"/registry/models/m/versions/1/files/{decomposed}", files={"file": ("x", b"w")})
    assert upload.json()["name"] == "caf\u00e9.pt"
    download = filled._http.get(f"/registry/models/m/versions/1/files/{decomposed}")
    assert (download.status_code, download.content) == (200, b"w")


# -- a document stored before the limits -----------------------------------------------------------
@pytest.fixture
def deep_model(filled: Client, settings: Settings) -> Iterator[Client]:
    """Model `m` and its creation event holding metadata 300 levels deep, as stored before the limits."""
    context = AppContext(settings)
    try:
        with transaction(context.db.sessions) as session:
            session.execute(update(RegisteredModel).values(model_metadata=_nested(300)))
            session.execute(update(RegistryEvent).values(after={"metadata": _nested(300)}))
    finally:
        context.close()
    yield filled


def test_a_deep_stored_document_is_cut_when_read_never_a_500(deep_model: Client) -> None:
    for path in ("/registry/events", "/registry/models/m/events", "/registry/models", "/registry/models/m"):
        response = deep_model._http.get(path)
        assert response.status_code == 200, (path, response.text[-300:])
        assert CUT_MARKER in response.text, path
    shown = deep_model._http.get("/registry/models/m").json()["metadata"]
    depth = 0
    while isinstance(shown, dict):
        shown, depth = shown["a"], depth + 1
    assert (shown, depth) == (CUT_MARKER, SHOWN_DEPTH)


@pytest.fixture
def filled(client: Client) -> Client:
    client.projects.create("p", "multiclass_classification")
    client.registry.create("m")
    client.registry.register("m")
    return client
