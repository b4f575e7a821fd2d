"""Every route of the app declares what it needs, and the OpenAPI document's routes answer 401, 403 and 404
exactly where they belong: without a token, with a wrong one, with a read token, with another project's token."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from modelyard.app import create_app
from modelyard.auth.dependencies import REQUIRED_SCOPE
from modelyard.config import Settings
from tests.auth.conftest import MakeToken, ProjectThings, World, bearer, png_bytes

OPEN_PATHS = {"/api/v1/health", "/api/v1/session"}
DOCS_PATHS = {"/docs", "/redoc", "/openapi.json"}
WRITE_METHODS = ("post", "put", "patch", "delete")
STREAMS = {"/api/v1/jobs/{job_id}/events", "/api/v1/jobs/{job_id}/logs",
           "/api/v1/projects/{project}/pipeline/stream/live"}
# MLflow's API reads with POST where a query does not fit in a URL; these need the read scope only.
MLFLOW_READ_POSTS = {
    "/api/2.0/mlflow/experiments/search",
    "/api/2.0/mlflow/runs/search",
    "/api/2.0/mlflow/logged-models/search",
    "/api/2.0/mlflow/registered-models/get-latest-versions",
}
# Bodies that pass validation, so that a project-limited token reaches the lookup (and its 404) rather
# than a 422. A route with a body of its own needs an entry here or a schema the generator can fill.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/projects/{project}/dataset/items:delete"): {"ids": ["ITEM"]},
    ("post", "/api/v1/projects/{project}/dataset/items:bulk"): {"action": "move_to_subset", "ids": ["ITEM"],
                                                                "subset": "unassigned"},
    ("put", "/api/v1/projects/{project}/pipeline"): {"revision": "REVISION"},
    ("put", "/api/v1/projects/{project}/pipeline/stream/source"): {"kind": "http"},
    ("post", "/api/v1/projects/{project}/pipeline/stream/sinks"): {"kind": "live"},
    ("post", "/api/v1/projects/{project}/pipeline:batch-predict"): {"input_folder": "/x", "output_folder": "/y"},
    ("post", "/api/v1/registry/models/{name}/versions/{selector}/stage"): {"stage": "staging"},
    ("put", "/api/v1/registry/models/{name}/aliases/{alias}"): {"version": 1},
    ("post", "/api/v1/registry/models/{name}/versions/{selector}/transfer"): {"target_model": "elsewhere"},
    ("post", "/api/v1/registry/models/{name}/versions/{selector}/copy"): {"target_model": "elsewhere"},
    ("post", "/api/v1/registry/models/{name}/versions:best"): {"project": "PROJECT", "metric": "accuracy"},
    ("patch", "/api/v1/models/{revision_id}"): {"name": "renamed"},
    ("post", "/api/v1/projects/{project}/labels"): {"name": "green"},
    ("post", "/api/v1/projects/{project}/dataset/exports"): {"format": "imagenet"},
    ("post", "/api/v1/projects/{project}/models:train"): {"architecture": "mobilenet_v3_small"},
    ("post", "/api/v1/projects/{project}/models:tune"): {"architecture": "mobilenet_v3_small"},
    ("put", "/api/v1/projects/{project}/training-configurations/{architecture}"): {"overrides": {}},
    ("put", "/api/v1/projects/{project}/dataset/items/{item}/annotation"): {"labels": ["red"]},
}


def _route_requirements(settings: Settings) -> dict[tuple[str, str], list[Any]]:
    app = create_app(settings, run_jobs=False, configure_logs=False)
    found: dict[tuple[str, str], list[Any]] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path in DOCS_PATHS:
            continue
        declared = [getattr(dependency.call, REQUIRED_SCOPE) for dependency in route.dependant.dependencies
                    if hasattr(dependency.call, REQUIRED_SCOPE)]  # fmt: skip
        for method in route.methods:
            found[(method, context.path_format)] = declared
    return found


def test_every_api_route_declares_exactly_one_requirement(settings: Settings) -> None:
    requirements = _route_requirements(settings)
    assert len(requirements) > 80
    undeclared = sorted(key for key, declared in requirements.items() if len(declared) != 1)
    assert undeclared == []
    public = sorted(path for (_, path), declared in requirements.items() if declared == [None])
    assert public == ["/api/v1/health", "/api/v1/session", "/api/v1/session", "/api/v1/session"]


def test_deleting_projects_models_files_and_managing_tokens_needs_admin(settings: Settings) -> None:
    requirements = _route_requirements(settings)
    admin = {key for key, declared in requirements.items() if declared[0] == "admin"}
    assert {
        ("DELETE", "/api/v1/projects/{project}"),
        ("DELETE", "/api/v1/registry/models/{name}"),
        ("DELETE", "/api/v1/registry/models/{name}/versions/{selector}"),
        ("DELETE", "/api/v1/registry/models/{name}/versions/{selector}/files/{file_name}"),
        ("DELETE", "/api/v1/models/{revision_id}"),
        ("DELETE", "/api/v1/projects/{project}/dataset/revisions/{revision}/files"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens/{token_id}:revoke"),
    } <= admin
    reads = {key for key, declared in requirements.items() if declared[0] == "read"}
    assert all(method in ("GET", "HEAD") or path.replace("/ajax-api/", "/api/", 1) in MLFLOW_READ_POSTS
               for method, path in reads)  # fmt: skip


# -- the walk over the OpenAPI document --------------------------------------------------------
def _operations(http: httpx.Client) -> list[tuple[str, str, dict[str, Any]]]:
    document = http.get("http://modelyard.local/openapi.json").json()
    operations = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete") and path not in OPEN_PATHS:
                operations.append((method, path, operation))
    assert len(operations) > 80
    return operations


def _url(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)(:path)?\}", lambda match: values.get(match[1], "x"), path)


def _send(http: httpx.Client, method: str, path: str, values: dict[str, str], headers: dict[str, str],
          operation: dict[str, Any] | None = None) -> httpx.Response:  # fmt: skip
    url = "http://modelyard.local" + _url(path, values)
    content = (operation or {}).get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        files = [("files", ("x.png", png_bytes(), "image/png")), ("file", ("x.png", png_bytes(), "image/png"))]
        form = {"file_name": "x.png"}  # the name in the version of each `file` (versions:upload)
        return http.request(method, url, files=files, data=form, headers=headers)
    body = BODIES.get((method, path))
    if body is not None:
        body = {key: _fill(value, values) for key, value in body.items()}
    elif "application/json" in content:
        body = {}
    return http.request(method, url, json=body, headers=headers) if body is not None else \
        http.request(method, url, headers=headers)  # fmt: skip


def _fill(value: Any, values: dict[str, str]) -> Any:
    placeholders = {"ITEM": values["item"], "REVISION": values["revision_id"], "PROJECT": values["project"]}
    if isinstance(value, list):
        return [_fill(entry, values) for entry in value]
    return placeholders.get(value, value) if isinstance(value, str) else value


def _values(things: ProjectThings) -> dict[str, str]:
    return {
        "project": things.name, "item": things.item, "label": things.label, "revision": things.dataset_revision,
        "revision_id": things.revision, "name": things.model, "selector": "1", "alias": "production",
        "stage": "staging", "file_name": "model.pt", "variant": "pytorch-fp32", "job_id": things.job,
        "key": things.file_key, "architecture": "mobilenet_v3_small", "architecture_id": "mobilenet_v3_small",
        "token_id": "x", "number": "1",
    }  # fmt: skip


def test_every_route_but_health_and_docs_needs_a_valid_token(world: World) -> None:
    http = world.served.http
    values = _values(world.b)
    wrong = {"no token": {}, "wrong token": bearer("my_" + "A" * 43), "not bearer": {"authorization": "Basic eDp5"}}
    answers: dict[str, list[str]] = {}
    for method, path, operation in _operations(http):
        for case, headers in wrong.items():
            response = _send(http, method, path, values, headers, operation)
            if response.status_code != 401 or response.json()["code"] != "unauthorized":
                answers.setdefault(case, []).append(f"{method.upper()} {path} -> {response.status_code}")
    assert answers == {}
    assert http.get("/health").status_code == 200
    assert http.get("http://modelyard.local/openapi.json").status_code == 200


def test_a_read_token_is_refused_every_change_with_403_naming_the_scope(world: World, make_token: MakeToken) -> None:
    http = world.served.http
    reader = bearer(make_token("read", name="reader"))
    refused, allowed = [], []
    for method, path, operation in _operations(http):
        if path in STREAMS:
            continue  # reads; they would stream until the (never running) job ends
        response = _send(http, method, path, _values(world.a), reader, operation)
        if method in WRITE_METHODS and path not in MLFLOW_READ_POSTS:
            if response.status_code != 403 or response.json().get("needed_scope") not in ("write", "admin"):
                refused.append(f"{method.upper()} {path} -> {response.status_code}")
        elif response.status_code in (401, 403):
            allowed.append(f"{method.upper()} {path} -> {response.status_code}")
    assert refused == []
    assert allowed == [  # reading storage usage (it names every project) and tokens is the admin's
        "GET /api/v1/files:usage -> 403",
        "GET /api/v1/tokens -> 403",
    ]


def test_a_token_of_project_a_gets_404_on_everything_of_project_b(world: World, make_token: MakeToken) -> None:
    http = world.served.http
    # Admin scope, so that no 403 hides a 404: the project limit alone must refuse.
    limited = bearer(make_token("admin", projects=(world.a.name,), name="alpha-admin"))
    b_params = re.compile(r"\{(project|revision_id|name|key|job_id)(:path)?\}")
    wrong, checked = [], 0
    for method, path, operation in _operations(http):
        if not b_params.search(path):
            continue
        checked += 1
        response = _send(http, method, path, _values(world.b), limited, operation)
        if response.status_code != 404:
            wrong.append(f"{method.upper()} {path} -> {response.status_code} {response.text[:160]}")
    assert "\n".join(wrong) == ""
    assert checked > 60
    # The same token reaches its own project's things.
    assert http.get(f"/projects/{world.a.name}", headers=limited).status_code == 200
    assert http.get(f"/registry/models/{world.a.model}/versions/1", headers=limited).status_code == 200
    assert http.get(f"/files/{world.a.registry_file_key}", headers=limited).status_code == 200


@pytest.mark.parametrize("listing", ["/projects", "/jobs", "/files", "/registry/models", "/registry/versions",
                                     "/registry/events"])  # fmt: skip
def test_a_token_of_project_a_lists_only_project_a(world: World, make_token: MakeToken, listing: str) -> None:
    http = world.served.http
    limited = bearer(make_token("read", projects=(world.a.name,), name="alpha-reader"))
    everything = http.get(listing, headers=bearer(world.admin)).json()["items"]
    seen = http.get(listing, headers=limited).json()["items"]
    assert len(seen) < len(everything)
    text = str(seen)
    assert world.b.id not in text and world.b.model not in text
    assert world.a.id in text or world.a.model in text
