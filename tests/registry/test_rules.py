"""The registry's rules hold whichever way a change comes in: registration with files is all or
nothing, archived models are read-only, versions in use change only with `force`, `updated_at`
follows every change, a bare name never means a version, and a deleted model's history stays."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.registry.files import register_with_files
from modelyard.registry.schemas import VersionCreate
from modelyard.registry.service import RegistryService
from modelyard.sdk import ApiError, Client
from modelyard.sdk.registry import Registry
from modelyard.storage.models import StoredFile
from modelyard.storage.service import FileService


def _registry_files(settings: Settings) -> list[Path]:
    return sorted(path for path in (settings.data_dir / "registry").rglob("*") if path.is_file())


# -- registration with files ----------------------------------------------------------------------
def test_a_refused_file_leaves_no_version_no_model_and_spends_no_number(
    registry: Registry, make_file, settings: Settings  # noqa: ANN001
) -> None:
    weights = make_file("model.pt", b"weights")
    with pytest.raises(ApiError) as refused:
        registry.register("m", create_model=True, files={"model.pt": weights, "../evil.pt": weights})

    assert refused.value.status == 400 and "'../evil.pt'" in refused.value.detail
    assert registry.list().items == []  # the model it would have created is gone with the version
    assert _registry_files(settings) == []
    version = registry.register("m", create_model=True, files={"model.pt": weights})
    assert version.number == 1 and [file.name for file in version.files] == ["model.pt"]


def test_names_that_make_one_file_the_folder_of_another_are_refused_not_failed(
    registry: Registry, make_file  # noqa: ANN001
) -> None:
    weights = make_file("w.bin", b"w")
    with pytest.raises(ApiError) as together:
        registry.register("m", create_model=True, files={"openvino": weights, "openvino/model.xml": weights})
    assert (together.value.status, together.value.code) == (400, "file_name_clash")

    registry.register("m", create_model=True, files={"openvino/model.xml": weights})
    with pytest.raises(ApiError) as later:
        registry.upload("m/1", weights, name="openvino")
    assert (later.value.status, later.value.code) == (400, "file_name_clash")
    assert [file.name for file in registry.files("m/1")] == ["openvino/model.xml"]


def test_the_upload_route_answers_malformed_forms_with_4xx(client: Client) -> None:
    route = "/registry/models/m/versions:upload"
    one_file = [("file", ("model.pt", b"w", "application/octet-stream"))]

    not_json = client._http.post(route, data={"version": "{not json", "file_name": "model.pt"}, files=one_file)
    unknown_field = client._http.post(route, data={"version": '{"colour": 1}', "file_name": "model.pt"}, files=one_file)
    two_names = client._http.post(route, data={"version": "{}", "file_name": ["a.pt", "b.pt"]}, files=one_file)

    assert (not_json.status_code, unknown_field.status_code, two_names.status_code) == (422, 422, 400)
    assert "colour" in unknown_field.text and "1 files and 2 file names" in two_names.json()["detail"]
    assert client.registry.list().items == []


def _failing_stream() -> Iterator[bytes]:
    """A source whose bytes stop with an I/O error part way, as a dying disk or client would."""
    yield b"partial bytes"
    raise OSError("the source went away")


def test_a_file_failing_while_stored_rolls_the_whole_registration_back(context: AppContext) -> None:
    request = VersionCreate(create_model=True, framework="pytorch")
    with pytest.raises(OSError, match="went away"), transaction(context.db.sessions) as session:
        service = RegistryService(session, FileService(session, context.store), "tester")
        register_with_files(service, "m", request, [("a.pt", io.BytesIO(b"first")), ("b.pt", _failing_stream())])

    with transaction(context.db.sessions) as session:
        service = RegistryService(session, FileService(session, context.store), "tester")
        assert service.models.get_by_name("m") is None
        assert session.scalars(select(StoredFile.key).where(StoredFile.key.startswith("registry/"))).all() == []
        assert _registry_files(context.settings) == []
        version = register_with_files(service, "m", request, [("a.pt", io.BytesIO(b"first"))])
        assert version.number == 1  # the failed attempt spent no number


def test_the_sdk_sends_a_dotted_file_name_as_given_for_the_server_to_refuse(
    registry: Registry, make_file, settings: Settings  # noqa: ANN001
) -> None:
    version = registry.register("m", create_model=True, files=[make_file("model.pt", b"w")])
    for name in ("../evil.pt", "..", "a/./b.pt"):
        with pytest.raises(ApiError) as refused:
            registry.upload("m/1", make_file("evil.pt", b"evil"), name=name)
        assert refused.value.status == 400, name
    assert [file.name for file in registry.files("m/1")] == ["model.pt"]
    assert _registry_files(settings) == [settings.data_dir / "registry" / "versions" / version.id / "model.pt"]


# -- archived models ------------------------------------------------------------------------------
def test_an_archived_model_takes_no_version_by_register_copy_or_transfer(registry: Registry) -> None:
    registry.register("source", create_model=True)
    registry.create("frozen")
    registry.archive("frozen")

    attempts = {
        "register": lambda: registry.register("frozen"),
        "copy": lambda: registry.copy("source/1", "frozen"),
        "transfer": lambda: registry.transfer("source/1", "frozen"),
    }
    for way, attempt in attempts.items():
        with pytest.raises(ApiError) as refused:
            attempt()
        assert refused.value.status == 409 and "is archived" in refused.value.detail, way
    assert registry.get("frozen").num_versions == 0
    assert registry.version("source/1").model == "source"  # the refused transfer moved nothing


def test_an_archived_model_is_read_only_until_unarchived_and_can_be_deleted_whole(
    registry: Registry, make_file, tmp_path: Path  # noqa: ANN001
) -> None:
    weights = make_file("model.pt", b"w")
    registry.register("m", create_model=True, files=[weights])
    registry.archive("m")

    changes = {
        "delete version": lambda: registry.delete_version("m/1"),
        "update version": lambda: registry.update_version("m/1", description="x"),
        "upload": lambda: registry.upload("m/1", weights, name="other.pt"),
        "delete file": lambda: registry.delete_file("m/1", "model.pt"),
        "alias": lambda: registry.set_alias("m", "production", 1),
        "stage": lambda: registry.stage("m/1", "production"),
        "model update": lambda: registry.update("m", description="x"),
    }
    for what, change in changes.items():
        with pytest.raises(ApiError) as refused:
            change()
        assert refused.value.status == 409 and "unarchive it first" in refused.value.detail, what
    assert registry.copy("m/1", "elsewhere", create_model=True).number == 1  # reading out is allowed
    assert [path.name for path in registry.download("m/1", tmp_path / "out")] == ["model.pt"]

    registry.delete("m")
    assert [model.name for model in registry.list().items] == ["elsewhere"]


# -- versions in use ------------------------------------------------------------------------------
def test_the_label_map_of_a_version_holding_an_alias_or_stage_changes_only_with_force(registry: Registry) -> None:
    registry.register("m", create_model=True, label_map={0: "cat", 1: "dog"})
    registry.register("m", label_map={0: "cat", 1: "dog"})
    registry.set_alias("m", "production", 1)
    registry.stage("m/2", "staging")

    with pytest.raises(ApiError) as by_alias:
        registry.update_version("m/1", set_labels={1: "wolf"})
    assert (by_alias.value.status, by_alias.value.code) == (409, "version_in_use")
    assert "@production" in by_alias.value.detail and by_alias.value.problem["aliases"] == ["production"]
    with pytest.raises(ApiError) as by_stage:
        registry.update_version("m/2", remove_labels=[0])
    assert by_stage.value.problem["stage"] == "staging" and "stage staging" in by_stage.value.detail
    assert registry.version("m/1").label_map == {0: "cat", 1: "dog"}

    assert registry.update_version("m/1", set_labels={1: "dog"}).label_map == {0: "cat", 1: "dog"}  # no change
    assert registry.update_version("m/1", description="still fine").description == "still fine"
    assert registry.update_version("m/1", set_labels={1: "wolf"}, force=True).label_map == {0: "cat", 1: "wolf"}
    registry.remove_alias("m", "production")
    assert registry.update_version("m/1", set_labels={2: "fox"}).label_map[2] == "fox"


def test_the_files_of_a_version_in_production_change_only_with_force(registry: Registry, make_file) -> None:  # noqa: ANN001
    weights = make_file("model.pt", b"v1")
    registry.register("m", create_model=True, files=[weights])
    registry.stage("m/1", "production")

    for change in (
        lambda: registry.upload("m/1", make_file("model.pt", b"v2")),
        lambda: registry.upload("m/1", weights, name="extra.pt"),
        lambda: registry.delete_file("m/1", "model.pt"),
    ):
        with pytest.raises(ApiError) as refused:
            change()
        assert refused.value.code == "version_in_use" and "stage production" in refused.value.detail
    assert [(file.name, file.size) for file in registry.files("m/1")] == [("model.pt", 2)]

    registry.upload("m/1", make_file("model.pt", b"v2!"), force=True)
    registry.delete_file("m/1", "model.pt", force=True)
    assert registry.files("m/1") == []


# -- updated_at -----------------------------------------------------------------------------------
def test_sorting_by_last_update_sees_every_kind_of_change(registry: Registry, make_file) -> None:  # noqa: ANN001
    for name in ("a", "b", "c"):
        registry.register(name, create_model=True, files=[make_file("model.pt", name.encode())])
    changes = [
        ("a", "file upload", lambda: registry.upload("a/1", make_file("extra.bin", b"x"))),
        ("b", "file delete", lambda: registry.delete_file("b/1", "model.pt")),
        ("c", "alias set", lambda: registry.set_alias("c", "champion", 1)),
        ("a", "stage change", lambda: registry.stage("a/1", "staging")),
        ("c", "alias removal", lambda: registry.remove_alias("c", "champion")),
        ("b", "label edit", lambda: registry.update_version("b/1", set_labels={0: "ok"})),
        ("a", "version tag edit", lambda: registry.update_version("a/1", set_tags={"k": "v"})),
        ("c", "metadata edit", lambda: registry.add_metadata("c", {"owner": "ana"})),
        ("b", "model tag edit", lambda: registry.update("b", set_tags={"team": "x"})),
    ]
    for name, kind, change in changes:
        version_before = registry.version(f"{name}/1").updated_at
        change()
        newest = registry.list(sort="last_updated_time", order="desc").items
        assert newest[0].name == name, kind
        if kind not in ("metadata edit", "model tag edit"):
            assert registry.version(f"{name}/1").updated_at > version_before, kind


# -- references and history -----------------------------------------------------------------------
@pytest.mark.parametrize("reference", ["m", "m/abc", "m/-1", "m/", "m@", "/1"])
def test_a_bare_or_malformed_reference_is_refused_with_400(registry: Registry, reference: str) -> None:
    registry.register("m", create_model=True)
    with pytest.raises(ApiError) as refused:
        registry.stage(reference, "production")
    assert refused.value.status == 400
    assert registry.version("m/1").stage.value == "none"


def test_the_history_of_a_deleted_model_is_read_by_its_name(client: Client) -> None:
    registry = client.registry
    registry.register("gone", create_model=True)
    registry.set_alias("gone", "production", 1)
    registry.delete("gone", comment="retired")

    history = registry.events("gone")
    assert [event.action for event in history.items] == [
        "model.created", "version.registered", "alias.set", "model.deleted",
    ]  # fmt: skip
    assert history.items[-1].comment == "retired"
    assert [event.action for event in registry.events("gone", action="alias.set").items] == ["alias.set"]
    with pytest.raises(ApiError) as never_existed:
        registry.events("never-existed")
    assert never_existed.value.status == 404
