"""Page tokens of MLflow searches: keyset tokens, so a deep page costs what the first one does.

A token is opaque to the client: URL-safe base64 of the last row's sort key (one value per order_by key, then the
row's unique id) and a fingerprint of the query it continues, so a token handed to another search is refused
rather than silently skipping rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelyard.mlflow.errors import invalid_parameter

TOKEN_HINT = "pass the next_page_token of the previous answer to the same search unchanged"


def query_fingerprint(*parts: Any) -> str:
    """A short digest of what a search asks (filter, order): a token only continues the search it came from."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:12]


def encode_page_token(sort_key: Sequence[Any], query: str) -> str:
    values = [{"t": value.isoformat()} if isinstance(value, datetime) else value for value in sort_key]
    payload = json.dumps({"k": values, "q": query}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_page_token(token: str | None, query: str, length: int) -> list[Any] | None:
    """The sort key a token holds, or None for no token; INVALID_PARAMETER_VALUE for a token that is not
    one of ours, continues another search, or has the wrong number of values."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        values = payload["k"]
        same_query = payload["q"] == query
    except (ValueError, KeyError, TypeError):
        raise invalid_parameter(f"page_token is not valid (not a token this server wrote): {TOKEN_HINT}") from None
    if not same_query:
        raise invalid_parameter(f"page_token belongs to another search (filter or order_by differ): {TOKEN_HINT}")
    if not isinstance(values, list) or len(values) != length:
        raise invalid_parameter(f"page_token is not valid (wrong shape): {TOKEN_HINT}")
    decoded: list[Any] = []
    for value in values:
        if isinstance(value, dict):
            try:
                decoded.append(datetime.fromisoformat(value["t"]))
            except (KeyError, TypeError, ValueError):
                raise invalid_parameter(f"page_token is not valid (bad time): {TOKEN_HINT}") from None
        elif value is None or isinstance(value, str | int | float) and not isinstance(value, bool):
            decoded.append(value)
        else:
            raise invalid_parameter(f"page_token is not valid (bad value): {TOKEN_HINT}")
    return decoded
