"""The MLflow anchor for bench/registry.py: a real `mlflow server` (SQLite backend store) filled with
the same shape of registry, and the REST paths that match ours.

The schema comes from MLflow's own store (its migrations run in the MLflow interpreter); the rows
go in with plain SQL, in one transaction, because registering 100,000 versions through the REST
API would take hours. MLflow versions carry the same three tags; MLflow has no version metrics.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

MLFLOW_VERSION = "3.17.2"
API = "/api/2.0/mlflow"


def mlflow_python(given: str | None, scratch: Path) -> str:
    """The interpreter that has mlflow: the one given, or a fresh virtualenv with mlflow installed."""
    if given:
        return given
    venv = scratch / "mlflow-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}"], check=True)
    return python


def fill(python: str, database: Path, models: int, versions: int) -> list[str]:
    """Create MLflow's schema with its own store, then bulk-insert models, versions, tags, aliases."""
    uri = f"sqlite:///{database}"
    create = f"from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore; SqlAlchemyStore({uri!r})"
    subprocess.run([python, "-c", create], check=True, capture_output=True)
    rng = random.Random(7)
    now = int(time.time() * 1000)
    per_model = versions // models
    names = [f"model-{index:03d}" for index in range(models)]
    version_rows, tag_rows = [], []
    for number in range(1, per_model + 1):
        for name in names:
            stage = "Production" if number == per_model - 1 else "None"
            version_rows.append((name, number, now, now, "", "bench", stage, "s3://bench/model", "READY"))
            tag_rows += [
                ("dataset", f"ds-{number % 10}", name, number),
                ("owner", f"user-{rng.randrange(20)}", name, number),
                ("commit", f"{rng.getrandbits(40):010x}", name, number),
            ]
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, '')",
            [(name, now, now) for name in names],
        )
        connection.executemany(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id,"
            " current_stage, source, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            version_rows,
        )
        connection.executemany(
            'INSERT INTO model_version_tags ("key", value, name, version) VALUES (?, ?, ?, ?)', tag_rows
        )
        connection.executemany(
            "INSERT INTO registered_model_aliases (alias, version, name) VALUES ('production', ?, ?)",
            [(per_model - 1, name) for name in names],
        )
    return names


def start(python: str, database: Path, port: int, workers: int | None) -> subprocess.Popen[bytes]:
    """`mlflow server` in its own process group (it starts worker processes of its own)."""
    command = [python, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{database}",
               "--default-artifact-root", str(database.parent / "artifacts"), "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    if workers:
        command += ["--workers", str(workers)]
    # The job executor is not part of the registry; without it no consumer processes are started.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.5)
    stop(process)
    raise RuntimeError("mlflow server did not start within 180 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


def alias_path(name: str) -> str:
    return f"{API}/registered-models/alias?name={name}&alias=production"


def latest_path(name: str) -> str:
    # MLflow's "latest" is per stage: this answers the newest version and the Production one.
    return f"{API}/registered-models/get-latest-versions?name={name}"


def registration_for(names: list[str]) -> Callable[[int], tuple[str, dict[str, object]]]:
    tags = [{"key": "dataset", "value": "ds-new"}, {"key": "owner", "value": "bench"}]
    return lambda index: (
        f"{API}/model-versions/create",
        {"name": names[index % len(names)], "source": "s3://bench/model", "tags": tags},
    )


def measure_server_time(base: str, make_path: Callable[[int], str], requests: int) -> tuple[float, float]:
    """p50 and p99 in ms until the first byte of each answer, over one keep-alive connection.

    MLflow's server sends a response's head and body as two TCP segments (Nagle's algorithm), so
    on Linux the body waits for the client's delayed ACK: every answer arrives 40 ms late through
    any HTTP client. The head is written only once the handler has finished, so the time to the
    first byte is the server's own time, which is what the comparison uses (the stall left out,
    in MLflow's favour).
    """
    host, port = base.removeprefix("http://").split(":")
    timings = []
    with socket.create_connection((host, int(port))) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for index in range(requests + 20):
            request = f"GET {make_path(index)} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
            started = time.perf_counter()
            connection.sendall(request)
            received = connection.recv(65536)
            first = (time.perf_counter() - started) * 1000
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            head, _, body = received.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"MLflow answered {head[:40]!r}")
            length = next(int(line.split(b":")[1])
                          for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            while len(body) < length:
                body += connection.recv(65536)
            if index >= 20:  # warm-up
                timings.append(first)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
