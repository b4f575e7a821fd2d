"""`modelyard doctor`: whether a configuration works, checked against the real services it names.

Each check talks to its service as the server would: the database answers and carries the newest schema, the store
takes bytes and gives the same bytes back (sha256 compared), and, with the Ray executor, the cluster answers and
has a live node that can hold each job type's resources. One line per check; any failure fails the whole.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelyard.config import Settings
from modelyard.jobs.registry import JobTypeRegistry

PROBE_BYTES = 256 * 1024
MIB = 1024**2


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[CheckResult]:
    checks: list[tuple[str, Callable[[Settings], str]]] = [("database", check_database), ("store", check_store)]
    if settings.executor == "ray":
        checks.append(("ray", check_ray))
    results = []
    for name, check in checks:
        try:
            results.append(CheckResult(name, True, check(settings)))
        except Exception as error:  # noqa: BLE001 - every failure is a finding to print, not a crash
            results.append(CheckResult(name, False, f"{type(error).__name__}: {error}"))
    return results


def check_database(settings: Settings) -> str:
    from sqlalchemy import text

    from modelyard.db import migrate
    from modelyard.db.engine import Database

    database = Database(settings)
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migrate.current_revision(database.engine), migrate.head_revision()
        where = f"{database.dialect} at {database.engine.url.render_as_string(hide_password=True)}"
        if current != head:
            raise RuntimeError(f"{where} is at revision {current}, not {head}: run `modelyard db upgrade`")
        return f"{where}, revision {current}"
    finally:
        database.dispose()


def check_store(settings: Settings) -> str:
    """Store random bytes, read them back through the store (which verifies), compare the sha256, remove them."""
    from modelyard.storage.factory import open_store

    store = open_store(settings, owner=f"doctor-{os.getpid()}")
    payload = os.urandom(PROBE_BYTES)
    expected = hashlib.sha256(payload).hexdigest()
    key = f"doctor/probe-{expected[:16]}.bin"
    try:
        stored = store.put(key, io.BytesIO(payload))
        try:
            if stored.sha256 != expected or stored.size != len(payload):
                raise RuntimeError(f"stored sha256 {stored.sha256} ({stored.size} bytes), sent {expected}")
            digest = hashlib.sha256()
            for chunk in store.open(key, stored.sha256, stored.size):
                digest.update(chunk)
            if digest.hexdigest() != expected:
                raise RuntimeError(f"read back sha256 {digest.hexdigest()}, wrote {expected}")
        finally:
            store.remove_key(key)
            store.remove_content(expected)  # random bytes: nothing else refers to them
    finally:
        store.release()
    where = settings.storage_url or str(settings.data_dir)
    return f"{store.backend} at {where}: wrote and read back {PROBE_BYTES} bytes, sha256 matches"


def job_needs(settings: Settings, uses_gpu: bool) -> dict[str, float]:
    """The Ray resources one job asks for (as ray_executor.task_options asks them); `uses_gpu`: a training."""
    needs = {"CPU": settings.ray_job_cpus, **settings.ray_resources}
    if settings.ray_job_memory_mb:
        needs["memory"] = float(settings.ray_job_memory_mb * MIB)
    if uses_gpu and settings.ray_training_gpus:
        needs["GPU"] = settings.ray_training_gpus
    return needs


def check_ray(settings: Settings) -> str:
    import ray

    from modelyard.jobs.ray_executor import connect

    connect(settings.ray_address)
    try:
        nodes = [node for node in ray.nodes() if node.get("Alive")]
    finally:
        ray.shutdown()
    registry = JobTypeRegistry.for_settings(settings)
    unplaceable = []
    for name in registry.names():
        needs = job_needs(settings, registry.get(name).uses_gpu)
        if not any(_fits(needs, node["Resources"]) for node in nodes):
            unplaceable.append(f"{name} needs {_describe(needs)}")
    if unplaceable:
        raise RuntimeError(f"no live node of the {len(nodes)} at {settings.ray_address} can run: "
                           + "; ".join(unplaceable))  # fmt: skip
    job, training = _describe(job_needs(settings, False)), _describe(job_needs(settings, True))
    return f"{len(nodes)} live node(s) at {settings.ray_address}; every job type fits on one (a job: {job}; " \
        f"a training: {training})"


def _fits(needs: dict[str, float], resources: dict[str, Any]) -> bool:
    return all(float(resources.get(name, 0.0)) >= amount for name, amount in needs.items())


def _describe(needs: dict[str, float]) -> str:
    parts = []
    for name, amount in sorted(needs.items()):
        parts.append(f"{amount / MIB:.0f} MiB memory" if name == "memory" else f"{amount:g} {name}")
    return ", ".join(parts)
