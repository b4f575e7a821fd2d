"""Browser tests: one real `modelyard serve` with tokens on, filled by the suite through the SDK, and one
Chromium (Debian's, through its path). Each test gets a fresh browser context signed in as admin (`page`) or
signed out (`anonymous_page`); a failing test leaves its screenshot in test-results/ui/."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from modelyard.auth.access import Scope
from modelyard.auth.service import TokenService
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db import migrate
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from tests.conftest import TEST_JOB_MODULES
from tests.server import REPO_ROOT, ServerProcess
from tests.ui.build import ensure_ui_built
from tests.ui.seed_revisions import TrainedRevisions, seed_trained_revisions

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

SEEDED_PROJECT = "colors"
SEEDED_LABELS = ("red", "blue")
SEEDED_REGISTERED_MODEL = "color-classifier"
# A user manifest whose pretrained weights are these bytes: the file a person imports offline.
OFFLINE_ARCHITECTURE = "tiny_resnet"
OFFLINE_WEIGHTS = b"generated weights standing in for a published file"
SHIPPED_MANIFESTS = REPO_ROOT / "src" / "modelyard" / "architectures" / "manifests"


@dataclass
class UiServer:
    """The server the browser talks to, with an admin SDK client and tokens for each scope."""

    url: str
    admin_token: str
    read_token: str
    sdk: Client
    http: httpx.Client
    data_dir: Path
    # Jobs submitted while the suite starts, so that they have finished by the time a test looks at them.
    succeeded_job_id: str
    failed_job_id: str


def _results_folder(config: pytest.Config) -> Path:
    return Path(config.rootpath) / "test-results" / "ui"


def _store_tokens(settings: Settings) -> dict[str, str]:
    """An admin and a read token stored in the database before the server starts: sign-in is required."""
    context = AppContext(settings)
    try:
        migrate.upgrade(context.db.engine)
        with transaction(context.db.sessions) as session:
            tokens = TokenService(session, "tests")
            admin = tokens.create("ui-admin", Scope.ADMIN, user="ada").secret
            read = tokens.create("ui-reader", Scope.READ, user="rita").secret
    finally:
        context.close()
    return {"admin": admin, "read": read}


def _offline_manifest(data_dir: Path) -> None:
    manifest = yaml.safe_load((SHIPPED_MANIFESTS / "classification" / "resnet18.yaml").read_text(encoding="utf-8"))
    manifest.update(
        id=OFFLINE_ARCHITECTURE,
        name="Tiny ResNet",
        pretrained_weights={
            "url": "http://127.0.0.1:9/tiny.pth",
            "file_name": "tiny.pth",
            "sha256": hashlib.sha256(OFFLINE_WEIGHTS).hexdigest(),
        },
    )
    folder = data_dir / "model_manifests" / "classification"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{OFFLINE_ARCHITECTURE}.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")


def _seed(sdk: Client, folder: Path) -> tuple[str, str]:
    """A project with labels, a registered model with two versions made from small files, and two small jobs
    (one that succeeds, one of the project that fails): their ids."""
    sdk.projects.create(SEEDED_PROJECT, "multiclass_classification", labels=list(SEEDED_LABELS))
    succeeding = sdk.jobs.submit("test.count", {"steps": 2})
    failing = sdk.jobs.submit("test.fail", {}, project=SEEDED_PROJECT)
    weights = folder / "model.onnx"
    weights.write_bytes(b"tiny onnx stand-in " * 64)
    for number in (1, 2):
        sdk.registry.register(
            SEEDED_REGISTERED_MODEL,
            files=[weights],
            create_model=number == 1,
            framework="onnx",
            task_type="multiclass_classification",
            label_map={"0": "red", "1": "blue"},
            metrics={"accuracy": 0.8 + number / 100},
        )
    return succeeding.id, failing.id


@pytest.fixture(scope="session")
def ui_built(pytestconfig: pytest.Config) -> Path:
    return ensure_ui_built(_results_folder(pytestconfig))


@pytest.fixture(scope="session")
def ui_server(ui_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    assert ui_built.is_file()
    folder = tmp_path_factory.mktemp("ui-server")
    settings = Settings(data_dir=folder / "data", job_modules=TEST_JOB_MODULES, log_level="warning")
    tokens = _store_tokens(settings)
    _offline_manifest(settings.data_dir)
    server = ServerProcess(settings, folder / "server.log")
    server.start()
    sdk = Client(server.url, token=tokens["admin"])
    http = httpx.Client(base_url=f"{server.url}/api/v1", headers={"authorization": f"Bearer {tokens['admin']}"})
    try:
        succeeded, failed = _seed(sdk, folder)
        yield UiServer(server.url, tokens["admin"], tokens["read"], sdk, http, settings.data_dir, succeeded, failed)
    finally:
        http.close()
        sdk.close()
        server.stop()


@dataclass
class TrainedRevision:
    project: str
    revision_id: str
    job_id: str


@pytest.fixture(scope="session")
def trained_revisions(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> TrainedRevisions:
    """Project "palette" with two tiny trained revisions (the second fine-tuned from the first), made once for
    the tests that need them (curves, variants, evaluations, lineage, the pipeline, registering); tests that do
    not ask never pay."""
    return seed_trained_revisions(ui_server.sdk, tmp_path_factory.mktemp("ui-revisions"))


@pytest.fixture(scope="session")
def trained_revision(trained_revisions: TrainedRevisions) -> TrainedRevision:
    """One tiny trained revision: the first of `trained_revisions` (trained from scratch, exported, evaluated)."""
    return TrainedRevision(trained_revisions.project, trained_revisions.first_id, trained_revisions.first_job_id)


# Playwright and its Chromium live for one test file, not the session: while the sync API is open it holds an
# asyncio loop as the running loop of the main thread, so an async test run later in the same process (`make test`
# runs the files over several processes, in any order) could not start its own.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    from playwright.sync_api import expect

    # Assertions wait up to 15 s for the page to catch up (the default 5 s is short on a machine shared by many).
    expect.set_options(timeout=15_000)
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    browser = playwright_instance.chromium.launch(executable_path=executable, args=["--no-sandbox"])
    try:
        yield browser
    finally:
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    """Keeps each phase's report on the test, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@contextmanager
def _open_context(browser: Browser, server: UiServer, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        call_report = getattr(request.node, "report_call", None)
        if call_report is not None and call_report.failed:
            folder = _results_folder(request.config)
            folder.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            for index, open_page in enumerate(context.pages):
                open_page.screenshot(path=str(folder / f"{name}-{index}.png"), full_page=True)
        context.close()


@pytest.fixture
def anonymous_page(browser: Browser, ui_server: UiServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of a fresh browser with no session."""
    with _open_context(browser, ui_server, request) as context:
        yield context.new_page()


@pytest.fixture
def page(browser: Browser, ui_server: UiServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of a fresh browser signed in as the admin (the session cookie set through the API)."""
    with _open_context(browser, ui_server, request) as context:
        answer = context.request.post("/api/v1/session", data={"token": ui_server.admin_token})
        assert answer.ok, answer.text()
        yield context.new_page()
