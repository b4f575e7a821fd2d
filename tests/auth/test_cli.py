"""`modelyard token create|list|revoke` as an operator runs them on the server's machine: real processes,
writing the data directory's database, which a running app then obeys."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from sqlalchemy import text

from modelyard.config import Settings
from tests.auth.conftest import Served, bearer
from tests.cli.test_cli import modelyard
from tests.server import free_port, server_env


def _created(settings: Settings, *args: str) -> dict:
    result = modelyard(settings, "token", "create", *args, "--json")
    assert result.returncode == 0, result.stderr
    created: dict = json.loads(result.stdout)
    return created


def _stored_rows(served: Served) -> list[dict]:
    with served.context.db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM api_tokens"))]


def test_create_prints_the_secret_once_and_the_database_keeps_only_its_sha256(
    settings: Settings, served: Served
) -> None:
    created = _created(settings, "ci", "--scope", "write", "--expires", "30d", "--user", "alice")
    secret = created["secret"]
    assert secret.startswith("my_") and len(secret) == 46
    assert (created["name"], created["user"], created["scope"], created["project_ids"]) == (
        "ci",
        "alice",
        "write",
        None,
    )
    assert created["expires_at"] is not None
    rows = _stored_rows(served)
    assert len(rows) == 1
    assert rows[0]["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in rows[0].values())
    listed = json.loads(modelyard(settings, "token", "list", "--json").stdout)
    assert [token["id"] for token in listed] == [created["id"]]
    assert "secret" not in listed[0] and secret not in json.dumps(listed)


def test_a_created_token_is_obeyed_by_a_running_app_and_a_revoked_one_refused(
    settings: Settings, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app would notice within seconds; here it is told to look again on every request.
    monkeypatch.setattr("modelyard.auth.service.ENABLED_TTL_SECONDS", 0.0)
    monkeypatch.setattr("modelyard.auth.service.PRINCIPAL_TTL_SECONDS", 0.0)
    assert served.http.get("/projects").status_code == 200  # no token anywhere: every caller is local
    created = _created(settings, "ops", "--scope", "admin")
    assert served.http.get("/projects").status_code == 401
    _created(settings, "spare", "--scope", "read")
    assert served.http.get("/projects", headers=bearer(created["secret"])).status_code == 200
    revoked = modelyard(settings, "token", "revoke", created["id"])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    refused = served.http.get("/projects", headers=bearer(created["secret"]))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    listed = json.loads(modelyard(settings, "token", "list", "--json").stdout)
    assert (listed[0]["name"], listed[1]["name"]) == ("ops", "spare")
    assert listed[0]["revoked_at"] is not None and listed[1]["revoked_at"] is None
    assert listed[0]["last_used_at"] is not None and listed[1]["last_used_at"] is None


def test_an_expired_token_is_refused_with_a_message_saying_so(settings: Settings, served: Served) -> None:
    created = _created(settings, "short", "--scope", "read", "--expires", "1h")
    assert served.http.get("/projects", headers=bearer(created["secret"])).status_code == 200
    with served.context.db.engine.begin() as connection:
        connection.execute(text("UPDATE api_tokens SET expires_at = created_at"))
    served.context.auth.forget()
    refused = served.http.get("/projects", headers=bearer(created["secret"]))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_a_token_limited_to_projects_names_them_and_unknown_ones_fail_in_one_line(
    settings: Settings, served: Served
) -> None:
    admin = _created(settings, "root", "--scope", "admin")["secret"]
    served.context.auth.forget()
    project = served.http.post("/projects", json={"name": "alpha", "task_type": "detection"}, headers=bearer(admin))
    limited = _created(settings, "alpha-only", "--scope", "write", "--project", "alpha")
    assert limited["project_ids"] == [project.json()["id"]]
    unknown = modelyard(settings, "token", "create", "x", "--scope", "read", "--project", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == ["error: project 'nope' does not exist: list projects with "
                                                    "`modelyard project list`"]  # fmt: skip
    bad_scope = modelyard(settings, "token", "create", "x", "--scope", "root")
    assert bad_scope.returncode == 1 and "use read, write or admin" in bad_scope.stderr


def test_revoking_an_unknown_token_fails_with_one_line(settings: Settings) -> None:
    result = modelyard(settings, "token", "revoke", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no API token 'nope': list them with `modelyard token list`"


def test_serve_on_every_address_starts_once_a_stored_token_exists(settings: Settings) -> None:
    assert _created(settings, "ops", "--scope", "admin")["secret"]
    env = server_env(settings, free_port())
    env.pop("MODELYARD_API_TOKENS", None)
    env["PYTHONUNBUFFERED"] = "1"  # the banner line arrives while the server runs
    command = [sys.executable, "-m", "modelyard", "serve", "--host", "0.0.0.0", "--port", env["MODELYARD_PORT"]]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = server.stdout.readline() if server.stdout else ""
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert first_line.startswith("modelyard serving http://0.0.0.0:")
