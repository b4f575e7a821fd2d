"""MLflow compatibility benchmark: the same `MlflowClient` calls against modelyard's MLflow API and against a real
`mlflow server`, both holding the same registry (100 models, 100,000 versions by default).

    PYTHONPATH=src python bench/mlflow_compat.py --mlflow-python /path/to/venv/bin/python [--versions 100000]

Both registries are filled with bulk inserts (bench/registry.py for ours, bench/registry_mlflow.py for MLflow's,
whose schema comes from MLflow's own store): registering 100,000 versions through either API would take hours.
Both servers run on SQLite in subprocesses on loopback; one MlflowClient (mlflow-skinny, this interpreter) times
every call as a user sees it, from the call to the parsed answer. Operations: get a version by alias, search
versions by tag, the first page of registered models, a deep page of a model's versions (keyset for ours, offset
for MLflow) and create_model_version throughput from several threads.

The client floor column times the same calls against bench/canned_server.py, which answers each at once with the
bytes modelyard answered it: what is left is the client's own cost (requests, JSON and protobuf parsing), which no
server can take off. "best possible" is MLflow's figure over that floor, the ratio a server answering in no time
would reach; an aim above it is out of reach through MlflowClient, whatever the server does. The last two
columns are each server's own CPU per call (its process and children, from /proc): on a shared machine the wall
clock follows the neighbours' load, the CPU a server spends on a call much less. The client's own CPU per call
(the calling thread's, median, against the canned server: the floor in CPU) gives, with the servers' CPU, a
ratio that the load moves little: (client CPU + MLflow's server CPU) / (client CPU + modelyard's server CPU),
what a quiet machine with a core for each side would show if neither side waited on anything but its CPU.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import registry
import registry_mlflow
from servers import free_port, start_server

from modelyard.config import Settings

TAG_FILTER = "tags.dataset = 'ds-3'"
# Aims from the issue: MLflow's time / ours.
AIMS = {"alias": 5.0, "search by tag": 40.0, "models first page": 40.0, "deep page": 40.0, "create": 5.0}


def client_for(base: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=base, registry_uri=base)


def p50_ms(call: Callable[[int], object], requests: int, warm_up: int = 5) -> float:
    return p50_wall_and_cpu_ms(call, requests, warm_up)[0]


def p50_wall_and_cpu_ms(call: Callable[[int], object], requests: int, warm_up: int = 5) -> tuple[float, float]:
    """Median wall-clock ms of a call, and median CPU ms of the calling thread (the client's own work: the
    client does each call in the thread that makes it)."""
    for index in range(warm_up):
        call(index)
    timings, cpu = [], []
    for index in range(requests):
        started, started_cpu = time.perf_counter(), time.thread_time()
        call(index)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return statistics.median(timings), statistics.median(cpu)


def deep_page_token(client: Any, name: str, page_size: int, depth: int) -> str:
    """The token of page `depth` of a model's versions, newest first (walked once, not timed)."""
    token = None
    for _ in range(depth - 1):
        page = client.search_model_versions(f"name = '{name}'", max_results=page_size,
                                            order_by=["version_number DESC"], page_token=token)  # fmt: skip
        token = page.token
        if not token:
            raise RuntimeError(f"{name} has fewer than {depth} pages of {page_size} versions")
    assert token is not None
    return token


def create_rate(base: str, names: list[str], clients: int, total: int) -> float:
    """create_model_version calls per second from `clients` threads, each with its own MlflowClient."""
    per_client = total // clients
    errors: list[Exception] = []

    def work(offset: int) -> None:
        client = client_for(base)
        try:
            for index in range(per_client):
                client.create_model_version(names[(offset + index) % len(names)], "s3://bench/model",
                                            tags={"dataset": "ds-new"}, await_creation_for=0)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - reported once the threads are done
            errors.append(error)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return per_client * clients / (time.perf_counter() - started)


Calls = dict[str, Callable[[int], object]]


def operations(client: Any, names: list[str], token: str, args: argparse.Namespace) -> Calls:
    """The timed reads, each a call of its index (the alias lookups pick a model at random per call)."""
    rng = random.Random(3)
    picks = [rng.choice(names) for _ in range(args.requests + 10)]
    return {
        "alias": lambda i: client.get_model_version_by_alias(picks[i], "production"),
        "search by tag": lambda i: client.search_model_versions(TAG_FILTER, max_results=100),
        "models first page": lambda i: client.search_registered_models(max_results=100),
        "deep page": lambda i: client.search_model_versions(
            f"name = '{names[0]}'", max_results=args.page_size, order_by=["version_number DESC"], page_token=token
        ),
    }


def timed(calls: Calls, args: argparse.Namespace) -> dict[str, float]:
    """p50 ms of each call and (as "<key> client cpu") the client's CPU ms per call."""
    searches = max(args.requests // 10, 5)
    found = {}
    for key, call in calls.items():
        requests = args.requests if key == "alias" else searches
        found[key], found[f"{key} client cpu"] = p50_wall_and_cpu_ms(call, requests)
    return found


def measure(base: str, names: list[str], args: argparse.Namespace, server_pid: int) -> dict[str, float]:
    """p50 ms of each read and the create rate, and (as "<key> cpu") the server's CPU ms per call: the shared
    machine's load moves the first, much less the second."""
    client = client_for(base)
    token = deep_page_token(client, names[0], args.page_size, args.deep_page)
    found: dict[str, float] = {}
    for key, call in operations(client, names, token, args).items():
        calls = args.requests if key == "alias" else max(args.requests // 10, 5)
        work = functools.partial(p50_ms, call, calls)
        found[key], found[f"{key} cpu"] = registry.cpu_ms_per_call(server_pid, calls + 5, work)
    found["create"], found["create cpu"] = registry.cpu_ms_per_call(
        server_pid, args.registrations // args.clients * args.clients,
        lambda: create_rate(base, names, args.clients, args.registrations),
    )  # fmt: skip
    return found


def measure_floor(base: str, names: list[str], args: argparse.Namespace) -> dict[str, float]:
    """The same calls against bench/canned_server.py answering each with the bytes `base` (modelyard, running)
    answered it: the client's own cost, which no server can take off the calls."""
    port = free_port()
    canned = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("canned_server.py")), str(port)])
    try:
        wait_for_canned(canned)
        real = client_for(base)
        token = deep_page_token(real, names[0], args.page_size, args.deep_page)
        answers: dict[str, tuple[str, str, dict[str, Any]]] = {
            "alias": ("GET", "/registered-models/alias", {"name": names[0], "alias": "production"}),
            "search by tag": ("GET", "/model-versions/search", {"filter": TAG_FILTER, "max_results": 100}),
            "models first page": ("GET", "/registered-models/search", {"max_results": 100}),
            "deep page": ("GET", "/model-versions/search", {"filter": f"name = '{names[0]}'",
                          "max_results": args.page_size, "order_by": "version_number DESC", "page_token": token}),
            "create": ("POST", "/model-versions/create", {"name": names[0], "source": "s3://bench/model",
                       "tags": [{"key": "dataset", "value": "ds-new"}]}),
        }  # fmt: skip
        floor_client = client_for(canned)
        calls = operations(floor_client, names, token, args)
        found = {}
        with httpx.Client(base_url=f"{base}/api/2.0/mlflow", timeout=60) as http:
            for key, (method, path, fields) in answers.items():
                if method == "GET":
                    answer = http.get(path, params=fields)
                else:
                    answer = http.post(path, json=fields)
                answer.raise_for_status()
                httpx.put(f"{canned}/canned", content=answer.content).raise_for_status()
                if key == "create":
                    started_cpu = time.process_time()  # the client's threads: this process's CPU
                    found[key] = create_rate(canned, names, args.clients, args.registrations)
                    calls_made = args.registrations // args.clients * args.clients
                    found[f"{key} client cpu"] = (time.process_time() - started_cpu) * 1000 / calls_made
                else:
                    found.update(timed({key: calls[key]}, args))
        return found
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_canned(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.put(f"{base}/canned", content=b"{}").raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def report(
    ours: dict[str, float], theirs: dict[str, float] | None, floor: dict[str, float], args: argparse.Namespace
) -> None:
    labels = {
        "alias": "get_model_version_by_alias, p50 ms",
        "search by tag": f'search_model_versions("{TAG_FILTER}", max_results=100), p50 ms',
        "models first page": "search_registered_models(max_results=100), first page, p50 ms",
        "deep page": f"search_model_versions(name=..., {args.page_size}/page), page {args.deep_page}, p50 ms",
        "create": f"create_model_version, {args.clients} threads, calls/s",
    }
    print(f"{args.models} models, {args.versions} versions; MlflowClient {client_version()} in both cases; "
          f"load average {load()}")  # fmt: skip
    print("| operation | modelyard | MLflow | MLflow / modelyard | aim | result | client floor | best possible "
          "| server CPU ms/call, modelyard | MLflow | client CPU ms/call | CPU ratio | best CPU ratio |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label in labels.items():
        mine, least = ours[key], floor[key]
        client_cpu, cpu = floor[f"{key} client cpu"], ours[f"{key} cpu"]
        if theirs is None:
            print(f"| {label} | {mine:.1f} | not run | | {AIMS[key]:.0f}x | | {least:.1f} | | {cpu:.2f} | "
                  f"| {client_cpu:.2f} | | |")  # fmt: skip
            continue
        ratio = mine / theirs[key] if key == "create" else theirs[key] / mine
        best = least / theirs[key] if key == "create" else theirs[key] / least
        result = "met" if ratio >= AIMS[key] else "missed" if best >= AIMS[key] else "out of reach"
        their_cpu = theirs[f"{key} cpu"]
        cpu_ratio = (client_cpu + their_cpu) / (client_cpu + cpu)
        best_cpu_ratio = (client_cpu + their_cpu) / client_cpu
        print(f"| {label} | {mine:.1f} | {theirs[key]:.1f} | {ratio:.1f}x | {AIMS[key]:.0f}x | {result} "
              f"| {least:.1f} | {best:.1f}x | {cpu:.2f} | {their_cpu:.2f} | {client_cpu:.2f} | {cpu_ratio:.1f}x "
              f"| {best_cpu_ratio:.1f}x |")  # fmt: skip


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def client_version() -> str:
    import mlflow

    return str(mlflow.__version__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="Timed calls of the cheap reads.")
    parser.add_argument("--page-size", type=int, default=10, help="Versions per page of the deep page.")
    parser.add_argument("--deep-page", type=int, default=50, help="Which page of a model's versions is timed.")
    parser.add_argument("--clients", type=int, default=8, help="Threads calling create_model_version.")
    parser.add_argument("--registrations", type=int, default=400, help="create_model_version calls in all.")
    parser.add_argument("--mlflow-python", help="Python with mlflow installed (default: a new virtualenv).")
    parser.add_argument("--no-mlflow", action="store_true", help="Measure modelyard only.")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    scratch = Path(tempfile.mkdtemp(prefix="modelyard-mlflow-bench-"))
    processes = []
    try:
        started = time.perf_counter()
        info = registry.fill(Settings(data_dir=scratch / "modelyard"), args.models, args.versions)
        print(f"[modelyard] filled in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        port = free_port()
        processes.append(start_server(scratch / "modelyard", port))
        print(f"[modelyard] load average {load()}", file=sys.stderr)
        ours = measure(f"http://127.0.0.1:{port}", info["names"], args, processes[-1].pid)  # type: ignore[arg-type]
        print(f"[floor] load average {load()}", file=sys.stderr)
        floor = measure_floor(f"http://127.0.0.1:{port}", info["names"], args)  # type: ignore[arg-type]
        theirs = None
        if not args.no_mlflow:
            python = registry_mlflow.mlflow_python(args.mlflow_python, scratch)
            started = time.perf_counter()
            names = registry_mlflow.fill(python, scratch / "mlflow.db", args.models, args.versions)
            print(f"[mlflow] filled in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            mlflow_port = free_port()
            server = registry_mlflow.start(python, scratch / "mlflow.db", mlflow_port, None)
            print(f"[mlflow] load average {load()}", file=sys.stderr)
            try:
                theirs = measure(f"http://127.0.0.1:{mlflow_port}", names, args, server.pid)
            finally:
                registry_mlflow.stop(server)
        report(ours, theirs, floor, args)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
