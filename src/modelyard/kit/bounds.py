"""What the databases can store: integers in 64 bits, times that UTC can hold, text without NUL or lone surrogates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# A file name part that the store writes: file systems allow 255 bytes, and the store stages a file under
# a longer name before renaming it into place, so 200 leaves room for that.
MAX_NAME_PART_BYTES = 200

StoredInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""An integer that is compared with a stored column: out of range is a 422, not an overflow in the driver."""


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def to_utc(moment: datetime) -> datetime:
    """The same moment in UTC (a time without a zone is taken as UTC); ValueError when UTC cannot hold it
    (`0001-01-01T00:00:00+14:00` falls before year 1)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is outside the range of dates in UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]
"""A time given in a request, in UTC; one that UTC cannot hold is a 422."""


def storable_text(text: str) -> str:
    """The text, or ValueError when a database cannot store it: PostgreSQL refuses NUL in text, and a lone
    surrogate (JSON lets `\\ud800` through) has no UTF-8 form in either database."""
    if "\x00" in text:
        raise ValueError("text may not hold a NUL character (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text may not hold a lone surrogate (\\ud800-\\udfff): send valid UTF-8") from None
    return text


StoredText = Annotated[str, AfterValidator(storable_text)]
"""Text from a request that is stored: NUL and lone surrogates are a 422."""
