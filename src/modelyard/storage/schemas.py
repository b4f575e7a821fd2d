from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class StoredFileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    sha256: str
    size: int
    media_type: str
    created_at: datetime
    created_by: str
