"""Tokens through the API: admin-only management, revocation at once, scopes, project limits on what a
token creates, configured tokens, and the token's user as the actor of every change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from modelyard.api.guard import authentication_enabled as guard_authentication_enabled
from modelyard.auth.access import Scope
from modelyard.auth.service import TokenService, authentication_enabled
from modelyard.config import Settings
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from tests.auth.conftest import MakeToken, Served, World, bearer, png_bytes


def test_admin_creates_lists_and_revokes_tokens_and_revocation_is_immediate(
    served: Served, make_token: MakeToken
) -> None:
    admin = bearer(make_token("admin", user="root"))
    created = served.http.post("/tokens", json={"name": "ci", "scope": "read", "expires_in": "2w"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("my_") and body["user"] == "ci" and body["created_by"] == "root"
    reader = bearer(body["secret"])
    assert served.http.get("/projects", headers=reader).status_code == 200
    listed = served.http.get("/tokens", headers=admin).json()
    assert sorted(token["name"] for token in listed) == ["ci", "test"]
    assert all("secret" not in token for token in listed)
    revoked = served.http.post(f"/tokens/{body['id']}:revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    # Remembered for seconds elsewhere, but this server forgets at once what it revoked itself.
    assert served.http.get("/projects", headers=reader).status_code == 401


def test_managing_tokens_needs_admin_and_a_bad_lifetime_is_a_clear_400(served: Served, make_token: MakeToken) -> None:
    admin = bearer(make_token("admin"))
    writer = bearer(make_token("write", name="writer"))
    refused = served.http.post("/tokens", json={"name": "x", "scope": "admin"}, headers=writer)
    assert refused.status_code == 403
    assert refused.json()["needed_scope"] == "admin"
    assert "admin scope" in refused.json()["detail"]
    bad = served.http.post("/tokens", json={"name": "x", "scope": "read", "expires_in": "soon"}, headers=admin)
    assert bad.status_code == 400 and "30d" in bad.json()["detail"]


def test_storage_jobs_need_admin_other_jobs_write(world: World, make_token: MakeToken) -> None:
    writer = bearer(make_token("write", name="writer"))
    refused = world.served.http.post("/jobs", json={"type": "storage.verify", "params": {}}, headers=writer)
    assert refused.status_code == 403 and refused.json()["needed_scope"] == "admin"
    accepted = world.served.http.post("/jobs", json={"type": "storage.verify", "params": {}},
                                      headers=bearer(world.admin))  # fmt: skip
    assert accepted.status_code == 202


def test_the_actor_of_every_change_is_the_tokens_user(world: World, make_token: MakeToken) -> None:
    http = world.served.http
    alice = bearer(make_token("write", user="alice", name="alice-laptop"))
    project = http.post("/projects", json={"name": "gamma", "task_type": "detection", "labels": ["a"]}, headers=alice)
    assert project.json()["created_by"] == "alice"
    upload = http.post("/projects/gamma/dataset/items", files=[("files", ("g.png", png_bytes(), "image/png"))],
                       headers=alice)  # fmt: skip
    assert upload.status_code == 201
    version = http.post(f"/registry/models/{world.a.model}/versions", json={"name": "by alice"}, headers=alice)
    assert version.json()["created_by"] == "alice"
    uploaded = http.put(f"/registry/models/{world.a.model}/versions/{version.json()['number']}/files/notes.txt",
                        files={"file": ("notes.txt", b"hello", "text/plain")}, headers=alice)  # fmt: skip
    assert uploaded.json()["created_by"] == "alice"
    job = http.post("/projects/gamma/dataset/exports", json={"format": "coco"}, headers=alice).json()
    events = http.get("/registry/events", params={"model": world.a.model}, headers=alice).json()["items"]
    assert events[-1]["actor"] == "alice"
    with world.served.context.db.engine.connect() as connection:
        job_actor = connection.execute(text("SELECT created_by FROM jobs WHERE id = :id"), {"id": job["id"]}).scalar()
        file_actors = set(connection.execute(
            text("SELECT created_by FROM stored_files WHERE key LIKE :prefix"),
            {"prefix": f"projects/{project.json()['id']}/%"},
        ).scalars())  # fmt: skip
    assert job_actor == "alice"
    assert file_actors == {"alice"}


def test_a_token_limited_to_projects_creates_registered_models_only_in_them(
    world: World, make_token: MakeToken
) -> None:
    http = world.served.http
    limited = bearer(make_token("write", projects=(world.a.name,), name="alpha-writer"))
    assert http.post("/projects", json={"name": "delta", "task_type": "detection"}, headers=limited).status_code == 403
    assert http.post("/registry/models", json={"name": "global"}, headers=limited).status_code == 403
    assert http.post("/registry/models", json={"name": "b-side", "project": world.b.name},
                     headers=limited).status_code == 404  # fmt: skip
    owned = http.post("/registry/models", json={"name": "a-side", "project": world.a.name}, headers=limited)
    assert owned.status_code == 201 and owned.json()["project_id"] == world.a.id
    # Registering another project's revision is refused as if it did not exist.
    stolen = http.post("/registry/models/a-side/versions", json={"revision_id": world.b.revision}, headers=limited)
    assert stolen.status_code == 404
    # A model registered from a revision belongs to the revision's project.
    model = http.get(f"/registry/models/{world.a.model}", headers=limited).json()
    assert model["project_id"] == world.a.id


def test_a_global_model_is_seen_by_unlimited_tokens_only(world: World, make_token: MakeToken) -> None:
    http = world.served.http
    assert http.post("/registry/models", json={"name": "shared"}, headers=bearer(world.admin)).status_code == 201
    unlimited = bearer(make_token("read", name="reader"))
    limited = bearer(make_token("read", projects=(world.a.name, world.b.name), name="both"))
    assert http.get("/registry/models/shared", headers=unlimited).json()["project_id"] is None
    assert http.get("/registry/models/shared", headers=limited).status_code == 404
    names = {model["name"] for model in http.get("/registry/models", headers=limited).json()["items"]}
    assert names == {world.a.model, world.b.model}


def test_predict_and_package_answer_401_before_looking_anything_up(world: World) -> None:
    http = world.served.http
    files = [("files", ("x.png", png_bytes(), "image/png"))]
    for project in (world.a.name, "no-such-project"):
        answer = http.post(f"/projects/{project}/pipeline:predict", files=files)
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")
    for revision in (world.a.revision, "no-such-revision"):
        assert http.get(f"/models/{revision}/variants/openvino-fp16/package").status_code == 401
    for key in (world.a.file_key, "projects/none/x.png"):
        assert http.get(f"/files/{key}").status_code == 401


@pytest.fixture
def configured(settings: Settings, capsys: pytest.CaptureFixture[str]) -> Iterator[Client]:
    capsys.readouterr()
    with Client(settings=settings.model_copy(update={"api_tokens": {"secret-1": "alice"}}), token="secret-1") as sdk:
        yield sdk


def test_configured_tokens_are_admins_without_project_limit_and_startup_says_to_prefer_stored_ones(
    configured: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "modelyard token create" in capsys.readouterr().err
    project = configured.projects.create("p", "detection", labels=["a"])
    assert project.created_by == "alice"
    configured.projects.delete("p")  # deleting projects is the admin's
    assert configured.projects.list().items == []


def test_the_sdk_manages_tokens_for_an_admin(served: Served, make_token: MakeToken) -> None:
    admin = Client(transport=served.transport, token=make_token("admin"))
    created = admin.tokens.create("nightly", "write", expires_in="1d", user="robot")
    assert (created.user, created.scope, created.project_ids) == ("robot", "write", None)
    assert created.secret.startswith("my_")
    assert created.id in {token.id for token in admin.tokens.list()}
    assert admin.tokens.revoke(created.id).revoked_at is not None


def test_authentication_turns_on_with_the_first_token_and_stays_on_when_every_token_is_revoked(served: Served) -> None:
    context = served.context
    assert authentication_enabled(context) is False
    with transaction(context.db.sessions) as session:
        created = TokenService(session, "test", on_change=context.auth.forget).create("first", Scope.READ)
    assert authentication_enabled(context) is True
    assert guard_authentication_enabled(context) is True  # what the request guard and `serve` ask
    with transaction(context.db.sessions) as session:
        tokens = TokenService(session, "test", on_change=context.auth.forget)
        tokens.revoke(tokens.get(created.token.id))
    context.auth.forget()
    assert authentication_enabled(context) is True  # the last revoked token locks the server, never opens it


def test_crafted_token_requests_get_4xx(served: Served, make_token: MakeToken) -> None:
    admin = bearer(make_token("admin"))
    for body in ({"name": "a\x00b", "scope": "read"}, {"name": "x", "scope": "read", "expires_in": "999999w"},
                 {"name": "x", "scope": "read", "user": "\u200bbob"}, {"name": "x", "scope": "root"}):  # fmt: skip
        assert served.http.post("/tokens", json=body, headers=admin).status_code in (400, 422), body
    assert served.http.post("/tokens/%00:revoke", headers=admin).status_code == 404
