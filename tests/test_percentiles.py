"""The one percentile definition: nearest rank, always an observed value."""

from __future__ import annotations

import pytest

from modelyard.percentiles import percentile


def test_nearest_rank_picks_observed_values() -> None:
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(values, 5) == 15.0
    assert percentile(values, 30) == 20.0
    assert percentile(values, 40) == 20.0
    assert percentile(values, 50) == 35.0
    assert percentile(values, 100) == 50.0


def test_even_count_median_is_the_lower_middle_value_whatever_the_order() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile(list(range(1, 101)), 95.5) == 96


def test_single_and_empty_inputs() -> None:
    assert percentile([7.5], 50) == 7.5
    assert percentile([7.5], 95) == 7.5
    assert percentile([], 50) is None


@pytest.mark.parametrize("percent", [0, -1, 100.1])
def test_percent_outside_the_range_is_refused(percent: float) -> None:
    with pytest.raises(ValueError, match="percent must be in"):
        percentile([1.0, 2.0], percent)
