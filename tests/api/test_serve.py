"""`modelyard serve` refuses to listen beyond loopback without API tokens, unless told `--insecure`."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.api.guard import serve_refusal
from modelyard.config import Settings
from tests.server import ServerProcess, free_port, server_env

# The decision reads settings only; the real start uses the embedded database.
LOOPBACK = ["127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost"]
BEYOND_LOOPBACK = ["0.0.0.0", "::", "", "192.168.1.5", "models.example.com"]


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", log_level="warning", **overrides)


@pytest.mark.parametrize("host", LOOPBACK)
def test_serving_loopback_needs_no_tokens(tmp_path: Path, host: str) -> None:
    assert serve_refusal(_settings(tmp_path, host=host), authenticated=False) is None


@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_serving_beyond_loopback_needs_tokens_or_insecure(tmp_path: Path, host: str) -> None:
    reason = serve_refusal(_settings(tmp_path, host=host), authenticated=False)
    assert reason is not None and "--insecure" in reason and "token" in reason
    assert serve_refusal(_settings(tmp_path, host=host), authenticated=True) is None
    assert serve_refusal(_settings(tmp_path, host=host, insecure=True), authenticated=False) is None


def test_serve_on_every_address_without_tokens_exits_1_with_one_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    port = free_port()
    env = server_env(settings, port)
    env.pop("MODELYARD_API_TOKENS", None)
    done = subprocess.run(
        [sys.executable, "-m", "modelyard", "serve", "--host", "0.0.0.0"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: refusing to serve on 0.0.0.0 without API tokens")
    assert "--insecure" in lines[0] and "modelyard token create" in lines[0]
    assert "serving" not in done.stdout
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_serve_insecure_starts_and_logs_a_warning(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    server = ServerProcess(settings, tmp_path / "server.log", serve_options=["--insecure"])
    server.start()
    try:
        assert httpx.get(f"{server.url}/api/v1/health").json()["status"] == "ok"
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "server.insecure" in log and "[warning" in log
