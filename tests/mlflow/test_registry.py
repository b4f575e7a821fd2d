"""MLflow's client against a real `modelyard serve`: the model registry, one model of the world with modelyard's."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mlflow.conftest import MlflowServer

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # MLflow calls its stage API deprecated


def rest_error(call: Any) -> Any:
    from mlflow.exceptions import RestException

    with pytest.raises(RestException) as raised:
        call()
    return raised.value


def test_registered_model_create_get_rename_update_tags_and_delete(mlflow_client: Any) -> None:
    created = mlflow_client.create_registered_model("lifecycle", tags={"team": "vision"}, description="cats")
    assert (created.name, created.description, created.tags) == ("lifecycle", "cats", {"team": "vision"})
    mlflow_client.rename_registered_model("lifecycle", "lifecycle-renamed")
    mlflow_client.update_registered_model("lifecycle-renamed", description="cats and dogs")
    mlflow_client.set_registered_model_tag("lifecycle-renamed", "owner", "ana")
    mlflow_client.delete_registered_model_tag("lifecycle-renamed", "team")
    model = mlflow_client.get_registered_model("lifecycle-renamed")
    assert (model.name, model.description, model.tags) == ("lifecycle-renamed", "cats and dogs", {"owner": "ana"})
    mlflow_client.delete_registered_model("lifecycle-renamed")
    assert rest_error(lambda: mlflow_client.get_registered_model("lifecycle-renamed")).error_code == (
        "RESOURCE_DOES_NOT_EXIST"
    )


def test_fields_left_out_when_empty_read_as_empty_through_the_client(mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("sparse")
    mlflow_client.create_model_version("sparse", "s3://bucket/sparse")
    model = mlflow_client.get_registered_model("sparse")
    found = mlflow_client.search_registered_models("name = 'sparse'")
    version = mlflow_client.get_model_version("sparse", "1")
    assert (model.description, model.tags, model.aliases, [item.version for item in model.latest_versions]) == (
        "", {}, {}, ["1"]
    )  # fmt: skip
    assert [(item.name, item.description, item.tags, item.aliases) for item in found] == [("sparse", "", {}, {})]
    assert (version.description, version.tags, version.aliases, version.run_id, version.user_id) == (
        "", {}, [], None, "local"
    )  # fmt: skip
    assert list(mlflow_client.search_model_versions("name = 'nothing-here'")) == []
    assert list(mlflow_client.search_registered_models("name = 'nothing-here'")) == []
    assert mlflow_client.get_latest_versions("sparse", stages=["Production"]) == []


def test_versions_create_get_update_tags_delete_and_download_uri(mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("versions")
    first = mlflow_client.create_model_version("versions", "s3://bucket/model", run_id="r" * 32,
                                               tags={"data": "v1"}, description="first")  # fmt: skip
    second = mlflow_client.create_model_version("versions", "s3://bucket/model2")
    assert (first.version, second.version, first.source, first.run_id, first.status) == (
        "1", "2", "s3://bucket/model", "r" * 32, "READY"
    )  # fmt: skip
    mlflow_client.update_model_version("versions", "1", description="first, reviewed")
    mlflow_client.set_model_version_tag("versions", "1", "reviewed", "yes")
    mlflow_client.delete_model_version_tag("versions", "1", "data")
    read = mlflow_client.get_model_version("versions", "1")
    assert (read.description, read.tags) == ("first, reviewed", {"reviewed": "yes"})
    uri = mlflow_client.get_model_version_download_uri("versions", "1")
    assert uri.startswith("mlflow-artifacts:/registry/versions/")
    mlflow_client.delete_model_version("versions", "2")
    third = mlflow_client.create_model_version("versions", "s3://bucket/model3")
    assert third.version == "3"  # numbers are never reused
    error = rest_error(lambda: mlflow_client.get_model_version("versions", "2"))
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_aliases_set_get_move_and_delete(mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("aliased")
    for _ in range(2):
        mlflow_client.create_model_version("aliased", "s3://bucket/m")
    mlflow_client.set_registered_model_alias("aliased", "champion", "1")
    assert mlflow_client.get_model_version_by_alias("aliased", "champion").version == "1"
    mlflow_client.set_registered_model_alias("aliased", "champion", "2")
    moved = mlflow_client.get_model_version_by_alias("aliased", "champion")
    assert (moved.version, moved.aliases) == ("2", ["champion"])
    assert mlflow_client.get_registered_model("aliased").aliases == {"champion": "2"}
    mlflow_client.delete_registered_model_alias("aliased", "champion")
    error = rest_error(lambda: mlflow_client.get_model_version_by_alias("aliased", "champion"))
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_transition_with_archive_existing_versions_and_latest_versions(mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("staged")
    for _ in range(3):
        mlflow_client.create_model_version("staged", "s3://bucket/m")
    mlflow_client.transition_model_version_stage("staged", "1", "Production")
    mlflow_client.transition_model_version_stage("staged", "2", "staging")
    moved = mlflow_client.transition_model_version_stage("staged", "2", "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert mlflow_client.get_model_version("staged", "1").current_stage == "Archived"
    latest = {version.current_stage: version.version for version in mlflow_client.get_latest_versions("staged")}
    assert latest == {"None": "3", "Production": "2", "Archived": "1"}
    assert [v.version for v in mlflow_client.get_latest_versions("staged", ["Production"])] == ["2"]
    error = rest_error(lambda: mlflow_client.transition_model_version_stage("staged", "3", "Shipping"))
    assert (error.error_code, "stage 'Shipping' is not valid" in error.message) == ("INVALID_PARAMETER_VALUE", True)


def test_search_model_versions_filters_order_and_pages(mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("searched")
    for index in range(7):
        mlflow_client.create_model_version("searched", f"s3://bucket/{index}", tags={"parity": str(index % 2)})
    even = mlflow_client.search_model_versions("name = 'searched' AND tags.parity = '0'", order_by=["version_number"])
    assert [version.version for version in even] == ["1", "3", "5", "7"]
    newest = mlflow_client.search_model_versions("name='searched' AND version_number > 4")
    assert [version.version for version in newest] == ["7", "6", "5"]  # default: version_number DESC
    pages, token = [], None
    while True:
        page = mlflow_client.search_model_versions("name = 'searched'", max_results=3, page_token=token,
                                                   order_by=["version_number ASC"])  # fmt: skip
        pages.append([version.version for version in page])
        token = page.token
        if not token:
            break
    assert pages == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
    liked = mlflow_client.search_model_versions("name LIKE 'searc%' AND source_path = 's3://bucket/6'")
    assert [version.version for version in liked] == ["7"]
    mlflow_client.transition_model_version_stage("searched", "3", "Staging")
    staged = mlflow_client.search_model_versions(
        "name = 'searched' AND version_number = 3 AND current_stage = 'Staging'"
    )
    assert [(version.version, version.current_stage) for version in staged] == [("3", "Staging")]


def test_search_registered_models_filters_order_and_pages(mlflow_client: Any) -> None:
    for name in ("zoo-a", "zoo-b", "zoo-c", "zoo-d"):
        mlflow_client.create_registered_model(name, tags={"zoo": "yes", "letter": name[-1]})
    found = mlflow_client.search_registered_models("name LIKE 'zoo-%' AND tags.letter != 'b'", order_by=["name DESC"])
    assert [model.name for model in found] == ["zoo-d", "zoo-c", "zoo-a"]
    first = mlflow_client.search_registered_models("tags.zoo = 'yes'", max_results=3)
    second = mlflow_client.search_registered_models("tags.zoo = 'yes'", max_results=3, page_token=first.token)
    assert ([m.name for m in first], [m.name for m in second], second.token) == (
        ["zoo-a", "zoo-b", "zoo-c"], ["zoo-d"], ""
    )  # fmt: skip
    assert [m.name for m in mlflow_client.search_registered_models("name ILIKE 'ZOO-A'")] == ["zoo-a"]


def test_unsupported_filters_are_invalid_parameter_values_naming_the_clause(mlflow_client: Any) -> None:
    error = rest_error(lambda: mlflow_client.search_model_versions("name = 'a' OR name = 'b'"))
    assert (error.error_code, "unsupported filter clause `OR name = 'b'`" in error.message) == (
        "INVALID_PARAMETER_VALUE", True
    )  # fmt: skip
    error = rest_error(lambda: mlflow_client.search_registered_models("params.lr = '0.1'"))
    assert "unsupported filter clause `params.lr = '0.1'`" in error.message
    error = rest_error(lambda: mlflow_client.search_model_versions("version_number LIKE '1%'"))
    assert "unsupported filter clause `version_number LIKE '1%'`" in error.message


def test_errors_have_mlflow_codes_and_statuses(mlflow_server: MlflowServer, mlflow_client: Any) -> None:
    base = f"{mlflow_server.url}/api/2.0/mlflow"
    missing = httpx.get(f"{base}/registered-models/get", params={"name": "absent"})
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    mlflow_client.create_registered_model("twice")
    again = httpx.post(f"{base}/registered-models/create", json={"name": "twice"})
    assert (again.status_code, again.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    no_name = httpx.post(f"{base}/registered-models/create", json={})
    assert (no_name.status_code, no_name.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    bad_name = httpx.post(f"{base}/registered-models/create", json={"name": "has space"})
    assert (bad_name.status_code, bad_name.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    no_route = httpx.get(f"{base}/registered-models/nothing-here")
    assert (no_route.status_code, no_route.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    ajax = httpx.get(f"{mlflow_server.url}/ajax-api/2.0/mlflow/registered-models/get", params={"name": "twice"})
    assert ajax.json()["registered_model"]["name"] == "twice"


def test_fifty_concurrent_create_model_version_calls_are_numbered_1_to_50(mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("concurrent")
    with ThreadPoolExecutor(max_workers=16) as pool:
        created = list(pool.map(lambda _: mlflow_client.create_model_version("concurrent", "s3://b/m"), range(50)))
    assert sorted(int(version.version) for version in created) == list(range(1, 51))


def test_modelyard_registry_features_read_back_through_mlflow(mlflow_server: MlflowServer, mlflow_client: Any,
                                                               tmp_path: Path) -> None:  # fmt: skip
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights")
    with mlflow_server.sdk() as sdk:
        sdk.registry.create("native", description="made natively", tags={"team": "edge"})
        sdk.registry.register("native", files=[weights], description="v1", tags={"data": "d1"})
        sdk.registry.set_alias("native", "production", 1)
        sdk.registry.stage("native/1", "staging")
    model = mlflow_client.get_registered_model("native")
    assert (model.description, model.tags, model.aliases) == ("made natively", {"team": "edge"}, {"production": "1"})
    version = mlflow_client.get_model_version_by_alias("native", "production")
    assert (version.description, version.tags, version.current_stage) == ("v1", {"data": "d1"}, "Staging")


def test_mlflow_writes_read_back_through_the_sdk(mlflow_server: MlflowServer, mlflow_client: Any) -> None:
    mlflow_client.create_registered_model("from-mlflow", tags={"team": "ml"}, description="by mlflow")
    mlflow_client.create_model_version("from-mlflow", "s3://bucket/m", tags={"k": "v"}, description="one")
    mlflow_client.set_registered_model_alias("from-mlflow", "candidate", "1")
    mlflow_client.transition_model_version_stage("from-mlflow", "1", "Production")
    with mlflow_server.sdk() as sdk:
        model = sdk.registry.get("from-mlflow")
        version = sdk.registry.version("from-mlflow@candidate")
        events = [event.action for event in sdk.registry.events("from-mlflow").items]
    assert (model.description, model.tags) == ("by mlflow", {"team": "ml"})
    assert (version.number, version.description, version.tags, version.stage) == (1, "one", {"k": "v"}, "production")
    assert version.source["mlflow_uri"] == "s3://bucket/m"
    assert events == ["model.created", "version.registered", "alias.set", "version.stage_changed"]


def test_a_models_uri_source_links_the_files_of_that_version(mlflow_server: MlflowServer, mlflow_client: Any,
                                                             tmp_path: Path) -> None:  # fmt: skip
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"the weights")
    with mlflow_server.sdk() as sdk:
        sdk.registry.create("origin")
        sdk.registry.register("origin", files=[weights])
        sdk.registry.set_alias("origin", "best", 1)
    mlflow_client.create_registered_model("derived")
    mlflow_client.create_model_version("derived", "models:/origin@best")
    with mlflow_server.sdk() as sdk:
        files = sdk.registry.files("derived/1")
    assert [(file.name, file.sha256) for file in files] == [("model.pt", hashlib.sha256(b"the weights").hexdigest())]
