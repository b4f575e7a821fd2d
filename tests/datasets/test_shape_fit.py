"""Imported boxes and polygons fitted into their image: clipped when they run past an edge, dropped only
when nothing of them is left inside."""

from __future__ import annotations

import pytest

from modelyard.datasets.shape_fit import fit_box, fit_polygon


def test_box_overflowing_by_rounding_is_clipped_to_the_edge() -> None:
    fitted = fit_box((600.0, 10.0, 40.01, 20.0), 640, 480)
    assert fitted.shape == pytest.approx((600.0, 10.0, 40.0, 20.0))
    assert fitted.clipped and fitted.overflow == pytest.approx(0.01)


def test_box_inside_is_kept_as_given_and_not_counted_as_clipped() -> None:
    fitted = fit_box((0.0, 0.0, 640.0, 480.0), 640, 480)
    assert fitted.shape == (0.0, 0.0, 640.0, 480.0) and not fitted.clipped


def test_box_partly_outside_keeps_its_inside_part() -> None:
    fitted = fit_box((-5.0, 470.0, 20.0, 30.0), 640, 480)
    assert fitted.shape == pytest.approx((0.0, 470.0, 15.0, 10.0))
    assert fitted.overflow == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("box", "reason"),
    [((700.0, 10.0, 20.0, 20.0), "wholly outside"), ((640.0, 10.0, 5.0, 5.0), "wholly outside"),
     ((10.0, 10.0, 0.0, 5.0), "no area")],
)  # fmt: skip
def test_box_wholly_outside_or_without_area_is_dropped(box: tuple[float, float, float, float], reason: str) -> None:
    fitted = fit_box(box, 640, 480)
    assert fitted.shape is None and reason in (fitted.dropped_because or "")


def test_polygon_reaching_past_the_edge_is_clipped_to_the_image() -> None:
    fitted = fit_polygon([(30.0, 10.0), (50.0, 10.0), (50.0, 20.0), (30.0, 20.0)], 40, 30)
    assert fitted.shape is not None and fitted.clipped
    assert sorted(fitted.shape) == [(30.0, 10.0), (30.0, 20.0), (40.0, 10.0), (40.0, 20.0)]


def test_polygon_by_a_hair_outside_is_clipped_and_inside_one_untouched() -> None:
    inside = [(1.0, 1.0), (10.0, 1.0), (5.0, 8.0)]
    assert fit_polygon(inside, 40, 30).shape == inside
    hair = fit_polygon([(1.0, 1.0), (40.004, 1.0), (5.0, 8.0)], 40, 30)
    assert isinstance(hair.shape, list) and max(x for x, _ in hair.shape) == pytest.approx(40.0)


def test_polygon_wholly_outside_or_flat_is_dropped() -> None:
    assert fit_polygon([(50.0, 1.0), (60.0, 1.0), (55.0, 8.0)], 40, 30).shape is None
    flat = fit_polygon([(1.0, 1.0), (5.0, 5.0), (9.0, 9.0)], 40, 30)
    assert flat.shape is None and "no area" in (flat.dropped_because or "")
