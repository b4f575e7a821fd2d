"""Fitting imported shapes into their image before they are checked (pure: numbers in, numbers out).

Other tools round coordinates (a COCO export with x + w = 640.01 on a 640-pixel-wide image is common),
and some draw shapes that run past the edge. An import keeps what lies inside the image: a box is cut
to the image's edges, a polygon is clipped to the image's rectangle (Sutherland-Hodgman). Only a shape
wholly outside the image, or with no area left after clipping, is dropped, and only that shape: the
image and its other shapes stay. Annotations entered through the API are not fitted; they are checked
as given, so a person sees the mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from modelyard.datasets.annotations import EDGE_TOLERANCE, polygon_area

Box = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]


@dataclass(frozen=True)
class Fitted:
    """A shape after fitting: the shape (None when dropped), how far it reached outside, and why it was
    dropped."""

    shape: Box | list[Point] | None
    overflow: float = 0.0
    dropped_because: str | None = None

    @property
    def clipped(self) -> bool:
        return self.shape is not None and self.overflow > EDGE_TOLERANCE


def fit_box(box: Box, width: int, height: int) -> Fitted:
    x, y, box_width, box_height = box
    if box_width <= 0 or box_height <= 0:
        return Fitted(None, dropped_because=f"box ({_numbers(box)}) has no area")
    right, bottom = x + box_width, y + box_height
    overflow = max(0.0, -x, -y, right - width, bottom - height)
    left, top = max(x, 0.0), max(y, 0.0)
    right, bottom = min(right, float(width)), min(bottom, float(height))
    if right - left <= EDGE_TOLERANCE or bottom - top <= EDGE_TOLERANCE:
        return Fitted(None, overflow, f"box ({_numbers(box)}) lies wholly outside the {width} x {height} image")
    if overflow <= EDGE_TOLERANCE:
        return Fitted(box)
    return Fitted((left, top, right - left, bottom - top), overflow)


def fit_polygon(points: list[Point], width: int, height: int) -> Fitted:
    if len(points) < 3 or polygon_area(points) <= EDGE_TOLERANCE:
        return Fitted(None, dropped_because=f"polygon of {len(points)} point(s) has no area")
    overflow = max(max(0.0, -x, -y, x - width, y - height) for x, y in points)
    if overflow <= EDGE_TOLERANCE:
        return Fitted(points)
    clipped = _clip_to_rectangle(points, float(width), float(height))
    if len(clipped) < 3 or polygon_area(clipped) <= EDGE_TOLERANCE:
        return Fitted(None, overflow, f"polygon of {len(points)} points lies wholly outside the "
                                      f"{width} x {height} image")  # fmt: skip
    return Fitted(clipped, overflow)


def _clip_to_rectangle(points: list[Point], width: float, height: float) -> list[Point]:
    """Sutherland-Hodgman against each edge of [0, width] x [0, height] in turn."""
    edges: list[tuple[Callable[[Point], bool], Callable[[Point, Point], Point]]] = [
        (lambda p: p[0] >= 0, lambda a, b: _at_x(a, b, 0.0)),
        (lambda p: p[0] <= width, lambda a, b: _at_x(a, b, width)),
        (lambda p: p[1] >= 0, lambda a, b: _at_y(a, b, 0.0)),
        (lambda p: p[1] <= height, lambda a, b: _at_y(a, b, height)),
    ]
    for inside, crossing in edges:
        if not points:
            break
        kept: list[Point] = []
        for current, following in zip(points, points[1:] + points[:1], strict=True):
            if inside(current):
                kept.append(current)
                if not inside(following):
                    kept.append(crossing(current, following))
            elif inside(following):
                kept.append(crossing(current, following))
        points = kept
    return _without_repeats(points)


def _at_x(a: Point, b: Point, x: float) -> Point:
    share = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + share * (b[1] - a[1])


def _at_y(a: Point, b: Point, y: float) -> Point:
    share = (y - a[1]) / (b[1] - a[1])
    return a[0] + share * (b[0] - a[0]), y


def _without_repeats(points: list[Point]) -> list[Point]:
    kept: list[Point] = []
    for point in points:
        if not kept or point != kept[-1]:
            kept.append(point)
    if len(kept) > 1 and kept[0] == kept[-1]:
        kept.pop()
    return kept


def _numbers(values: tuple[float, ...]) -> str:
    return ", ".join(f"{value:g}" for value in values)
