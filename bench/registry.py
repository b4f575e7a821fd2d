"""Registry benchmark: 100 models, 100,000 versions (tags, metrics, aliases, events), over HTTP.

    PYTHONPATH=src python bench/registry.py [--models 100] [--versions 100000] [--requests 500]

Setup fills a fresh SQLite data directory with bulk inserts (SQLAlchemy Core); then the real
server runs in a subprocess (`modelyard serve` on 127.0.0.1, a random port) and httpx measures
latency sequentially over one keep-alive connection, and registration throughput with several
concurrent clients.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from modelyard.kit.pagination import encode_cursor
from modelyard.config import Settings
from modelyard.db import migrate
from modelyard.db.engine import make_engine
from modelyard.registry.models import (
    ModelAlias,
    ModelVersion,
    ModelVersionMetric,
    ModelVersionTag,
    RegisteredModel,
    RegistryEvent,
    new_ordered_id,
)

BATCH = 5_000
LABELS = {"0": "ok", "1": "scratch", "2": "dent"}


def fill(settings: Settings, models: int, versions: int) -> dict[str, object]:
    """Bulk-insert the registry's rows; returns what the measurements need (names, cursors)."""
    engine = make_engine(settings)
    migrate.upgrade(engine)
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    per_model = versions // models
    model_rows = [
        {"id": f"{index:032x}", "name": f"model-{index:03d}", "description": f"benchmark model {index}",
         "metadata": {"team": f"team-{index % 7}"}, "archived": False, "next_version_number": per_model + 1,
         "num_versions": per_model, "created_at": start + timedelta(minutes=index),
         "updated_at": start + timedelta(minutes=index), "created_by": "bench", "updated_by": "bench"}
        for index in range(models)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(RegisteredModel), model_rows)
    version_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    metric_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    alias_rows: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as connection:
            for table, rows in ((ModelVersion, version_rows), (ModelVersionTag, tag_rows),
                                (ModelVersionMetric, metric_rows), (RegistryEvent, event_rows),
                                (ModelAlias, alias_rows)):  # fmt: skip
                if rows:
                    connection.execute(insert(table), rows)
                    rows.clear()

    # Versions are registered round-robin over the models, as a busy registry would see them.
    for number in range(1, per_model + 1):
        for model in model_rows:
            version_id = new_ordered_id()
            at = start + timedelta(seconds=len(version_rows))
            accuracy, f1 = rng.random(), rng.random()
            stage = "production" if number == per_model - 1 else "none"
            version_rows.append({
                "id": version_id, "model_id": model["id"], "number": number, "name": "", "description": "",
                "framework": "pytorch", "task_type": "multiclass_classification", "label_map": LABELS,
                "parameters": {"learning_rate": 0.001, "epochs": 10}, "runtime": {},
                "metrics": {"accuracy": accuracy, "f1": f1}, "stage": stage, "source_revision_id": None,
                "source": {"kind": "uploaded"}, "created_at": at, "updated_at": at, "created_by": "bench",
                "updated_by": "bench",
            })  # fmt: skip
            tag_rows += [
                {"id": new_ordered_id(), "version_id": version_id, "key": "dataset", "value": f"ds-{number % 10}"},
                {"id": new_ordered_id(), "version_id": version_id, "key": "owner",
                 "value": f"user-{rng.randrange(20)}"},
                {"id": new_ordered_id(), "version_id": version_id, "key": "commit",
                 "value": f"{rng.getrandbits(40):010x}"},
            ]  # fmt: skip
            metric_rows += [
                {"version_id": version_id, "name": "accuracy", "value": accuracy},
                {"version_id": version_id, "name": "f1", "value": f1},
            ]
            event_rows.append({
                "id": new_ordered_id(), "model_id": model["id"], "model_name": model["name"],
                "version_id": version_id, "version_number": number, "action": "version.registered", "subject": None,
                "actor": "bench", "at": at, "before": None, "after": {"stage": "none"}, "comment": "",
            })  # fmt: skip
            if number == per_model - 1:
                alias_rows.append({"id": new_ordered_id(), "model_id": model["id"], "alias": "production",
                                   "version_id": version_id, "updated_at": at, "updated_by": "bench"})  # fmt: skip
            if len(version_rows) >= BATCH:
                flush()
    flush()
    with engine.connect() as connection:
        deep_id = connection.scalar(
            select(ModelVersion.id).order_by(ModelVersion.id.desc()).offset(4_999 * 20 - 1).limit(1)
        ) if versions >= 100_000 else None
        model_deep = connection.execute(
            select(ModelVersion.number, ModelVersion.id)
            .where(ModelVersion.model_id == model_rows[0]["id"])
            .order_by(ModelVersion.number.desc())
            .offset(49 * 20 - 1)
            .limit(1)
        ).first()
    engine.dispose()
    return {
        "names": [model["name"] for model in model_rows],
        "deep_cursor": encode_cursor(deep_id, deep_id) if deep_id else None,
        "model_deep_cursor": encode_cursor(model_deep[0], model_deep[1]) if model_deep else None,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MODELYARD_DATA_DIR": str(data_dir), "MODELYARD_LOG_LEVEL": "warning"}
    env.pop("MODELYARD_DATABASE_URL", None)
    command = [sys.executable, "-m", "modelyard", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start: {process.stderr.read().decode() if process.stderr else ''}")


def measure(http: httpx.Client, make_path: Callable[[int], str], requests: int) -> tuple[float, float, int]:
    for index in range(20):  # warm-up
        http.get(make_path(index)).raise_for_status()
    timings, items = [], 0
    for index in range(requests):
        started = time.perf_counter()
        response = http.get(make_path(index))
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
        items = len(body["items"]) if isinstance(body, dict) and "items" in body else 1
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], items


def registration_throughput(bases: list[str], names: list[str], clients: int, total: int) -> float:
    counter = iter(range(total))
    lock = threading.Lock()

    def work(base: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                body = {"framework": "pytorch", "metrics": {"accuracy": 0.5, "f1": 0.5},
                        "tags": {"dataset": "ds-new", "owner": "bench"},
                        "label_map": {0: "ok", 1: "scratch"}}  # fmt: skip
                http.post(f"/registry/models/{names[index % len(names)]}/versions", json=body).raise_for_status()

    threads = [threading.Thread(target=work, args=(bases[index % len(bases)],)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500, help="Timed requests per measurement.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients for registration.")
    parser.add_argument("--registrations", type=int, default=2_000)
    parser.add_argument(
        "--servers", type=int, default=1, help="Server processes on the same data directory for registration."
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="modelyard-bench-"))
    try:
        started = time.perf_counter()
        info = fill(Settings(data_dir=data_dir), args.models, args.versions)
        print(f"filled {args.models} models, {args.versions} versions in {time.perf_counter() - started:.1f} s")
        ports = [free_port() for _ in range(args.servers)]
        servers = [start_server(data_dir, port) for port in ports]
        bases = [f"http://127.0.0.1:{port}/api/v1" for port in ports]
        base = bases[0]
        names: list[str] = info["names"]  # type: ignore[assignment]
        rng = random.Random(1)
        picks = [rng.choice(names) for _ in range(args.requests + 20)]
        cases: list[tuple[str, Callable[[int], str]]] = [
            ("get by alias (name@production)", lambda i: f"/registry/models/{picks[i]}/versions/@production"),
            ("get latest (name/latest)", lambda i: f"/registry/models/{picks[i]}/versions/latest"),
            ("list models, first page (50)", lambda i: "/registry/models?limit=50"),
            ("list models by last update, first page",
             lambda i: "/registry/models?limit=50&sort=last_updated_time&order=desc"),
            ("all versions, first page (20)", lambda i: "/registry/versions?limit=20"),
            ("all versions, page 5,000 (20/page)",
             lambda i: f"/registry/versions?limit=20&cursor={info['deep_cursor']}"),
            ("a model's versions, first page (20)", lambda i: f"/registry/models/{names[0]}/versions?limit=20"),
            ("a model's versions, page 50 (20/page)",
             lambda i: f"/registry/models/{names[0]}/versions?limit=20&cursor={info['model_deep_cursor']}"),
            ("search versions by tag (dataset:ds-3)", lambda i: "/registry/versions?tag=dataset:ds-3&limit=20"),
            ("search versions by metric (accuracy>=0.9)", lambda i: "/registry/versions?metric=accuracy>=0.9&limit=20"),
        ]  # fmt: skip
        rows = []
        try:
            with httpx.Client(base_url=base, timeout=30) as http:
                for label, make_path in cases:
                    if ("page 5,000" in label and not info["deep_cursor"]) or (
                        "page 50" in label and not info["model_deep_cursor"]
                    ):
                        continue  # a smaller registry than the default has no such page
                    p50, p99, items = measure(http, make_path, args.requests)
                    rows.append((label, f"{p50:.2f}", f"{p99:.2f}", str(items)))
            throughput = registration_throughput(bases, names, args.clients, args.registrations)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
        print()
        print(f"| measurement ({args.requests} sequential requests each) | p50 ms | p99 ms | items |")
        print("| --- | ---: | ---: | ---: |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print(f"| registration, {args.clients} concurrent clients, {args.registrations} versions, "
              f"{args.servers} server process(es) | "
              f"{throughput:.0f} versions/s | | |")  # fmt: skip
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
