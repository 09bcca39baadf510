"""axe-core in the journeys: WCAG 2.0 and 2.1, levels A and AA, on the page as the person sees it.

axe-core is vendored (tests/browser/vendor/axe-core, its version in VERSION) so that a run needs nothing
from the network. It is evaluated through the browser's debugging protocol, which the pages'
Content-Security-Policy does not govern: the pages themselves keep refusing inline script.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def _axe_source() -> str:
    return AXE.read_text()


def violations(page: Page) -> list[str]:
    """One line per rule broken on this page, naming the elements: empty when the page meets WCAG 2.1 AA
    as far as axe can tell."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        # resultTypes: only the violations are read, so axe-core keeps no detail of what passed.
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}))"
        ".violations",
        WCAG_21_AA,
    )
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']}: "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        + f" ({' '.join(violation['nodes'][0].get('failureSummary', '').split())[:300]})"
        for violation in found
    ]


def scrolls_sideways(page: Page) -> bool:
    """Wider than the window: a person on a phone would have to scroll across to read it (1.4.10)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"))
