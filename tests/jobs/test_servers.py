"""Two `modelyard serve` processes on one PostgreSQL database and one bucket, as two machines would run them: each
records its own runner name, so neither reads the other's process table, and keeps its own cache of local copies;
they share the database and the store (and a data directory, where the tests' job bodies leave their markers)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.sdk import Client
from tests.conftest import TEST_JOB_MODULES
from tests.pipelines.factories import TinyModel, second_revision, served_model
from tests.postgres import PostgresCluster
from tests.s3 import SeaweedServer
from tests.server import ServerProcess
from tests.waiting import JOB_CEILING_SECONDS

NAMES = ("server-a", "server-b")


class Servers:
    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.running: dict[str, ServerProcess] = {}

    def ensure(self, *names: str) -> None:
        """Start the servers of `names` that are not running, at once."""
        missing = [name for name in names if not self.alive(name)]
        for name in missing:
            env = {"MODELYARD_RUNNER_NAME": name, "MODELYARD_JOB_STALE_SECONDS": "3", "MODELYARD_JOB_SLOTS": "2",
                   "MODELYARD_CACHE_DIR": str(self.cache_dir(name))}  # fmt: skip
            self.running[name] = ServerProcess(self.settings, self.folder / f"{name}.log", extra_env=env)
        with ThreadPoolExecutor(len(missing) or 1) as pool:
            list(pool.map(lambda name: self.running[name].start(), missing))

    def cache_dir(self, name: str) -> Path:
        return self.folder / name / "cache"

    def alive(self, name: str) -> bool:
        server = self.running.get(name)
        return server is not None and server.process is not None and server.process.poll() is None

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()


@pytest.fixture(scope="module")
def servers(
    postgres: PostgresCluster, s3_server: SeaweedServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("two-servers")
    with postgres.database() as url:
        settings = Settings(data_dir=folder / "data", database_url=url, job_modules=TEST_JOB_MODULES,
                            **s3_server.settings_for())  # fmt: skip
        group = Servers(settings, folder)
        try:
            group.ensure(*NAMES)
            yield group
        finally:
            group.stop()


@pytest.fixture
def clients(servers: Servers) -> Iterator[dict[str, Client]]:
    servers.ensure(*NAMES)
    opened = {name: Client(base_url=servers.running[name].url) for name in NAMES}
    try:
        yield opened
    finally:
        for client in opened.values():
            client.close()


def test_registrations_spread_over_two_servers_are_numbered_without_gaps(clients: dict[str, Client]) -> None:
    clients["server-a"].registry.create("shared-model")

    def register(index: int) -> int:
        client = clients[NAMES[index % 2]]
        return client.registry.register("shared-model", parameters={"index": index}).number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(register, range(50)))
    assert sorted(numbers) == list(range(1, 51))
    versions = clients["server-b"].registry.versions("shared-model", limit=100).items
    assert sorted(version.number for version in versions) == list(range(1, 51))


def test_a_job_submitted_to_one_server_runs_once(clients: dict[str, Client], servers: Servers) -> None:
    jobs = [clients[NAMES[index % 2]].jobs.submit("test.count", {"steps": 2, "delay": 0.05}) for index in range(4)]
    done = [clients["server-a"].jobs.wait(job.id, timeout=JOB_CEILING_SECONDS) for job in jobs]
    assert [job.status for job in done] == ["succeeded"] * 4
    runs = servers.settings.data_dir / "runs"
    assert [len((runs / job.id).read_text().split()) for job in jobs] == [1] * 4  # each body ran once
    assert {job.runner_id.split(":")[0] for job in done} <= set(NAMES)


def test_a_pipeline_swapped_through_one_server_is_served_by_the_other_within_seconds(
    clients: dict[str, Client], servers: Servers, tiny_model: TinyModel, tmp_path: Path
) -> None:
    context = AppContext(servers.settings)
    try:
        served = served_model(clients["server-a"], context, tiny_model, tmp_path / "served")
        newer = second_revision(context, served, tiny_model)
    finally:
        context.close()
    first, second = clients["server-a"], clients["server-b"]
    first.pipelines.enable(served.project, served.revision_id, variant="openvino-fp16", confidence_threshold=0.3)
    assert second.pipelines.predict(served.project, served.images[:1]).revision_id == served.revision_id
    first.pipelines.enable(served.project, newer, variant="openvino-fp16", confidence_threshold=0.6)
    swapped_at = time.monotonic()
    while (answer := second.pipelines.predict(served.project, served.images[:1])).revision_id != newer:
        assert time.monotonic() - swapped_at < 5, answer.revision_id
    assert (answer.variant, answer.confidence_threshold) == ("openvino-fp16", 0.6)
    # The other server loaded each variant from the bucket into its own cache, not from the first's disk.
    cache = servers.cache_dir("server-b")
    cached = {hashlib.sha256(path.read_bytes()).hexdigest() for path in cache.rglob("*") if path.is_file()}
    assert {entry.sha256 for entry in tiny_model.fp16.files} <= cached
    assert not (servers.settings.data_dir / "projects").exists()

def test_killing_a_server_mid_job_leaves_the_job_interrupted_by_the_other(
    clients: dict[str, Client], servers: Servers
) -> None:
    job = clients["server-a"].jobs.submit("test.leave_work", {"seconds": 120})
    deadline = time.monotonic() + 60
    while (current := clients["server-a"].jobs.get(job.id)).step != "working":
        assert time.monotonic() < deadline, current.status
        time.sleep(0.05)
    owner = current.runner_id.split(":")[0]
    other = next(name for name in NAMES if name != owner)
    servers.running[owner].kill()
    done = clients[other].jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert (done.status, done.reason) == ("failed", "interrupted")
    assert "submit it again" in done.error
    log = clients[other].jobs.logs(job.id)
    assert f"by runner {other}:" in log
    # The job type's cleanup ran on the server that reconciled it.
    assert (servers.settings.data_dir / "outputs" / f"{job.id}.cleaned").read_text() == "interrupted"

