"""The registry searches' SQL on SQLite and PostgreSQL: case-sensitive LIKE (GLOB on SQLite), ILIKE, `!=` on tags,
the source document's run id, keyset pages and latest versions per stage, through MLflow's paths in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.sdk.transport import InProcessTransport


@pytest.fixture
def http(settings: Settings) -> Iterator[httpx.Client]:
    app = create_app(settings, run_jobs=False, configure_logs=False)
    transport = InProcessTransport(app)
    with httpx.Client(transport=transport, base_url="http://127.0.0.1/api/2.0/mlflow") as client:
        yield client
    transport.close()


def names(answer: httpx.Response, key: str, field: str = "name") -> list[Any]:
    assert answer.status_code == 200, answer.text
    return [item[field] for item in answer.json().get(key, [])]


def test_searches_answer_alike_on_both_databases(http: httpx.Client) -> None:
    for name in ("Alpha", "alpine", "beta"):
        http.post("/registered-models/create", json={"name": name, "tags": [{"key": "kind", "value": name[:2]}]})
    for run_id in ("r1", "r2", "r3"):
        http.post("/model-versions/create", json={"name": "beta", "source": f"s3://b/{run_id}", "run_id": run_id})
    http.post("/model-versions/transition-stage", json={"name": "beta", "version": "2", "stage": "Production"})
    search = "/registered-models/search"
    assert names(http.get(search, params={"filter": "name LIKE 'Al%'"}), "registered_models") == ["Alpha"]
    assert names(http.get(search, params={"filter": "name ILIKE 'al%'"}), "registered_models") == ["Alpha", "alpine"]
    assert names(http.get(search, params={"filter": "tags.kind != 'Al'"}), "registered_models") == ["alpine", "beta"]
    first = http.get(search, params={"max_results": 2, "order_by": "name DESC"}).json()
    rest = http.get(search, params={"max_results": 2, "order_by": "name DESC", "page_token": first["next_page_token"]})
    assert [model["name"] for model in first["registered_models"]] + names(rest, "registered_models") == [
        "beta", "alpine", "Alpha"
    ]  # fmt: skip
    beta = http.get("/registered-models/get", params={"name": "beta"}).json()["registered_model"]
    assert {version["current_stage"]: version["version"] for version in beta["latest_versions"]} == {
        "None": "3", "Production": "2"
    }  # fmt: skip
    versions = http.get("/model-versions/search", params={"filter": "run_id IN ('r1', 'r3')"})
    assert names(versions, "model_versions", "version") == ["3", "1"]


def test_pages_ordered_by_time_continue_where_the_last_one_ended(http: httpx.Client) -> None:
    http.post("/registered-models/create", json={"name": "timed"})
    for index in range(4):
        http.post("/model-versions/create", json={"name": "timed", "source": f"s3://t/{index}"})
    touched = http.patch("/model-versions/update", json={"name": "timed", "version": "2", "description": "touched"})
    assert touched.status_code == 200, touched.text
    for order in ("creation_timestamp DESC", "last_updated_timestamp ASC"):
        params: dict[str, Any] = {"filter": "name = 'timed'", "order_by": order}
        whole = names(http.get("/model-versions/search", params=params), "model_versions", "version")
        walked, token = [], None
        while True:
            page = http.get(
                "/model-versions/search",
                params={**params, "max_results": 1, **({"page_token": token} if token else {})},
            ).json()
            walked += [version["version"] for version in page["model_versions"]]
            token = page.get("next_page_token")
            if not token:
                break
        assert (order, walked) == (order, whole)
        assert sorted(whole) == ["1", "2", "3", "4"]
    assert whole[-1] == "2"  # updated last


def test_versions_read_by_alias_and_number_alike_on_both_databases(http: httpx.Client) -> None:
    http.post("/registered-models/create", json={"name": "aliased"})
    for run_id in ("r1", "r2"):
        http.post("/model-versions/create", json={"name": "aliased", "source": f"s3://a/{run_id}", "run_id": run_id,
                                                  "tags": [{"key": "run", "value": run_id}]})  # fmt: skip
    assert http.post(
        "/registered-models/alias", json={"name": "aliased", "alias": "champion", "version": "1"}
    ).is_success
    by_alias = http.get("/registered-models/alias", params={"name": "aliased", "alias": "champion"}).json()
    by_number = http.get("/model-versions/get", params={"name": "aliased", "version": "1"}).json()
    assert by_alias == by_number
    version = by_alias["model_version"]
    assert (version["version"], version["source"], version["run_id"], version["tags"], version["aliases"]) == (
        "1", "s3://a/r1", "r1", [{"key": "run", "value": "r1"}], ["champion"]
    )  # fmt: skip
    missing = http.get("/registered-models/alias", params={"name": "aliased", "alias": "nobody"})
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
