from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class StoredFileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    sha256: str
    size: int
    media_type: str
    created_at: datetime
    created_by: str


class FolderUsage(BaseModel):
    """Stored files under one folder of the data directory (`projects`, `registry`, `pretrained_weights`, ...)."""

    folder: str
    files: int
    bytes: int


class ProjectUsage(BaseModel):
    """Stored files of one project (dataset images, dataset revisions, models)."""

    project_id: str
    project_name: str | None = Field(description="None: files left by a project that no longer exists.")
    files: int
    bytes: int


class StorageUsage(BaseModel):
    """What the stored files take, by folder and by project, and what the disk has left."""

    files: int
    bytes: int = Field(description="Every file's size summed: a content stored under two names counts twice.")
    stored_bytes: int = Field(description="Bytes of distinct contents: what the files take on the disk.")
    folders: list[FolderUsage]
    projects: list[ProjectUsage]
    free_bytes: int
    total_bytes: int
