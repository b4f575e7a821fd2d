"""Jobs on a real Ray cluster (a head and a worker node on 127.0.0.1): a server with MODELYARD_EXECUTOR=ray on
PostgreSQL sends each job's body to the worker node as a task; the task reads and writes through the database and
the store. One cluster and one server for the module: Ray takes seconds to start."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.sdk import Client
from modelyard.sdk import Job as JobRead
from tests.conftest import TEST_JOB_MODULES
from tests.postgres import PostgresCluster
from tests.ray_cluster import JOB_RESOURCE, RayCluster
from tests.revisions.factories import color_image
from tests.server import ServerProcess
from tests.waiting import JOB_CEILING_SECONDS

FAST = {"epochs": 1, "batch_size": 4, "warmup_epochs": 0, "early_stopping_patience": 0}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    cluster = RayCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def ray_server(
    ray_cluster: RayCluster, postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("ray-server")
    with postgres.database() as url:
        settings = Settings(data_dir=folder / "data", database_url=url, job_modules=TEST_JOB_MODULES)
        server = ServerProcess(settings, folder / "server.log", extra_env={
            "MODELYARD_EXECUTOR": "ray",
            "MODELYARD_RAY_ADDRESS": ray_cluster.address,
            "MODELYARD_RAY_RESOURCES": json.dumps({JOB_RESOURCE: 1}),
            "MODELYARD_RAY_JOB_MEMORY_MB": "0",
            "MODELYARD_JOB_SLOTS": "2",
            "MODELYARD_JOB_CANCEL_GRACE_SECONDS": "0.5",
            "MODELYARD_JOB_STALE_SECONDS": "5",
        })  # fmt: skip
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def ray_client(ray_server: ServerProcess) -> Iterator[Client]:
    with Client(base_url=ray_server.url) as client:
        yield client


def _wait(client: Client, job: JobRead) -> JobRead:
    return client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)


def _wait_for_step(client: Client, job_id: str, prefix: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.jobs.get(job_id)
        if job.step.startswith(prefix):
            return
        assert job.status in ("pending", "running"), (job.status, job.error)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached a step {prefix!r}: {client.jobs.get(job_id).step!r}")


def test_import_and_a_training_with_its_export_run_as_ray_tasks(ray_client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "colors"
    for label in ("red", "blue"):
        (folder / label).mkdir(parents=True)
        for index in range(5):
            color_image(folder / label / f"{label}-{index}.png", label, seed=index)
    imported = _wait(ray_client, ray_client.datasets.import_(
        folder, "imagenet", new_project="colors", task_type="multiclass_classification"))  # fmt: skip
    assert imported.status == "succeeded", imported.error
    # A training exports its revision (OpenVINO FP16, ONNX) and evaluates the variants in the same task.
    trained = _wait(ray_client, ray_client.models.train("colors", "mobilenet_v3_small", base="scratch", overrides=FAST))
    assert trained.status == "succeeded", trained.error

    assert [job.executor for job in (imported, trained)] == ["ray", "ray"]
    assert imported.node_id and trained.node_id == imported.node_id  # the one node with the jobs' resource
    revision_id = trained.result["revision_id"]
    assert ray_client.models.get(revision_id).status == "succeeded"
    assert {variant.name for variant in ray_client.models.variants(revision_id)} == {
        "pytorch-fp32", "openvino-fp16", "onnx-fp32"}  # fmt: skip
    assert "step: variants" in ray_client.jobs.logs(trained.id)  # the task's log lines reach the job's log
    # The task's per-epoch records reach the server through the database: the job's metrics are the revision's.
    metrics = ray_client.jobs.metrics(trained.id)
    assert [(record["epoch"], record["metric_name"]) for record in metrics] == [(1, "accuracy")]
    assert ray_client.models.metrics(revision_id) == metrics


def test_a_ray_task_writes_its_log_and_output_to_the_database(ray_client: Client, ray_server: ServerProcess) -> None:
    done = _wait(ray_client, ray_client.jobs.submit("test.chatter"))
    assert (done.status, done.executor) == ("succeeded", "ray")
    lines = ray_client.jobs.logs(done.id).splitlines()
    assert {"printed line", "descriptor line", "error line"} <= set(lines)
    assert any(line.endswith("INFO logged line") for line in lines)
    assert not (ray_server.settings.data_dir / "jobs" / f"{done.id}.log").exists()  # nothing on the server's disk


def test_cancel_stops_a_ray_task_that_ignores_cooperative_cancel(ray_client: Client) -> None:
    job = ray_client.jobs.submit("test.ignore_cancel", {"seconds": 120})
    _wait_for_step(ray_client, job.id, "busy")
    ray_client.jobs.cancel(job.id)
    done = _wait(ray_client, job)
    assert (done.status, done.reason) == ("cancelled", "cancelled")
    assert done.finished_at is not None and (done.finished_at - done.cancel_requested_at).total_seconds() < 60


def test_losing_the_worker_node_mid_training_interrupts_the_job(
    ray_client: Client, ray_cluster: RayCluster, tmp_path: Path
) -> None:
    from tests.revisions.factories import classification_project

    project = classification_project(ray_client, tmp_path / "images", name="slow", per_label=4)
    slow = {"epochs": 200, "batch_size": 2, "early_stopping_patience": 0}
    job = ray_client.models.train(project, "mobilenet_v3_small", base="scratch", overrides=slow)
    _wait_for_step(ray_client, job.id, "training epoch")
    ray_cluster.kill_worker()
    try:
        done = _wait(ray_client, job)
        assert (done.status, done.reason) == ("failed", "interrupted")
        assert "submit it again" in done.error
        revision = ray_client.models.list(project).items[0]
        assert (revision.status, revision.weights_status) == ("failed", "none")
    finally:
        ray_cluster.start_worker()


def test_doctor_finds_the_cluster_and_whether_every_job_type_fits(
    ray_server: ServerProcess, ray_cluster: RayCluster
) -> None:
    from modelyard.health.doctor import run_checks

    settings = ray_server.settings.model_copy(update={
        "executor": "ray", "ray_address": ray_cluster.address, "ray_resources": {JOB_RESOURCE: 1},
        "ray_job_memory_mb": 256})  # fmt: skip
    results = {result.name: result for result in run_checks(settings)}
    assert [(name, result.ok) for name, result in results.items()] == [("database", True), ("store", True),
                                                                       ("ray", True)]  # fmt: skip
    assert "live node(s)" in results["ray"].detail and "256 MiB memory" in results["ray"].detail

    wants_a_gpu = run_checks(settings.model_copy(update={"ray_training_gpus": 1.0}))[-1]
    assert not wants_a_gpu.ok and "revision.train needs" in wants_a_gpu.detail and "1 GPU" in wants_a_gpu.detail
