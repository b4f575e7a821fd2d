"""A real `modelyard serve` in a subprocess on a free loopback port, for the benches that measure over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    data_dir: Path,
    port: int,
    database_url: str | None = None,
    settings: dict[str, str] | None = None,
    source: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start the server on `data_dir` (and `database_url`, else SQLite there; `settings` as MODELYARD_* variables,
    e.g. {"STORAGE_URL": "s3://..."}; `source`, a tree's `src` folder to run instead of the installed package);
    return once it answers health."""
    env = {**os.environ, "MODELYARD_DATA_DIR": str(data_dir), "MODELYARD_LOG_LEVEL": "warning"}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    env.update({f"MODELYARD_{name}": value for name, value in (settings or {}).items()})
    env.pop("MODELYARD_DATABASE_URL", None)
    if database_url:
        env["MODELYARD_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "modelyard", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start: {process.stderr.read().decode() if process.stderr else ''}")
