"""The prediction overlay writes white 11 px bold text on each label colour: every colour must give the 4.5:1
contrast WCAG AA asks of normal-size text, whichever label hashes to it (a label's id picks its colour)."""

from __future__ import annotations

import re

from tests.server import REPO_ROOT

PREDICTION_VIEW = REPO_ROOT / "ui" / "src" / "features" / "pipeline" / "components" / "PredictionView.tsx"
AA_NORMAL_TEXT = 4.5


def _relative_luminance(colour: str) -> float:
    channels = [int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_relative_luminance(colour) + 0.05)


def _palette() -> list[str]:
    match = re.search(r"const PALETTE = \[([^\]]*)\]", PREDICTION_VIEW.read_text(encoding="utf-8"))
    assert match, "PredictionView.tsx no longer declares its PALETTE"
    return re.findall(r'"(#[0-9a-fA-F]{6})"', match.group(1))


def test_the_contrast_formula_matches_known_pairs() -> None:
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    # Mantine's green 9, the colour that once failed axe on a prediction's tags.
    assert round(contrast_with_white("#2b8a3e"), 2) == 4.37


def test_every_label_colour_of_the_prediction_overlay_carries_white_text() -> None:
    palette = _palette()
    assert len(palette) == 8
    contrasts = {colour: round(contrast_with_white(colour), 2) for colour in palette}
    weak = {colour: ratio for colour, ratio in contrasts.items() if ratio < AA_NORMAL_TEXT}
    assert weak == {}, f"colours below {AA_NORMAL_TEXT}:1 with white text: {weak}"
