"""Errors the SDK raises: one class, carrying the API's problem document."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """The API answered with a problem document (4xx/5xx)."""

    def __init__(self, status: int, code: str, detail: str, problem: dict[str, Any]) -> None:
        super().__init__(f"{detail} ({code}, HTTP {status})")
        self.status = status
        self.code = code
        self.detail = detail
        self.problem = problem
