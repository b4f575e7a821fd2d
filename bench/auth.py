"""What a bearer token costs on the registry's hot read: the alias lookup over HTTP with a stored read token,
against the same lookup on a twin server that has no token at all (the anchor).

    python bench/auth.py --requests 2000

Two real `modelyard serve` on SQLite, each with one model, one version and a `production` alias; one of them
has a token made by `modelyard token create`. Requests alternate between the two, so the neighbours' load on
this shared machine falls on both alike. Aim: the token adds no database round trip, i.e. < 0.1 ms to the p50.
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
from servers import free_port, start_server

AIM_MS = 0.1


def measure(anchor: httpx.Client, ours: httpx.Client, path: str, requests: int) -> list[tuple[float, float]]:
    """(p50, p99) in ms of each client, requests alternating between them."""
    timings: list[list[float]] = [[], []]
    for round_number in range(requests + 50):
        for side, http in enumerate((anchor, ours)):
            started = time.perf_counter()
            response = http.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if round_number >= 50:  # the first ones warm up
                timings[side].append(elapsed)
    return [(statistics.median(side), sorted(side)[int(len(side) * 0.99) - 1]) for side in timings]


def create_token(data_dir: Path) -> str:
    env = {**os.environ, "MODELYARD_DATA_DIR": str(data_dir), "MODELYARD_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "modelyard", "token", "create", "bench", "--scope", "write", "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    secret: str = json.loads(result.stdout)["secret"]
    return secret


def serve_model(data_dir: Path, secret: str | None) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    port = free_port()
    server = start_server(data_dir, port)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10)
    if secret:
        http.headers["authorization"] = f"Bearer {secret}"
    http.post("/registry/models/bench/versions", json={"create_model": True}).raise_for_status()
    http.put("/registry/models/bench/aliases/production", json={"version": 1}).raise_for_status()
    return server, http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    path = "/registry/models/bench/versions/@production"
    with tempfile.TemporaryDirectory() as scratch:
        secret = create_token(Path(scratch) / "ours")
        anchor_server, anchor = serve_model(Path(scratch) / "anchor", None)
        our_server, ours = serve_model(Path(scratch) / "ours", secret)
        try:
            refused = httpx.get(str(ours.base_url).rstrip("/") + path).status_code
            (anchor_p50, anchor_p99), (our_p50, our_p99) = measure(anchor, ours, path, args.requests)
        finally:
            for server, http in ((anchor_server, anchor), (our_server, ours)):
                http.close()
                server.terminate()
                server.wait(timeout=30)
    added = our_p50 - anchor_p50
    verdict = "met" if added < AIM_MS else f"missed by {added - AIM_MS:.2f} ms"
    print(f"alias lookup over HTTP, SQLite, {args.requests} requests each, alternating; no token on ours: {refused}")
    print("| case | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    print(f"| no tokens (anchor) | {anchor_p50:.2f} | {anchor_p99:.2f} |")
    print(f"| stored write token | {our_p50:.2f} | {our_p99:.2f} |")
    print(f"added to p50: {added:+.2f} ms; aim < {AIM_MS} ms: {verdict}")


if __name__ == "__main__":
    main()
