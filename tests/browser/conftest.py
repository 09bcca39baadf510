"""Chromium journeys: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's own browsers are never downloaded: the journeys run on the distribution's chromium,
so a machine needs `apt-get install chromium` and nothing from the internet at test time.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Playwright, Response, expect

from tests.browser.accessibility import scrolls_sideways, violations
from tests.factories import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = "Debian's chromium package is not installed: apt-get install chromium"

# Where each person works: the director at a desk, the instructor beside a student with a
# tablet, the student on a phone.
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
TABLET: dict[str, Any] = {"viewport": {"width": 768, "height": 1024}, "is_mobile": True, "has_touch": True}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

SHOTS = Path("/tmp/shots")  # noqa: S108  (where the brief asks for them; only pictures)


def chromium_path() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Journeys run after every other test: once Playwright has started, the whole process needs
    DJANGO_ALLOW_ASYNC_UNSAFE (see `playwright` below), and no earlier test should inherit it
    (`manage.py check --deploy` in a subprocess refuses it). Last, after pytest-django's own
    ordering, whose sort is stable, so its order holds among the other tests."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def playwright(playwright: Playwright) -> Iterator[Playwright]:
    """Playwright's sync API leaves its event loop running in the main thread until it stops, and
    the tests still talk to the database from that thread (factories, assertions, the flush after
    each test): Django refuses that inside a running loop unless told, for as long as it runs."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield playwright
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's chromium, headless; without it, CI fails loudly and a laptop skips loudly."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"The browser journeys must run in CI. {MISSING_CHROMIUM}", pytrace=False)
        pytest.skip(MISSING_CHROMIUM)
    return {**browser_type_launch_args, "executable_path": executable, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server: Any) -> str:
    """Pages are opened by path; every browser context resolves them on the live server."""
    return str(live_server.url)


@pytest.fixture
def visit(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """A page in a fresh browser of its own (its own cookies), on the device given."""

    def open_page(**device: Any) -> Page:
        # Reduced motion: Bootstrap's colour transitions then end at once, so axe-core measures the colours
        # a person settles on, not a frame halfway through a button's hover.
        context = new_context(**{"locale": "en-US", "reduced_motion": "reduce", **device})
        context.set_default_timeout(10_000)
        return context.new_page()

    return open_page


@pytest.fixture
def sign_in(visit: Callable[..., Page]) -> Callable[..., Page]:
    """Sign in through the real login page, as a person would, and land on home."""

    def sign_in_as(email: str, device: dict[str, Any]) -> Page:
        page = visit(**device)
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
        return page

    return sign_in_as


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of a step for people to look at (nothing compares pictures), and hold the step to
    WCAG 2.1 AA with axe-core: the steps worth a picture are the ones people see, forms refused with
    their errors included. On a phone-sized page, nothing may make it scroll sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
    problems = violations(page)
    if page.viewport_size and page.viewport_size["width"] < 800 and scrolls_sideways(page):
        problems.append(f"{page.url} scrolls sideways at {page.viewport_size['width']} px")
    assert problems == [], f"{name}: {problems}"


# --- A page watched for what the browser refuses -------------------------------------------------

# Reports the policy's refusals to the test, from every page the context opens.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} refused ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile || location.pathname}:${event.lineNumber} (${event.sample})`);
});
"""


class Watched:
    """A page whose policy violations, console errors and failed responses are written down, with the page
    they came from. A walk that sends forms empty on purpose expects them refused (4xx), not failed (5xx)."""

    def __init__(self, context: BrowserContext, *, refusals_expected: bool = False) -> None:
        self.problems: list[str] = []
        self.refusals_expected = refusals_expected
        context.expose_binding(
            "reportViolation", lambda source, text: self.problems.append(f"{source['page'].url}: {text}")
        )
        context.add_init_script(REPORT_VIOLATIONS)
        self.page = context.new_page()
        self.page.on("console", self.note_console_message)
        self.page.on("response", self.note_response)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: {error}"))

    def note_console_message(self, message: ConsoleMessage) -> None:
        # A resource that failed is written down by note_response, with its address.
        if message.type in {"error", "warning"} and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    def note_response(self, response: Response) -> None:
        # Browsers ask every site for /favicon.ico on their own; Checkoff has none, and no page asks for it.
        if response.status >= (500 if self.refusals_expected else 400) and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"{self.page.url}: {response.url} answered {response.status}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.ok, f"{url} answered {response and response.status}"
        # Violations are reported as the page loads; deferred scripts and late ones come by now.
        self.page.wait_for_load_state("load")


@pytest.fixture
def watched(new_context: Callable[..., BrowserContext]) -> Iterator[Callable[..., Watched]]:
    opened: list[Watched] = []

    def open_watched(*, refusals_expected: bool = False, **device: Any) -> Watched:
        context = new_context(locale="en-US", reduced_motion="reduce", **device)
        context.set_default_timeout(10_000)
        opened.append(Watched(context, refusals_expected=refusals_expected))
        return opened[-1]

    yield open_watched
