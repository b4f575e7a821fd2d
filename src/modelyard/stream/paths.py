"""Where a stream keeps its files in the data directory: `stream/<project_id>/`."""

from __future__ import annotations

from pathlib import Path


def stream_folder(data_dir: Path, project_id: str) -> Path:
    return data_dir / "stream" / project_id


def uploads_folder(data_dir: Path, project_id: str) -> Path:
    """Where the HTTP source's uploads wait for the stream (each deleted once processed)."""
    return stream_folder(data_dir, project_id) / "uploads"


def live_folder(data_dir: Path, project_id: str) -> Path:
    """The live view's latest frame (latest.jpg) and predictions (latest.json)."""
    return stream_folder(data_dir, project_id) / "live"


def worker_log_path(data_dir: Path, project_id: str) -> Path:
    return stream_folder(data_dir, project_id) / "worker.log"
