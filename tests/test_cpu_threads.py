from __future__ import annotations

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
