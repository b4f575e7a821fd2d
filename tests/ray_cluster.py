"""A real two-node Ray cluster on 127.0.0.1 for the tests: a head and one worker node, each started by `ray start`.

Jobs ask for the custom resource `modelyard`, which only the worker node has, so they run there and killing that
node kills them. Every process of a node shares the process group of the `ray start` that made it (started in a
session of its own), which is how a node is killed, and `stop` ends both nodes whatever happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.server import REPO_ROOT, free_port
from tests.waiting import START_CEILING_SECONDS

RAY = Path(sys.executable).with_name("ray")
JOB_RESOURCE = "modelyard"
# Small object stores: the tests pass ids and numbers, never large objects, and the machine is shared.
OBJECT_STORE_BYTES = str(80 * 1024**2)


def _node_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)  # "0" would refuse a second node
    # Ray's workers import the job bodies (modelyard and the tests' job modules) from this tree.
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


class RayCluster:
    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp_dir = Path(tempfile.mkdtemp(prefix="modelyard-ray-"))
        self.head_group: int | None = None
        self.worker_group: int | None = None

    def _start_node(self, *options: str) -> int:
        process = subprocess.Popen(
            [str(RAY), "start", "--node-ip-address=127.0.0.1", f"--object-store-memory={OBJECT_STORE_BYTES}",
             "--disable-usage-stats", *options],
            env=_node_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        output, _ = process.communicate(timeout=START_CEILING_SECONDS)
        if process.returncode != 0:
            raise RuntimeError(f"ray start {' '.join(options)} failed:\n{output.decode(errors='replace')}")
        return process.pid  # the process group of the node's processes

    def start(self) -> None:
        self.head_group = self._start_node(
            "--head", f"--port={self.port}", "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={self.temp_dir}"
        )
        self.start_worker()

    def start_worker(self) -> None:
        self.worker_group = self._start_node(
            f"--address={self.address}", "--num-cpus=1", f"--resources={{\"{JOB_RESOURCE}\": 1}}"
        )

    def kill_worker(self) -> None:
        """The worker node dies at once (its raylet and agents), as a machine lost from the cluster."""
        assert self.worker_group is not None
        _kill_group(self.worker_group)
        self.worker_group = None

    def stop(self) -> None:
        for group in (self.worker_group, self.head_group):
            if group is not None:
                _kill_group(group)
        # Job workers run in process groups of their own and end once their node is gone; `ray stop` finds
        # by name any that are left.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and _ray_processes():
            time.sleep(0.1)
        if _ray_processes():
            subprocess.run([str(RAY), "stop", "--force"], env=_node_env(), capture_output=True, timeout=60)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _ray_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ray/core/src/ray" in command or command.startswith(b"ray::"):
            found.append(int(entry.name))
    return found
