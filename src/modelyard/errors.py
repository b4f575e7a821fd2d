"""Domain errors. Each carries its HTTP status and a stable `code`; one handler renders them.

ModelyardError
 ├── InvalidInput        400 invalid_input      the request is well-formed but its values break a rule
 ├── Unauthorized        401 unauthorized       missing or unknown bearer token
 ├── Forbidden           403 forbidden          the token's scope does not allow the request
 ├── NotFound            404 not_found          the thing referred to does not exist
 ├── Conflict            409 conflict           the request clashes with what is stored (duplicates, states)
 ├── PayloadTooLarge     413 payload_too_large  an upload past the configured limit
 ├── IntegrityError      500 integrity_error    a stored file no longer matches its recorded sha256/size
 └── ConfigurationError  500 configuration_error the installation's own files are wrong (e.g. a manifest)
"""

from __future__ import annotations

from typing import Any


class ModelyardError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra


class InvalidInput(ModelyardError):
    status = 400
    code = "invalid_input"
    title = "Invalid input"


class Unauthorized(ModelyardError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(ModelyardError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(ModelyardError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(ModelyardError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(ModelyardError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class IntegrityError(ModelyardError):
    status = 500
    code = "integrity_error"
    title = "Stored file failed its integrity check"


class ConfigurationError(ModelyardError):
    status = 500
    code = "configuration_error"
    title = "Installation is misconfigured"
