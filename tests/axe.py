"""axe-core (npm, pinned in package.json) accessibility scans of a Playwright page.

The project's rule: no serious or critical axe-core violations against WCAG 2.1 A and AA.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return the serious and critical WCAG 2.1 A/AA violations."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is not installed ({AXE_JS} is missing): run `make setup` (it runs `npm ci`)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # evaluate, not add_script_tag: the web app's Content-Security-Policy (script-src 'self') blocks an inline tag.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    # axe looks into open shadow roots (the widget lives in one) by default.
    results = page.evaluate(
        "(tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })",
        TAGS,
    )
    return [v for v in results["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation (rule, impact, what to fix, which elements) for an assertion message."""
    blocks = []
    for v in violations:
        lines = [f"{v['id']} ({v['impact']}): {v['help']} - {v.get('helpUrl', '')}"]
        for node in v.get("nodes", []):
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"  {node.get('target')}: {summary}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) or "no serious or critical violations"
