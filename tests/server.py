"""A real `modelyard serve` process for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from modelyard.config import Settings
from tests.waiting import START_CEILING_SECONDS

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


STORAGE_SETTINGS = ("storage_url", "s3_endpoint_url", "s3_access_key_id", "s3_secret_access_key", "s3_addressing_style")


def server_env(settings: Settings, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MODELYARD_DATA_DIR=str(settings.data_dir),
        MODELYARD_PORT=str(port),
        MODELYARD_HOST="127.0.0.1",
        MODELYARD_JOB_MODULES=json.dumps(settings.job_modules),
        MODELYARD_JOB_POLL_SECONDS="0.1",
        MODELYARD_JOB_HEARTBEAT_SECONDS="0.3",
        MODELYARD_LOG_LEVEL="warning",
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")]),
    )
    if settings.database_url:
        env["MODELYARD_DATABASE_URL"] = settings.database_url
    else:
        env.pop("MODELYARD_DATABASE_URL", None)
    for name in STORAGE_SETTINGS:  # an S3 store (tests/s3.py), or the data directory when none is set
        value = getattr(settings, name)
        if value:
            env[f"MODELYARD_{name.upper()}"] = str(value)
        else:
            env.pop(f"MODELYARD_{name.upper()}", None)
    return env


class ServerProcess:
    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        serve_options: Sequence[str] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.extra_env = dict(extra_env or {})
        self.serve_options = list(serve_options)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = START_CEILING_SECONDS) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "modelyard", "serve", *self.serve_options],
                env={**server_env(self.settings, self.port), **self.extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer in {timeout} s: {self.log_path.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
