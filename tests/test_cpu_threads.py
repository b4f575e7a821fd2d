from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard import cpu_threads


def _cpu_max(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    return path


def test_a_cgroup_quota_below_the_affinity_sets_the_count(tmp_path: Path) -> None:
    choice = cpu_threads.choose(None, affinity=set(range(16)), cpu_max=_cpu_max(tmp_path, "150000 100000\n"))
    assert choice.threads == 2
    assert "cgroup CPU quota of 1.5 CPUs" in choice.why and "16 CPUs" in choice.why


def test_without_a_quota_the_affinity_sets_the_count(tmp_path: Path) -> None:
    choice = cpu_threads.choose(None, affinity={0, 3, 5}, cpu_max=_cpu_max(tmp_path, "max 100000\n"))
    assert choice.threads == 3
    assert choice.why == "3 CPUs in the process's affinity, no cgroup CPU quota"


def test_a_quota_above_the_affinity_leaves_the_affinity(tmp_path: Path) -> None:
    choice = cpu_threads.choose(None, affinity={0, 1}, cpu_max=_cpu_max(tmp_path, "800000 100000"))
    assert choice.threads == 2 and "cgroup CPU quota of 8 CPUs" in choice.why


def test_a_quota_under_one_cpu_still_gives_one_thread(tmp_path: Path) -> None:
    choice = cpu_threads.choose(None, affinity=set(range(8)), cpu_max=_cpu_max(tmp_path, "20000 100000"))
    assert choice.threads == 1


@pytest.mark.parametrize("text", ["", "garbage", "1 2 3", "-1 100000", "100000 0"])
def test_an_unreadable_quota_is_ignored(tmp_path: Path, text: str) -> None:
    assert cpu_threads.cgroup_cpu_limit(_cpu_max(tmp_path, text)) is None
    assert cpu_threads.choose(None, affinity={0, 1, 2, 3}, cpu_max=_cpu_max(tmp_path, text)).threads == 4


def test_no_cgroup_file_means_no_quota(tmp_path: Path) -> None:
    assert cpu_threads.cgroup_cpu_limit(tmp_path / "absent") is None


def test_the_setting_overrides_affinity_and_quota(tmp_path: Path) -> None:
    choice = cpu_threads.choose(5, affinity={0}, cpu_max=_cpu_max(tmp_path, "100000 100000"))
    assert (choice.threads, choice.why) == (5, "MODELYARD_JOB_THREADS=5")


def _fake_cgroups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, membership: str) -> Path:
    """A cgroup mount at `tmp_path/cgroup` and a /proc/self/cgroup saying `membership`."""
    root = tmp_path / "cgroup"
    root.mkdir()
    (tmp_path / "self-cgroup").write_text(membership)
    monkeypatch.setattr(cpu_threads, "CGROUP_ROOT", root)
    monkeypatch.setattr(cpu_threads, "PROCESS_CGROUPS", tmp_path / "self-cgroup")
    return root


def test_the_tightest_quota_on_the_way_up_the_v2_tree_counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = _fake_cgroups(monkeypatch, tmp_path, "0::/user.slice/work.scope\n")
    (root / "cgroup.controllers").write_text("cpu memory\n")
    (root / "cpu.max").write_text("max 100000\n")
    (root / "user.slice" / "work.scope").mkdir(parents=True)
    (root / "user.slice" / "cpu.max").write_text("150000 100000\n")
    (root / "user.slice" / "work.scope" / "cpu.max").write_text("300000 100000\n")
    assert cpu_threads.cgroup_cpu_limit() == 1.5
    assert cpu_threads.choose(None, affinity=set(range(8))).threads == 2


def test_a_v1_quota_is_read_where_the_container_mounts_its_own_cgroup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The membership names the host's path; inside the container only the mount's root exists.
    root = _fake_cgroups(monkeypatch, tmp_path, "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n")
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_threads.cgroup_cpu_limit() == 1.0
    assert cpu_threads.choose(None, affinity=set(range(8))).threads == 1
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpu_threads.cgroup_cpu_limit() is None


SIZES_IN_A_FRESH_PROCESS = """
import json, os, sys
from pathlib import Path
from modelyard import cpu_threads
if sys.argv[1] != "-":
    os.sched_setaffinity(0, {int(sys.argv[1])})
quota = Path(sys.argv[2]) if sys.argv[2] != "-" else None
choice = cpu_threads.choose(None, cpu_max=quota)
cpu_threads.apply(choice)
import numpy as np, openvino as ov, torch
parameter = ov.opset13.parameter([1, 3, 8, 8], np.float32)
model = ov.Model([ov.opset13.relu(parameter)], [parameter])
print(json.dumps({
    "chosen": choice.threads,
    "torch": torch.get_num_threads(),
    "openvino": ov.Core().compile_model(model, "CPU").get_property("INFERENCE_NUM_THREADS"),
    "openvino_function": ov.compile_model(model, "CPU").get_property("INFERENCE_NUM_THREADS"),
    "openvino_own_setting": ov.Core().compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 2})
        .get_property("INFERENCE_NUM_THREADS"),
}))
"""


def _sizes_in_a_fresh_process(cpu: int | None, quota: Path | None) -> dict[str, int]:
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", SIZES_IN_A_FRESH_PROCESS, "-" if cpu is None else str(cpu), str(quota or "-")],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(root / "src")},
    )
    return json.loads(done.stdout.splitlines()[-1])


needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="one CPU: a count of one would not tell the sizing from the default"
)


@needs_two_cpus
def test_a_process_pinned_to_one_cpu_sizes_torch_and_openvino_to_one_thread() -> None:
    sizes = _sizes_in_a_fresh_process(min(os.sched_getaffinity(0)), None)
    # OpenVINO holds even an explicit setting to the CPUs in the affinity.
    assert sizes == {"chosen": 1, "torch": 1, "openvino": 1, "openvino_function": 1, "openvino_own_setting": 1}


@needs_two_cpus
def test_a_quota_of_one_cpu_sizes_torch_and_every_openvino_compile(tmp_path: Path) -> None:
    # OpenVINO follows the affinity by itself but not a quota: NNCF's compiles on Cores of their own included.
    sizes = _sizes_in_a_fresh_process(None, _cpu_max(tmp_path, "100000 100000\n"))
    assert sizes == {"chosen": 1, "torch": 1, "openvino": 1, "openvino_function": 1, "openvino_own_setting": 2}


@needs_two_cpus
def test_the_whole_affinity_is_used_without_a_quota(tmp_path: Path) -> None:
    cpus = len(os.sched_getaffinity(0))
    sizes = _sizes_in_a_fresh_process(None, _cpu_max(tmp_path, "max 100000\n"))
    assert (sizes["chosen"], sizes["torch"]) == (cpus, cpus)
