"""WCAG 2.1 AA, checked by axe-core in Chromium, on the pages everyone meets first: signing in (with and
without the school's own sign-in), the pages that refuse or do not find, at desktop and phone sizes;
and the keyboard: focus is visible, and choosing a language does not reload the page by itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from config.single_sign_on import providers_from_environment
from tests.browser.accessibility import scrolls_sideways, violations
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

SMALLEST_PHONE: dict[str, Any] = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def school_sign_in(settings: Any) -> None:
    """The school's provider configured; nothing is fetched from it while the pages are only read."""
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(
        {
            "SSO_OIDC_NAME": "Northside College",
            "SSO_OIDC_SERVER_URL": "https://login.northside.test",
            "SSO_OIDC_CLIENT_ID": "checkoff",
            "SSO_OIDC_CLIENT_SECRET": "unused",
        }
    )


@pytest.mark.parametrize("size", [DESKTOP, PHONE, SMALLEST_PHONE], ids=["desktop", "phone", "320px"])
def test_the_sign_in_pages_meet_wcag_21_aa(
    live_server: Any, visit: Callable[..., Page], school_sign_in: None, size: dict[str, Any], db: Any
) -> None:
    page = visit(**size)
    problems: list[str] = []
    for url in (
        reverse("account_login"),
        reverse("account_request_login_code"),
        reverse("account_reset_password"),
        "/no-such-page/",
    ):
        page.goto(url)
        problems += violations(page)
        if scrolls_sideways(page):
            problems.append(f"{url} scrolls sideways at {size['viewport']['width']} px")
    assert problems == []


def test_a_refused_action_is_a_page_in_the_persons_language_with_the_navigation(
    live_server: Any, visit: Callable[..., Page], sign_in: Callable[..., Page], alice: Any
) -> None:
    page = sign_in(alice.email, DESKTOP)
    alice.preferred_language = "es"
    alice.save()
    response = page.goto(reverse("curriculum:program-create"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("No puede hacer esto")
    expect(page.get_by_role("navigation")).to_be_visible()
    assert violations(page) == []


def test_focus_is_visible_on_the_navigation_and_the_forms(
    live_server: Any, visit: Callable[..., Page], school_sign_in: None, db: Any
) -> None:
    """Tabbing through the sign-in page, every stop draws a solid ring, not Bootstrap's faint glow."""
    page = visit(**DESKTOP)
    page.goto(reverse("account_login"))
    for _ in range(6):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        tag, outline_style, outline_width = style
        assert outline_style == "solid" and outline_width >= 3, (tag, style)


def test_the_check_finds_what_breaks_the_standard(visit: Callable[..., Page]) -> None:
    """The harness itself: a page without a language, with an image without words and grey on grey."""
    page = visit(**DESKTOP)
    page.set_content('<title>t</title><main><img src="x.png"><p style="color:#aaa;background:#bbb">faint</p></main>')
    rules = {line.split(": ")[1].split(" ")[0] for line in violations(page)}
    assert {"html-has-lang", "image-alt", "color-contrast"} <= rules


def test_a_refused_form_says_so_first_and_leads_to_each_field(
    live_server: Any, visit: Callable[..., Page], sign_in: Callable[..., Page], dana: Any
) -> None:
    """The problems are summarised at the top, the summary has the focus, the title says there is an
    error, each problem links to its field, and the help under a field stays beside its error."""
    page = sign_in(dana.email, PHONE)
    page.goto(reverse("curriculum:program-create"))
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    first = summary.get_by_role("link").first
    target = first.get_attribute("href")
    assert target and target.startswith("#")
    first.click()
    expect(page.locator(target)).to_be_focused()
    assert page.locator(target).get_attribute("aria-invalid") == "true"
    assert violations(page) == []
