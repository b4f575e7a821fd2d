"""Auth fixtures: the real app over HTTP in-process, tokens made in its database, and two projects' worth of
real things (items, revisions, registered models, files, jobs) so that a limited token has something to miss."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from modelyard.app import create_app
from modelyard.auth.access import Scope
from modelyard.auth.service import TokenService
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.logging import configure_logging
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.paths import revision_file
from modelyard.sdk.transport import InProcessTransport
from modelyard.storage.service import FileService

MakeToken = Callable[..., str]


@dataclass
class Served:
    http: httpx.Client
    context: AppContext
    transport: InProcessTransport


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    configure_logging("warning")
    app = create_app(settings, run_jobs=False, configure_logs=False)
    transport = InProcessTransport(app)
    http = httpx.Client(transport=transport, base_url="http://modelyard.local/api/v1")
    try:
        yield Served(http, app.state.context, transport)
    finally:
        http.close()
        transport.close()


@pytest.fixture
def make_token(served: Served) -> MakeToken:
    """A stored token's secret; the first one turns authentication on."""

    def make(scope: str = "admin", *, projects: tuple[str, ...] = (), user: str | None = None,
             name: str = "test") -> str:  # fmt: skip
        with transaction(served.context.db.sessions) as session:
            created = TokenService(session, "test").create(name, Scope(scope), user=user, projects=projects)
        served.context.auth.forget()
        return created.secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def png_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class ProjectThings:
    """Real ids of one project's things."""

    name: str
    id: str
    label: str
    item: str
    dataset_revision: str
    revision: str
    model: str
    file_key: str
    registry_file_key: str
    job: str


def make_project_things(http: httpx.Client, context: AppContext, name: str, headers: dict[str, str],
                        folder: Path) -> ProjectThings:  # fmt: skip
    def ok(response: httpx.Response) -> dict:
        assert response.status_code < 300, response.text
        return response.json()

    project = ok(http.post("/projects", json={"name": name, "task_type": "multiclass_classification",
                                              "labels": ["red", "blue"]}, headers=headers))  # fmt: skip
    files = [("files", (f"{name}.png", png_bytes(), "image/png"))]
    item = ok(http.post(f"/projects/{name}/dataset/items", files=files, headers=headers))["created"][0]
    label = project["labels"][0]
    ok(http.put(f"/projects/{name}/dataset/items/{item['id']}/annotation", json={"labels": ["red"]},
                headers=headers))  # fmt: skip
    dataset_revision = ok(http.post(f"/projects/{name}/dataset/revisions", headers=headers))
    revision_id = _stored_revision(context, project["id"], dataset_revision["id"], folder)
    model = f"{name}-model"
    registration = {"revision_id": revision_id, "create_model": True}
    version = ok(http.post(f"/registry/models/{model}/versions", json=registration, headers=headers))
    job = ok(http.post(f"/projects/{name}/dataset/exports", json={"format": "imagenet"}, headers=headers))
    return ProjectThings(
        name=name, id=project["id"], label=label["id"], item=item["id"], dataset_revision=dataset_revision["id"],
        revision=revision_id, model=model, file_key=_item_key(context, project["id"]),
        registry_file_key=f"registry/versions/{version['id']}/model.pt", job=job["id"],
    )  # fmt: skip


def _item_key(context: AppContext, project_id: str) -> str:
    with transaction(context.db.read_sessions) as session:
        page = FileService(session, context.store).page(f"projects/{project_id}/dataset/", limit=1, cursor=None)
        return page[0].key


def _stored_revision(context: AppContext, project_id: str, dataset_revision_id: str, folder: Path) -> str:
    """A succeeded model revision with a stored model.pt (bytes need not be a real network here)."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{project_id}.pt"
    weights.write_bytes(b"weights of " + project_id.encode())
    with transaction(context.db.sessions) as session:
        revision = ModelRevision(
            project_id=project_id, number=1, name="r1", architecture_id="mobilenet_v3_small",
            task_type="multiclass_classification", status="succeeded", base="pretrained",
            dataset_revision_id=dataset_revision_id, configuration={}, labels=[], weights_status="available",
            created_by="local",
        )  # fmt: skip
        session.add(revision)
        session.flush()
        FileService(session, context.store).save(
            revision_file(project_id, revision.id, "model.pt"), weights, actor="local"
        )
        return revision.id


@dataclass
class World:
    served: Served
    admin: str
    a: ProjectThings
    b: ProjectThings


@pytest.fixture
def world(served: Served, make_token: MakeToken, tmp_path: Path) -> World:
    admin = make_token("admin", user="root")
    headers = bearer(admin)
    a = make_project_things(served.http, served.context, "alpha", headers, tmp_path / "weights")
    b = make_project_things(served.http, served.context, "beta", headers, tmp_path / "weights")
    return World(served, admin, a, b)
