"""Accessibility checks with axe-core, injected from the UI's own packages (no network)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.ui.build import UI_DIR

AXE_SCRIPT = UI_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every serious or critical violation on the page as it is now."""
    if not page.evaluate("() => 'axe' in window"):
        # Evaluated through the debugging protocol, which the page's Content-Security-Policy does not govern
        # (a <script> tag would be refused by it, and the policy stays on as users have it).
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate("() => window.axe.run(document, { resultTypes: ['violations'] })")
    return [violation for violation in results["violations"] if violation.get("impact") in BLOCKING_IMPACTS]


def assert_accessible(page: Page) -> None:
    """No serious or critical axe violation; the message names each rule and the elements that break it."""
    violations = axe_violations(page)
    lines = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in violations
    ]
    assert not violations, "accessibility violations:\n" + "\n".join(lines)
