from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.jobs.states import JobStatus


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64)
    project: str | None = Field(default=None, description="Project id or name the job belongs to.")
    params: dict[str, Any] = Field(default_factory=dict)


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    type: str
    project_id: str | None
    params: dict[str, Any]
    status: JobStatus
    progress: float
    step: str
    message: str
    error: str | None
    reason: str | None
    result: dict[str, Any] | None
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    cancel_requested_at: datetime | None
    runner_id: str | None = Field(
        default=None, description="The runner (server process, `NAME:PID:NONCE`) that claimed the job."
    )
    executor: str | None = Field(default=None, description="`local` (a process on a server) or `ray` (a Ray task).")
    node_id: str | None = Field(default=None, description="The Ray node the job ran on (executor `ray`).")
    parent_id: str | None = Field(default=None, description="The job that submitted this one (a trial's study).")


class JobTypeRead(BaseModel):
    name: str
    description: str
    public: bool = Field(description="Whether `POST /jobs` submits it; other types start from their own endpoints.")
