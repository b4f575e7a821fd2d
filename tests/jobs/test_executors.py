"""What a job asks of Ray, from its type and the settings (no cluster needed)."""

from __future__ import annotations

from pathlib import Path

from modelyard.config import Settings
from modelyard.jobs.ray_executor import task_options
from modelyard.jobs.registry import JobTypeRegistry


def test_a_training_asks_for_the_training_gpus_and_other_jobs_ask_none(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, ray_job_cpus=2, ray_job_memory_mb=512, ray_training_gpus=1,
                        ray_resources={"modelyard": 1})  # fmt: skip
    registry = JobTypeRegistry.for_settings(settings)
    training = task_options(settings, registry.get("revision.train"))
    export = task_options(settings, registry.get("revision.export"))
    common = {"num_cpus": 2, "memory": 512 * 1024**2, "resources": {"modelyard": 1}}
    assert training == {**common, "num_gpus": 1, "name": "modelyard:revision.train"}
    assert export == {**common, "name": "modelyard:revision.export"}


def test_no_memory_reservation_and_no_gpus_by_default_on_cpu_machines(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, ray_job_memory_mb=0)
    options = task_options(settings, JobTypeRegistry.for_settings(settings).get("revision.train"))
    assert options == {"num_cpus": 1.0, "name": "modelyard:revision.train"}
