"""One definition of a percentile for every latency figure modelyard reports (pipeline metrics, variant speed).

Nearest rank: the p-th percentile of n values is the ceil(p / 100 * n)-th smallest, so it is always a latency that
was observed, and p50 of an even count is the lower middle value (no interpolation between two requests).
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], percent: float) -> float | None:
    """Nearest-rank ``percent``-th percentile (0 < percent <= 100) of ``values``; None when there are none."""
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
