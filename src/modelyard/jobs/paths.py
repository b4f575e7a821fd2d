from __future__ import annotations

from pathlib import Path

from modelyard.storage.owners import job_owner


def job_log_path(data_dir: Path, job_id: str) -> Path:
    return data_dir / "jobs" / f"{job_id}.log"


def job_work_dir(data_dir: Path, job_id: str) -> Path:
    """Scratch space of one run, in the job's temp folder (so files move from it into the store by a
    rename, and a sweep clears it if the job dies); removed when the job ends, whatever the outcome."""
    return data_dir / ".tmp" / job_owner(job_id) / "work"
