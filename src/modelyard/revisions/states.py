"""A model revision's status and its weights' status, in one place.

Both are `str` enums, so the values stored in the database and sent over the API stay the plain words.
"""

from __future__ import annotations

from enum import StrEnum


class RevisionStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WeightsStatus(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    DELETED = "deleted"
    NONE = "none"
