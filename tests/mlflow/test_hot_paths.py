"""MLflow's hot calls, answered beside their routes: the same scopes as the routes declare, the same answers and
errors, and whatever is not plainly well-formed left to the route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelyard.app import create_app
from modelyard.auth.access import Scope
from modelyard.config import Settings
from modelyard.mlflow.hot_paths import hot_paths

pytestmark = pytest.mark.anyio
API = "/api/2.0/mlflow"
# The keys MLflow 3.17.2's own `mlflow server` (SQLite store, no auth) sent for a model created with only a name,
# and for a version created with a name and a source, neither with tags nor aliases (checked against it). Its
# server writes each answer with protobuf's MessageToDict, which leaves empty lists out; its registered model never
# carries `user_id` nor an empty description; a version keeps its empty description.
MLFLOW_BARE_MODEL_KEYS = {"name", "creation_timestamp", "last_updated_timestamp"}
MLFLOW_BARE_VERSION_KEYS = {
    "name", "version", "creation_timestamp", "last_updated_timestamp", "current_stage", "description", "source",
    "run_id", "run_link", "status",
}  # fmt: skip
# Where modelyard's version differs, on purpose: it names who made the version (MLflow's is unset, so left out),
# and a version registered without a run has no run_id (MLflow stores the request's missing run_id and run_link as
# empty strings and sends them back; it leaves both out for a version stored without them).
BARE_VERSION_KEYS = MLFLOW_BARE_VERSION_KEYS - {"run_id", "run_link"} | {"user_id"}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    """One migrated app for the module: each test names its own models."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("hot-paths") / "data", log_level="warning")
    served = create_app(settings, run_jobs=False, configure_logs=False)
    async with served.router.lifespan_context(served):
        yield served


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:8000{API}") as client:
        yield client


async def _registered(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    created = await http.post("/registered-models/create", json={"name": name})
    assert created.status_code == 200, created.text
    fields = {"name": name, "source": "s3://bucket/model", "tags": [{"key": "dataset", "value": "ds-1"}]}
    version = await http.post("/model-versions/create", json=fields)
    assert version.status_code == 200, version.text
    body: dict[str, Any] = version.json()["model_version"]
    return body


async def test_each_hot_path_needs_the_scope_its_route_declares(app: FastAPI) -> None:
    scopes = {path: (hot.method, hot.scope) for path, hot in hot_paths(app).items()}
    assert scopes[f"{API}/model-versions/create"] == ("POST", Scope.WRITE)
    assert scopes["/ajax-api/2.0/mlflow/registered-models/alias"] == ("GET", Scope.READ)
    assert {scope for _, scope in scopes.values()} == {Scope.READ, Scope.WRITE}
    assert len(scopes) == 12


async def test_a_created_version_reads_back_by_number_and_search(http: httpx.AsyncClient) -> None:
    created = await _registered(http, "read-back")
    by_number = await http.get("/model-versions/get", params={"name": "read-back", "version": "1"})
    found = await http.get("/model-versions/search", params={"filter": "name = 'read-back' AND tags.dataset = 'ds-1'"})
    assert (created["version"], created["source"], created["tags"]) == (
        "1", "s3://bucket/model", [{"key": "dataset", "value": "ds-1"}]
    )  # fmt: skip
    assert by_number.json()["model_version"] == created
    assert found.json() == {"model_versions": [created]}


async def test_an_unknown_model_is_mlflows_resource_does_not_exist(http: httpx.AsyncClient) -> None:
    answer = await http.get("/registered-models/alias", params={"name": "nothing", "alias": "production"})
    body = answer.json()
    assert (answer.status_code, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert body["request_id"] == answer.headers["x-request-id"]


async def test_a_missing_field_gets_the_routes_validation_error(http: httpx.AsyncClient) -> None:
    answer = await http.get("/registered-models/alias", params={"name": "read-back"})
    body = answer.json()
    assert (answer.status_code, body["error_code"], body["code"]) == (400, "INVALID_PARAMETER_VALUE",
                                                                      "validation_error")  # fmt: skip
    assert body["errors"][0]["field"] == "alias"


async def test_a_body_that_is_not_an_object_reaches_the_route_and_is_refused(http: httpx.AsyncClient) -> None:
    answer = await http.post("/model-versions/create", json=["refused"])
    versions = await http.get("/model-versions/search", params={"filter": "source_path = 'refused'"})
    assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert versions.json() == {}  # MLflow's server answers an empty search with no list at all


async def test_a_bare_model_and_version_carry_the_keys_mlflows_server_sends(http: httpx.AsyncClient) -> None:
    created = await http.post("/registered-models/create", json={"name": "bare"})
    model = created.json()["registered_model"]
    version = await http.post("/model-versions/create", json={"name": "bare", "source": "s3://bucket/bare"})
    read = await http.get("/model-versions/get", params={"name": "bare", "version": "1"})
    found = await http.get("/model-versions/search", params={"filter": "name = 'bare'"})
    read_model = await http.get("/registered-models/get", params={"name": "bare"})
    found_models = await http.get("/registered-models/search", params={"filter": "name = 'bare'"})
    assert set(model) == MLFLOW_BARE_MODEL_KEYS
    assert set(version.json()["model_version"]) == BARE_VERSION_KEYS
    assert set(read.json()["model_version"]) == BARE_VERSION_KEYS
    assert [set(item) for item in found.json()["model_versions"]] == [BARE_VERSION_KEYS]
    for answer in (read_model.json()["registered_model"], found_models.json()["registered_models"][0]):
        assert set(answer) == MLFLOW_BARE_MODEL_KEYS | {"latest_versions"}
        assert [set(item) for item in answer["latest_versions"]] == [BARE_VERSION_KEYS]
