"""Web UI sign-in: a token exchanged for an HttpOnly, SameSite=Strict session cookie that carries the token's
user, scope and projects, ends with sign-out or with its token, and never outranks an explicit bearer token."""

from __future__ import annotations

from modelyard.auth.service import SESSION_COOKIE, SESSION_LIFETIME
from modelyard.db.base import utcnow
from tests.auth.conftest import MakeToken, Served, bearer


def test_without_tokens_there_is_nothing_to_sign_in_to(served: Served) -> None:
    state = served.http.get("/session").json()
    assert state["auth_required"] is False and state["user"] == "local" and state["scope"] == "admin"
    signed = served.http.post("/session", json={"token": "anything"})
    assert signed.status_code == 200 and signed.json()["auth_required"] is False
    assert SESSION_COOKIE not in signed.cookies


def test_signing_in_sets_a_strict_http_only_cookie_that_carries_the_tokens_rights(
    served: Served, make_token: MakeToken
) -> None:
    admin = bearer(make_token("admin", user="root"))
    created = served.http.post("/projects", json={"name": "cats", "task_type": "multiclass_classification",
                               "labels": [{"name": "tabby"}, {"name": "siamese"}]}, headers=admin)  # fmt: skip
    assert created.status_code == 201, created.text
    project = created.json()
    reader = make_token("read", user="ann", projects=("cats",), name="ann-laptop")
    assert served.http.get("/session").json() == {
        "auth_required": True, "user": None, "scope": None, "projects": None, "expires_at": None,
    }  # fmt: skip

    signed = served.http.post("/session", json={"token": reader})
    assert signed.status_code == 200
    assert signed.json()["user"] == "ann" and signed.json()["scope"] == "read"
    assert signed.json()["projects"] == [project["id"]]
    cookie_header = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie_header and "samesite=strict" in cookie_header and "path=/" in cookie_header
    session_secret = signed.cookies[SESSION_COOKIE]
    assert session_secret != reader and session_secret.startswith("my_")

    # The cookie alone now authenticates, with the token's scope and project limit.
    assert served.http.get("/session").json()["user"] == "ann"
    assert [p["name"] for p in served.http.get("/projects").json()["items"]] == ["cats"]
    assert served.http.delete(f"/projects/{project['id']}").status_code == 403
    tokens = {token["name"]: token for token in served.http.get("/tokens", headers=admin).json()}
    session = tokens["session of ann-laptop"]
    assert session["kind"] == "session" and session["parent_id"] == tokens["ann-laptop"]["id"]
    assert session["scope"] == "read" and session["user"] == "ann"


def test_a_session_lasts_twelve_hours_at_most(served: Served, make_token: MakeToken) -> None:
    signed = served.http.post("/session", json={"token": make_token("write")}).json()
    from datetime import datetime

    lasts = datetime.fromisoformat(signed["expires_at"]) - utcnow()
    assert SESSION_LIFETIME * 0.99 < lasts <= SESSION_LIFETIME


def test_a_wrong_token_is_a_401_and_sets_no_cookie(served: Served, make_token: MakeToken) -> None:
    make_token("admin")
    refused = served.http.post("/session", json={"token": "my_" + "x" * 43})
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    assert SESSION_COOKIE not in refused.cookies
    assert served.http.post("/session", json={"token": ""}).status_code == 422


def test_signing_out_revokes_the_session_and_clears_the_cookie(served: Served, make_token: MakeToken) -> None:
    token = make_token("write")
    served.http.post("/session", json={"token": token})
    secret = served.http.cookies[SESSION_COOKIE]
    signed_out = served.http.delete("/session")
    assert signed_out.status_code == 204
    assert SESSION_COOKIE not in served.http.cookies
    # The old cookie, replayed, is refused; the token it came from still works.
    assert served.http.get("/projects", cookies={SESSION_COOKIE: secret}).status_code == 401
    assert served.http.get("/projects", headers=bearer(token)).status_code == 200


def test_revoking_a_token_ends_every_session_made_from_it(served: Served, make_token: MakeToken) -> None:
    admin = bearer(make_token("admin", name="root"))
    token = make_token("write", name="laptop")
    served.http.post("/session", json={"token": token})
    assert served.http.get("/projects").status_code == 200
    laptop = next(t for t in served.http.get("/tokens", headers=admin).json() if t["name"] == "laptop")
    assert served.http.post(f"/tokens/{laptop['id']}:revoke", headers=admin).status_code == 200
    assert served.http.get("/projects").status_code == 401
    assert served.http.get("/session").json()["user"] is None


def test_an_explicit_bearer_token_outranks_the_cookie(served: Served, make_token: MakeToken) -> None:
    served.http.post("/session", json={"token": make_token("admin", user="root")})
    reader = bearer(make_token("read", user="ann", name="ann"))
    assert served.http.get("/session", headers=reader).json()["user"] == "ann"
    refused = served.http.post("/projects", json={"name": "x", "task_type": "detection", "labels": [{"name": "box"}]},
                               headers=reader)  # fmt: skip
    assert refused.status_code == 403
