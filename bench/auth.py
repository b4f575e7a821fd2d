"""What a bearer token costs on the registry's hot read: the alias lookup over HTTP, against the same
lookup on the same server before any token existed (the anchor).

    python bench/auth.py --requests 2000

A real `modelyard serve` on SQLite; one model, one version, a `production` alias. The server is started
without tokens and measured; then `modelyard token create` (another process) turns authentication on,
and the same requests are measured with the token. Aim: the token adds no database round trip, i.e.
< 0.1 ms to the p50.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import free_port, start_server  # noqa: E402

AIM_MS = 0.1
ENABLED_NOTICE_SECONDS = 2.5  # the server asks the database whether tokens exist every 2 s


def measure(http: httpx.Client, path: str, requests: int) -> tuple[float, float]:
    for _ in range(50):  # warm-up
        http.get(path).raise_for_status()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = http.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def create_token(data_dir: Path) -> str:
    env = {**os.environ, "MODELYARD_DATA_DIR": str(data_dir), "MODELYARD_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "modelyard", "token", "create", "bench", "--scope", "read", "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    secret: str = json.loads(result.stdout)["secret"]
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir, port = Path(scratch) / "data", free_port()
        server = start_server(data_dir, port)
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            path = "/registry/models/bench/versions/@production"
            with httpx.Client(base_url=base, timeout=10) as http:
                http.post("/registry/models/bench/versions", json={"create_model": True}).raise_for_status()
                http.put("/registry/models/bench/aliases/production", json={"version": 1}).raise_for_status()
                anchor = measure(http, path, args.requests)
            secret = create_token(data_dir)
            time.sleep(ENABLED_NOTICE_SECONDS)
            with httpx.Client(base_url=base, timeout=10) as http:
                refused = http.get(path).status_code
                http.headers["authorization"] = f"Bearer {secret}"
                ours = measure(http, path, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=30)
    added = ours[0] - anchor[0]
    verdict = "met" if added < AIM_MS else f"missed by {added - AIM_MS:.2f} ms"
    print(f"alias lookup over HTTP, SQLite, {args.requests} requests; without a token after `token create`: {refused}")
    print("| case | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    print(f"| no tokens (anchor) | {anchor[0]:.2f} | {anchor[1]:.2f} |")
    print(f"| stored read token | {ours[0]:.2f} | {ours[1]:.2f} |")
    print(f"added to p50: {added:+.2f} ms; aim < {AIM_MS} ms: {verdict}")


if __name__ == "__main__":
    main()
