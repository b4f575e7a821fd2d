"""How many threads a job process uses: the CPUs it may run on, not the host's count.

A job on a shared machine (or in a container limited to two CPUs of a 64-core host) that sizes torch and
OpenVINO by `os.cpu_count()` starts one thread per host core; they fight over the few CPUs it has and a
training step runs several times slower than with one thread per usable CPU. The count comes from the
process's CPU affinity and the cgroup v2 quota (`cpu.max`), or from `MODELYARD_JOB_THREADS`.

`choose` is pure (tests hand it a fake affinity and cgroup file); `apply`, called once at the start of a
job worker, sizes torch (when it is imported) and remembers the count for OpenVINO compiles and DataLoader
workers in the same process.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import math
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    why: str


_applied: ThreadChoice | None = None


def cgroup_cpu_limit(cpu_max: Path = CGROUP_CPU_MAX) -> float | None:
    """CPUs the cgroup v2 quota allows (`QUOTA PERIOD`, `max` meaning none); None without a readable limit."""
    try:
        fields = cpu_max.read_text().split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def choose(setting: int | None, affinity: set[int] | None = None, cpu_max: Path = CGROUP_CPU_MAX) -> ThreadChoice:
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
    """Size torch's intra-op and inter-op pools and remember the count for OpenVINO and DataLoaders.

    Torch is sized as soon as it is imported, not imported here: a job that never uses it (a dataset import,
    a storage check) does not pay the seconds its import costs.
    """
    global _applied
    os.environ["OMP_NUM_THREADS"] = str(choice.threads)  # libraries that read it at start (OpenMP, BLAS)
    os.environ["MKL_NUM_THREADS"] = str(choice.threads)
    _applied = choice
    if "torch" in sys.modules:
        _size_torch(sys.modules["torch"], choice.threads)
    else:
        sys.meta_path.insert(0, _SizeTorchWhenImported(choice.threads))


def _size_torch(torch: Any, threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # the inter-op pool already started (torch ran work before): it keeps its size
        pass


class _SizeTorchWhenImported(importlib.abc.MetaPathFinder):
    """Finds `torch` as usual, then sizes it right after its module has run."""

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "torch":
            return None
        sys.meta_path.remove(self)  # once: the normal finders answer from here on
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run_module, threads = spec.loader.exec_module, self.threads

        def run_and_size(module: types.ModuleType) -> None:
            run_module(module)
            _size_torch(module, threads)

        spec.loader.exec_module = run_and_size  # type: ignore[method-assign]  # this spec's loader only
        return spec


def usable_cpus() -> int:
    """The job's chosen count once `apply` ran in this process, else what `choose` would derive."""
    return _applied.threads if _applied is not None else choose(None).threads


def openvino_properties() -> dict[str, Any]:
    """`INFERENCE_NUM_THREADS` for a compile inside a job process; nothing elsewhere (the server keeps defaults)."""
    return {} if _applied is None else {"INFERENCE_NUM_THREADS": _applied.threads}
