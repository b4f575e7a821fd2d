"""Two versions of modelyard's MLflow API side by side: the same MlflowClient calls against a server running each
source tree (say main's and a branch's), both on copies of one filled registry, in interleaved rounds.

    PYTHONPATH=src:bench python bench/mlflow_ab.py --before /path/to/main/src --after src [--versions 100000]

For each call and tree it prints, as medians over the rounds: the server's CPU per call (its process, from
/proc), and the client's own CPU per call against bench/canned_server.py answering with that tree's bytes (what
the client spends on what that tree sends). On a shared machine both move with the neighbours' load; the rounds
alternate which tree goes first, so the two columns see the same load. The Python function calls one client call
makes against the canned answer (counted by cProfile) do not move with the load at all.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import mlflow_compat
import registry
from servers import free_port, start_server

from modelyard.config import Settings

CALLS = ("alias", "search by tag", "models first page", "deep page")


def serve(source: Path, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    return start_server(data_dir, port, source=source), f"http://127.0.0.1:{port}"


def answer_bytes(base: str, key: str, name: str, token: str) -> bytes:
    """What the server at `base` answers the request MlflowClient sends for `key` (as in measure_floor)."""
    # MLflow's client adds its prompt clause to registered-model searches only.
    requests: dict[str, dict[str, Any]] = {
        "alias": {"name": name, "alias": "production"},
        "search by tag": {"filter": mlflow_compat.TAG_FILTER, "max_results": 100},
        "models first page": {"filter": "tag.`mlflow.prompt.is_prompt` != 'true'", "max_results": 100},
        "deep page": {"filter": f"name = '{name}'", "max_results": 10, "order_by": "version_number DESC",
                      "page_token": token},
    }  # fmt: skip
    fields = requests[key]
    path = {"alias": "/registered-models/alias", "models first page": "/registered-models/search"}.get(
        key, "/model-versions/search"
    )
    answer = httpx.get(f"{base}/api/2.0/mlflow{path}", params=fields, timeout=60)
    answer.raise_for_status()
    return answer.content


def python_calls(call: Any) -> int:
    """The Python function calls one client call makes (after a warm-up call)."""
    call(0)
    profile = cProfile.Profile()
    profile.enable()
    call(0)
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="The first source tree (its src folder).")
    parser.add_argument("--after", type=Path, required=True, help="The second source tree.")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=200, help="Calls per round of the cheap reads.")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    scratch = Path(tempfile.mkdtemp(prefix="modelyard-mlflow-ab-"))
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    canned_port = free_port()
    canned = subprocess.Popen([sys.executable, str(Path(__file__).with_name("canned_server.py")), str(canned_port)])
    canned_base = f"http://127.0.0.1:{canned_port}"
    try:
        info = registry.fill(Settings(data_dir=scratch / "filled"), args.models, args.versions)
        names: list[str] = info["names"]  # type: ignore[assignment]
        for label, source in (("before", args.before), ("after", args.after)):
            shutil.copytree(scratch / "filled", scratch / label)
            servers[label] = serve(source.resolve(), scratch / label)
        mlflow_compat.wait_for_canned(canned_base)
        floor_client = mlflow_compat.client_for(canned_base)
        server_cpu: dict[tuple[str, str], list[float]] = {}
        client_cpu: dict[tuple[str, str], list[float]] = {}
        client_calls: dict[tuple[str, str], int] = {}
        settings = argparse.Namespace(requests=args.requests * 2, page_size=10, deep_page=50)
        tokens = {label: mlflow_compat.deep_page_token(mlflow_compat.client_for(base), names[0], 10, 50)
                  for label, (_, base) in servers.items()}  # fmt: skip
        for round_index in range(args.rounds):
            order = ("before", "after") if round_index % 2 == 0 else ("after", "before")
            for key in CALLS:
                calls = args.requests if key in ("alias", "deep page") else max(args.requests // 10, 5)
                for label in order:
                    process, base = servers[label]
                    real = mlflow_compat.operations(mlflow_compat.client_for(base), names, tokens[label], settings)
                    work = functools.partial(mlflow_compat.p50_wall_and_cpu_ms, real[key], calls)
                    _, cpu = registry.cpu_ms_per_call(process.pid, calls + 5, work)
                    server_cpu.setdefault((label, key), []).append(cpu)
                    body = answer_bytes(base, key, names[0], tokens[label])
                    httpx.put(f"{canned_base}/canned", content=body).raise_for_status()
                    floor = mlflow_compat.operations(floor_client, names, tokens[label], settings)
                    client_cpu.setdefault((label, key), []).append(
                        mlflow_compat.p50_wall_and_cpu_ms(floor[key], calls)[1]
                    )
                    client_calls[(label, key)] = python_calls(floor[key])
        print(f"{args.models} models, {args.versions} versions, {args.rounds} rounds; load average "
              f"{mlflow_compat.load()}")  # fmt: skip
        print("| call | server CPU ms/call, before | after | after / before | client CPU ms/call on the answer, "
              "before | after | after / before | Python calls per client call, before | after |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for key in CALLS:
            server = [statistics.median(server_cpu[(label, key)]) for label in ("before", "after")]
            client = [statistics.median(client_cpu[(label, key)]) for label in ("before", "after")]
            print(f"| {key} | {server[0]:.2f} | {server[1]:.2f} | {server[1] / server[0]:.2f} | {client[0]:.2f} "
                  f"| {client[1]:.2f} | {client[1] / client[0]:.2f} | {client_calls[('before', key)]} "
                  f"| {client_calls[('after', key)]} |")  # fmt: skip
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
        canned.terminate()
        canned.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
