"""Durations as people write them on a command line: `90s`, `30m`, `2h`, `1h30m`, or plain seconds."""

from __future__ import annotations

import re

from modelyard.errors import InvalidInput

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds_in(text: str) -> float:
    """`1h30m` -> 5400.0; a bare number is seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    try:
        return float(cleaned)
    except ValueError:
        pass
    parts = _PART.findall(cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise InvalidInput(f"duration {text!r} is not valid: write e.g. 90s, 30m, 2h or 1h30m")
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)
