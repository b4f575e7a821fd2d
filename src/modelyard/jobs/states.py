"""Job statuses and which of them are still in progress."""

from __future__ import annotations

from typing import Literal

JobStatus = Literal["pending", "running", "cancelling", "succeeded", "failed", "cancelled"]

ACTIVE_STATUSES: tuple[str, ...] = ("pending", "running", "cancelling")
FINISHED_STATUSES: tuple[str, ...] = ("succeeded", "failed", "cancelled")
