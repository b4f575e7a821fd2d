from __future__ import annotations

from pathlib import Path


def job_log_path(data_dir: Path, job_id: str) -> Path:
    return data_dir / "jobs" / f"{job_id}.log"


def job_work_dir(data_dir: Path, job_id: str) -> Path:
    """Scratch space of one run; removed when the job ends, whatever the outcome."""
    return data_dir / "jobs" / "work" / job_id
