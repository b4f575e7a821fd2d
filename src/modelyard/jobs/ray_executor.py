"""Jobs as Ray tasks: the runner claims a job as always and submits its body to the cluster at RAY_ADDRESS.

Each job is one task that runs once (no retries: a job that was interrupted is submitted again by a person, who
knows what it did) in a worker process of its own (`max_calls=1`: nothing a job sets, threads or signal handlers,
outlives it), with the resources its type declares. The task reads and writes through the database and the store,
as a local job process does. Its owner is this server's Ray driver: when the server dies, Ray ends its tasks.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import structlog

from modelyard.jobs.executors import ExecutionEnd, ExecutorUnavailable
from modelyard.jobs.registry import JobType
from modelyard.jobs.worker import run_as_ray_task

if TYPE_CHECKING:
    from modelyard.config import Settings
    from modelyard.jobs.models import Job

log = structlog.get_logger("modelyard.jobs.ray")
MIB = 1024**2


def task_options(settings: Settings, job_type: JobType) -> dict[str, Any]:
    """What a job of `job_type` asks of the cluster: CPUs, memory, GPUs (training), custom resources."""
    options: dict[str, Any] = {"num_cpus": settings.ray_job_cpus, "name": f"modelyard:{job_type.name}"}
    if settings.ray_job_memory_mb:
        options["memory"] = settings.ray_job_memory_mb * MIB
    if job_type.uses_gpu and settings.ray_training_gpus:
        options["num_gpus"] = settings.ray_training_gpus
    if settings.ray_resources:
        options["resources"] = dict(settings.ray_resources)
    return options


def connect(address: str | None) -> None:
    """Join the cluster at `address` as a driver (once per process)."""
    import ray

    if ray.is_initialized():
        return
    if not address:
        raise ExecutorUnavailable("MODELYARD_EXECUTOR=ray needs MODELYARD_RAY_ADDRESS (the head's HOST:PORT)")
    try:
        ray.init(address=address, namespace="modelyard", log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ExecutorUnavailable(f"the Ray cluster at {address} cannot be reached: {error}") from error


class RayExecution:
    def __init__(self, job_id: str, reference: Any) -> None:
        self.job_id = job_id
        self.reference = reference

    @property
    def recorded(self) -> dict[str, object]:
        return {"executor": "ray", "task_id": self.reference.task_id().hex()}

    def poll(self) -> ExecutionEnd | None:
        import ray
        from ray import exceptions

        ready, _ = ray.wait([self.reference], timeout=0)
        if not ready:
            return None
        try:
            return ExecutionEnd(int(ray.get(self.reference)))
        except exceptions.TaskCancelledError:
            return ExecutionEnd(None, "its Ray task was cancelled")
        except exceptions.RayTaskError as error:  # the worker's own code failed, outside the job's body
            log.error("jobs.ray.task_failed", job=self.job_id, error=str(error))
            return ExecutionEnd(1)
        except exceptions.RayError as error:  # the node or the worker process died under it
            return ExecutionEnd(None, f"its Ray task was lost ({type(error).__name__})")

    def terminate(self) -> None:
        import ray

        ray.cancel(self.reference)  # a KeyboardInterrupt in the task: the body stops as on SIGTERM

    def kill(self) -> None:
        import ray

        ray.cancel(self.reference, force=True)

    def wait(self, timeout: float) -> bool:
        import ray

        ready, _ = ray.wait([self.reference], timeout=timeout)
        return bool(ready)


class RayExecutor:
    name = "ray"

    def __init__(self, settings: Settings) -> None:
        import ray

        self.settings = settings
        connect(settings.ray_address)
        self._task = ray.remote(max_retries=0, max_calls=1)(run_as_ray_task)

    def start(self, job_id: str, job_type: JobType) -> RayExecution:
        options = task_options(self.settings, job_type)
        try:
            reference = self._task.options(**options).remote(job_id, self.settings.model_dump_json())
        except Exception as error:  # Ray's submission errors have no common base
            raise ExecutorUnavailable(f"the job could not be sent to Ray: {error}") from error
        log.info("jobs.ray.submitted", job=job_id, task=reference.task_id().hex(), resources=options)
        return RayExecution(job_id, reference)

    def lost(self, job: Job) -> bool:
        """Whether Ray says the node that ran `job` is dead (its task died with it)."""
        if not job.node_id:
            return False
        return job.node_id in dead_nodes()

    def close(self) -> None:
        import ray

        ray.shutdown()


def dead_nodes() -> set[str]:
    import ray

    return {node["NodeID"] for node in ray.nodes() if not node.get("Alive", False)}
