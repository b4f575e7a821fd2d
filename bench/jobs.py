"""Job dispatch: how long from `POST /jobs` until the job's body runs, for local processes and for Ray tasks.

    PYTHONPATH=src:bench python bench/jobs.py [--jobs 30]

For each executor a real server starts (SQLite in a temp folder; for Ray, a one-node cluster started here with
`ray start --head` on 127.0.0.1 and stopped after). Jobs are submitted one after another, each once the previous has
finished, so every one meets an idle runner: the figures are dispatch, not queueing. Two latencies per job:
claimed (the runner set it `running`: created_at -> started_at) and body (the body's first line ran, read from the
clock the body itself records; same machine, same clock).

This module is also the bench's job module (MODELYARD_JOB_MODULES=["jobs"]): `bench.started` returns the time its
body began.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict
from servers import free_port, start_server

from modelyard.jobs.registry import JobType
from modelyard.percentiles import percentile

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RAY = Path(sys.executable).with_name("ray")


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


def started(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    return {"body_started": time.time()}


JOB_TYPES = [JobType("bench.started", started, "Returns when its body began.", NoParams, public=True)]


def _parse_time(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


def measure(base_url: str, jobs: int) -> dict[str, list[float]]:
    claimed, body = [], []
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=60) as client:
        for _ in range(jobs):
            submitted = time.time()
            job = client.post("/jobs", json={"type": "bench.started"}).raise_for_status().json()
            while job["status"] not in ("succeeded", "failed", "cancelled"):
                time.sleep(0.01)
                job = client.get(f"/jobs/{job['id']}").raise_for_status().json()
            if job["status"] != "succeeded":
                raise RuntimeError(f"job {job['id']} {job['status']}: {job['error']}")
            claimed.append((_parse_time(job["started_at"]) - _parse_time(job["created_at"])) * 1000)
            body.append((job["result"]["body_started"] - submitted) * 1000)
    return {"claimed": claimed, "body": body}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "src"), str(BENCH_DIR), env.get("PYTHONPATH", "")])
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
    return env


def run_executor(executor: str, jobs: int) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-jobs-{executor}-"))
    extra = {"MODELYARD_JOB_MODULES": json.dumps(["jobs"]), "MODELYARD_EXECUTOR": executor}
    head_port = free_port()
    if executor == "ray":
        head = [str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={head_port}", "--num-cpus=2",
                "--include-dashboard=false", "--disable-usage-stats", f"--object-store-memory={80 * 1024**2}"]
        subprocess.run(head, env=_env({}), check=True, capture_output=True)
        extra.update(MODELYARD_RAY_ADDRESS=f"127.0.0.1:{head_port}", MODELYARD_RAY_JOB_MEMORY_MB="0")
    saved = dict(os.environ)
    os.environ.update(_env(extra))
    port = free_port()
    server = start_server(folder, port)
    try:
        measure(f"http://127.0.0.1:{port}", 2)  # warm: the first Ray task starts the worker pool, imports modules
        return measure(f"http://127.0.0.1:{port}", jobs)
    finally:
        server.terminate()
        server.wait(30)
        os.environ.clear()
        os.environ.update(saved)
        if executor == "ray":
            subprocess.run([str(RAY), "stop", "--force"], env=_env({}), capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--executors", default="local,ray")
    args = parser.parse_args()
    print(f"{'executor':8} {'latency':8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  ({args.jobs} jobs, one at a time)")
    for executor in args.executors.split(","):
        figures = run_executor(executor, args.jobs)
        for name, values in figures.items():
            p50, p99 = percentile(values, 50), percentile(values, 99)
            assert p50 is not None and p99 is not None
            print(f"{executor:8} {name:8} {p50:8.0f} {p99:8.0f} {max(values):8.0f}")


if __name__ == "__main__":
    main()
