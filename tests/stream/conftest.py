"""Stream fixtures: the real app with its job runner and stream supervisor, and a served tiny detector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.export import ExportedVariant
from modelyard.logging import configure_logging
from modelyard.sdk import Client
from modelyard.sdk.client import LOCAL_BASE_URL
from modelyard.sdk.transport import InProcessTransport
from tests.stream.factories import ServedDetector, serve_detector


class ServerProcess:
    """The app in this process, started and stopped as a server is (its lifespan: job runner, supervisor)."""

    def __init__(self, settings: Settings, run_jobs: bool = True) -> None:
        self.settings = settings
        self.run_jobs = run_jobs
        self.client: Client | None = None
        self._transport: InProcessTransport | None = None

    def start(self) -> Client:
        configure_logging("warning")
        app = create_app(self.settings, run_jobs=self.run_jobs, configure_logs=False)
        self._transport = InProcessTransport(app)
        self.client = Client(transport=self._transport)
        self.http = httpx.Client(transport=self._transport, base_url=LOCAL_BASE_URL)
        self.context: AppContext = app.state.context
        return self.client

    @property
    def sdk(self) -> Client:
        assert self.client is not None, "the server is stopped"
        return self.client

    def stop(self) -> None:
        if self.client is not None and self._transport is not None:
            self.client.close()
            self.http.close()
            self._transport.close()
            self.client = self._transport = None


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerProcess]:
    process = ServerProcess(settings)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def api(settings: Settings) -> Iterator[ServerProcess]:
    """The app without job runner nor stream supervisor, as the SDK's in-process mode serves it."""
    process = ServerProcess(settings, run_jobs=False)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def detector(server: ServerProcess, detector_fp32: ExportedVariant, tmp_path: Path) -> ServedDetector:
    assert server.client is not None
    return serve_detector(server.client, server.context, detector_fp32, tmp_path / "dataset")
