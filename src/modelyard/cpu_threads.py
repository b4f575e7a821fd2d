"""How many threads a job process uses: the CPUs it may run on, not the host's count.

A job on a shared machine (or in a container limited to two CPUs of a 64-core host) that sizes torch and
OpenVINO by `os.cpu_count()` starts one thread per host core; they fight over the few CPUs it has and a
training step runs several times slower than with one thread per usable CPU. The count comes from the
process's CPU affinity and the cgroup quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us`), or from
`MODELYARD_JOB_THREADS`.

`choose` is pure (tests hand it a fake affinity and cgroup file); `apply`, called once at the start of a
job worker, sizes torch and every OpenVINO CPU compile (when each is imported) and remembers the count for
DataLoader workers and image decoding in the same process.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import math
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROCESS_CGROUPS = Path("/proc/self/cgroup")


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    why: str


_applied: ThreadChoice | None = None


def cgroup_cpu_limit(quota_file: Path | None = None) -> float | None:
    """CPUs the cgroup quota allows, None without one. `quota_file` reads that one file (v2 `cpu.max`, or v1
    `cpu.cfs_quota_us` beside its `cpu.cfs_period_us`); by default, the tightest quota on the process's own
    cgroup and every cgroup above it (a systemd slice or a container sets it at any level)."""
    files = [quota_file] if quota_file is not None else _process_quota_files()
    limits = [limit for limit in map(_read_quota, files) if limit is not None]
    return min(limits, default=None)


def _read_quota(path: Path) -> float | None:
    try:
        if path.name == "cpu.cfs_quota_us":
            fields = [path.read_text().strip(), path.with_name("cpu.cfs_period_us").read_text().strip()]
        else:
            fields = path.read_text().split()  # `QUOTA PERIOD`, or `max PERIOD` for none
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None  # v1 says -1 for none


def _process_quota_files() -> list[Path]:
    """The quota files of the process's cgroups, leaf first, up to the root of the mounted hierarchy."""
    try:
        lines = PROCESS_CGROUPS.read_text().splitlines()
    except OSError:
        return []
    files: list[Path] = []
    for line in lines:
        if line.count(":") < 2:
            continue
        _, controllers, cgroup = line.split(":", 2)
        if controllers == "" and (CGROUP_ROOT / "cgroup.controllers").exists():  # v2, mounted at the root
            files += _up_the_tree(CGROUP_ROOT, cgroup, "cpu.max")
        elif "cpu" in controllers.split(","):  # v1: the cpu controller's own hierarchy
            files += _up_the_tree(CGROUP_ROOT / "cpu", cgroup, "cpu.cfs_quota_us")
    return files


def _up_the_tree(mount: Path, cgroup: str, name: str) -> list[Path]:
    parts = [part for part in cgroup.split("/") if part]
    # In a container the hierarchy is often mounted at its own cgroup: the leaf path is then absent, the root not.
    return [mount.joinpath(*parts[:depth], name) for depth in range(len(parts), -1, -1)]


def choose(setting: int | None, affinity: set[int] | None = None, cpu_max: Path | None = None) -> ThreadChoice:
    """The thread count for a job: the setting if given, else min(affinity, ceil(cgroup quota)), at least 1."""
    if setting is not None:
        return ThreadChoice(max(1, setting), f"MODELYARD_JOB_THREADS={setting}")
    cpus = len(affinity) if affinity is not None else _affinity_count()
    limit = cgroup_cpu_limit(cpu_max)
    if limit is not None and math.ceil(limit) < cpus:
        return ThreadChoice(max(1, math.ceil(limit)), f"cgroup CPU quota of {limit:g} CPUs ({cpus} CPUs in affinity)")
    quota = "no cgroup CPU quota" if limit is None else f"cgroup CPU quota of {limit:g} CPUs"
    return ThreadChoice(max(1, cpus), f"{cpus} CPUs in the process's affinity, {quota}")


def _affinity_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity call on this platform (macOS)
        return os.cpu_count() or 1


def apply(choice: ThreadChoice) -> None:
    """Size torch's pools and OpenVINO's CPU compiles in this process, and remember the count for DataLoaders.

    Neither library is imported here: each is sized as soon as it is imported, so a job that never uses it
    (a dataset import, a storage check) does not pay the seconds its import costs.
    """
    global _applied
    os.environ["OMP_NUM_THREADS"] = str(choice.threads)  # libraries that read it at start (OpenMP, BLAS)
    os.environ["MKL_NUM_THREADS"] = str(choice.threads)
    # Torch's OpenMP threads spin while they wait for each other. When other programs hold the cores, a spinning
    # thread burns its turn waiting for a peer that is not running, and a training step took many times
    # longer than with threads that sleep, which also wake in time (a thread back from sleep gets the CPU
    # before a program that never sleeps). Read when OpenMP loads, so before torch is imported; a user's own
    # setting stands.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _applied = choice
    for name, size in (("torch", _size_torch), ("openvino", _size_openvino)):
        if name in sys.modules:
            size(sys.modules[name], choice.threads)
        else:
            sys.meta_path.insert(0, _SizeWhenImported(name, size, choice.threads))


def _size_torch(torch: Any, threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # the inter-op pool already started (torch ran work before): it keeps its size
        pass


def _size_openvino(openvino: Any, threads: int) -> None:
    """Every CPU compile in this process gets `INFERENCE_NUM_THREADS` unless its caller set it.

    OpenVINO follows the affinity but not a cgroup quota or our setting, and a property set on one `Core` does
    not carry to another: NNCF's quantization compiles on Cores of its own, so the class is what can be sized.
    """
    core_class = openvino.Core
    compile_model = core_class.compile_model
    if getattr(compile_model, "sized_threads", None) is not None:
        return

    def compile_with_threads(
        self: Any, model: Any, device_name: str | None = None, config: dict[str, Any] | None = None, **options: Any
    ) -> Any:
        if device_name == "CPU" and "INFERENCE_NUM_THREADS" not in (config or {}):
            config = {**(config or {}), "INFERENCE_NUM_THREADS": threads}
        return compile_model(self, model, device_name, config, **options)

    compile_with_threads.sized_threads = threads  # type: ignore[attr-defined]
    compile_with_threads.__doc__ = compile_model.__doc__
    core_class.compile_model = compile_with_threads


class _SizeWhenImported(importlib.abc.MetaPathFinder):
    """Finds a top-level module as usual, then sizes it right after the module has run."""

    def __init__(self, name: str, size: Callable[[Any, int], None], threads: int) -> None:
        self.name, self.size, self.threads = name, size, threads

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once: the normal finders answer from here on
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run_module, size, threads = spec.loader.exec_module, self.size, self.threads

        def run_and_size(module: types.ModuleType) -> None:
            run_module(module)
            size(module, threads)

        spec.loader.exec_module = run_and_size  # type: ignore[method-assign]  # this spec's loader only
        return spec


def usable_cpus() -> int:
    """The job's chosen count once `apply` ran in this process, else what `choose` would derive."""
    return _applied.threads if _applied is not None else choose(None).threads


def openvino_properties() -> dict[str, Any]:
    """`INFERENCE_NUM_THREADS` for a compile inside a job process; nothing elsewhere (the server keeps defaults)."""
    return {} if _applied is None else {"INFERENCE_NUM_THREADS": _applied.threads}
