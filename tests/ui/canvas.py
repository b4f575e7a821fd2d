"""The annotation editor's canvas driven with the mouse, in the image's own pixels."""

from __future__ import annotations

from collections.abc import Sequence

from playwright.sync_api import Page

TO_SCREEN = """(svg, [x, y]) => {
  const point = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM());
  return [point.x, point.y];
}"""


def to_screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """Where a point of the image (in its pixels) is on the screen, at the editor's current zoom."""
    screen_x, screen_y = page.get_by_test_id("canvas").evaluate(TO_SCREEN, [x, y])
    return screen_x, screen_y


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Presses the left button at `start` and releases it at `end` (image pixels), moving in a few steps."""
    page.mouse.move(*to_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *end), steps=6)
    page.mouse.up()


def within_a_pixel(actual: Sequence[float], expected: Sequence[float]) -> bool:
    return all(abs(a - b) <= 1.0 for a, b in zip(actual, expected, strict=True))
