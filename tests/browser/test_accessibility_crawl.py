"""Every page a demo person can reach, in Chromium, held to WCAG 2.1 AA by axe-core at a desktop's width
and at 320 px, where nothing may scroll sideways; and every form on them that asks for something, sent
empty, so the page that comes back with its errors is held to the same. Along the way the browser
reports no Content-Security-Policy refusal, no script error and no server error.

The walk follows the links each page shows, as the person would, from home. It opens one page of each
kind (one view, with the same query words: a grid's "all" view is not its "needs attention" view): the
markup of a kind is the same template whatever record it shows. Walking every record of every kind took
more than a quarter of an hour.

Each person's walk checks the kinds it meets: the same view may show a student other markup than her
instructor (her own home, her record without the staff's actions). The program office is the exception:
the coordinator sees the director's pages with fewer actions, so her walk checks only the kinds his did
not reach, and reads the others without rendering them, for their links and their status.

The demo program is seeded inside the test, once for everyone: the live server answers from another
thread, which sees only what was committed.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve, reverse
from playwright.sync_api import Page

from tests.browser.accessibility import scrolls_sideways, violations
from tests.browser.conftest import DESKTOP, Watched

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "checkoff-demo"  # seed_demo's published password
SMALLEST_WIDTH = {"width": 320, "height": 720}
PAGES_PER_KIND = 1
PAGES_PER_PERSON = 300  # a bound, not a sample: the walk must end before it
# Not pages: files, the way out, the language switch, the admin (Django's own, tested on its own), and
# the demo mailbox of development.
SKIP = ("/static/", "/accounts/logout", "/i18n/", "/admin/", "/dev/")
FILES = (".csv", ".xlsx", ".pdf", ".ics", ".zip", ".json")

# The forms on a page that ask for something (a required field), numbered in the page's order.
FORMS_ASKING = """() => [...document.querySelectorAll("form")]
  .map((form, index) => ({form, index}))
  .filter(({form}) => form.method.toLowerCase() === "post"
    && new URL(form.action, location.href).origin === location.origin
    && !new URL(form.action, location.href).pathname.startsWith("/accounts/logout")
    && form.querySelector("input[required]:not([type=hidden]), textarea[required], select[required]"))
  .map(({index}) => index)"""
# Send one of them with its required fields empty and the browser's own checks off, as a person would whose
# browser lets an empty field through: the server must name what is missing.
SEND_EMPTY = """(index) => {
  const form = document.querySelectorAll("form")[index];
  form.noValidate = true;
  for (const field of form.querySelectorAll("input[required], textarea[required]")) {
    if (field.type === "checkbox" || field.type === "radio") field.checked = false;
    else if (field.type !== "file") field.value = "";
  }
  // After this script has returned: the page it runs in may go away with the submission.
  setTimeout(() => form.requestSubmit(), 0);
}"""
IN_PLACE = """(index) => Boolean(document.querySelectorAll("form")[index].closest("[hx-post], [hx-put], [hx-patch]"))"""


# The query words that choose what a view shows (a grid's "all" view, the MAERB report): their values make
# another kind of page. Other values pick records (a track, a cohort, a part of a figure) in the same markup:
# the pass-rate report alone links to about a hundred of those.
CHOOSING_WORDS = ("view", "accreditor")


def kind_of(url: str) -> str:
    """The view a URL opens and the words of its query (?view=all, ?track), not the records they pick."""
    parts = urlsplit(url)
    try:
        route = resolve(parts.path).route
    except Resolver404:
        route = parts.path
    words = sorted({f"{key}={value}" if key in CHOOSING_WORDS else key for key, value in parse_qsl(parts.query)})
    return route + "?" + "&".join(words)


class Walk:
    """One person's walk: what they opened, and every problem met, each naming its page."""

    def __init__(self, page: Page, checked: set[str] | None = None) -> None:
        self.page = page
        self.opened: Counter[str] = Counter()
        # Kinds already checked by someone who sees the same pages (the director, for the coordinator).
        self.checked = checked if checked is not None else set()
        self.pages = 0
        self.forms_sent = 0
        self.problems: list[str] = []

    def check(self, what: str) -> None:
        """The page as it stands: axe-core at a desktop's width, and the width of its content at 320 px.
        (axe-core runs at phone sizes too, on the pages the journeys photograph: a second run on every
        page here would double the walk's time for the few rules the width changes.)"""
        self.problems += [f"{what}: {problem}" for problem in violations(self.page)]
        self.page.set_viewport_size(SMALLEST_WIDTH)
        if scrolls_sideways(self.page):
            self.problems.append(f"{what}: {self.page.url} scrolls sideways at 320 px")
        self.page.set_viewport_size(DESKTOP["viewport"])

    def links(self) -> list[str]:
        """The pages this one links to: not its files (a CSV, a PDF, a calendar, a student's document)."""
        hrefs: list[str] = self.page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(a => a.getAttribute('href'))"
        )
        return self._pages_among(hrefs)

    def read(self, url: str) -> list[str] | None:
        """A page of a kind already checked: fetched with the person's cookies but not rendered, for its
        status and links. None when it is not a page (a file, a redirect elsewhere)."""
        response = self.page.request.get(url, max_redirects=0)
        assert response.status < 500, f"{url} answered {response.status}"
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            return None
        anchors = re.findall(r"<a\b([^>]*)>", response.text())
        hrefs = [
            unescape(found.group(1))
            for attributes in anchors
            if " download" not in attributes and (found := re.search(r'\bhref="([^"]*)"', attributes))
        ]
        return self._pages_among(hrefs)

    def _pages_among(self, hrefs: list[str]) -> list[str]:
        return [
            urldefrag(href).url
            for href in hrefs
            if href.startswith("/") and not urlsplit(href).path.endswith(FILES) and "/document/" not in href
        ]

    def send_forms_empty(self, url: str) -> None:
        for index in self.page.evaluate(FORMS_ASKING):
            self.page.goto(url)
            if self.page.evaluate(IN_PLACE, index):
                # htmx sends it and puts the answer in place; it settles just after the response.
                with self.page.expect_response(lambda response: response.request.method == "POST"):
                    self.page.evaluate(SEND_EMPTY, index)
                self.page.wait_for_timeout(100)
            else:
                with self.page.expect_navigation():
                    self.page.evaluate(SEND_EMPTY, index)
            self.forms_sent += 1
            self.check(f"form {index} of {url} sent empty")

    def walk(self, start: str) -> None:
        queue, seen = deque([start]), {start}
        while queue and self.opened.total() < PAGES_PER_PERSON:
            url = queue.popleft()
            kind = kind_of(url)
            if self.opened[kind] >= PAGES_PER_KIND:
                continue
            self.opened[kind] += 1
            first_look = kind not in self.checked
            if first_look:
                response = self.page.goto(url)
                if response is None or not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                self.checked.add(kind)
                self.pages += 1
                self.check(url)
                links = self.links()
            else:
                links = self.read(url) or []
            for link in links:
                if link not in seen and not urlsplit(link).path.startswith(SKIP):
                    seen.add(link)
                    queue.append(link)
            if first_look:
                self.send_forms_empty(url)
        assert not queue, f"the walk stopped at {PAGES_PER_PERSON} pages with addresses left"


@pytest.fixture
def demo(live_server: Any, settings: Any) -> None:
    settings.DEBUG = True  # the demo's people exist only with DEBUG on
    call_command("seed_demo")
    settings.DEBUG = False


def test_every_page_a_demo_person_reaches_meets_wcag_21_aa_with_its_forms_refused(
    demo: None, watched: Callable[..., Watched]
) -> None:
    problems: list[str] = []
    program_office: set[str] = set()  # the kinds the director's walk checked, which the coordinator's reads
    for who in ("director", "coordinator", "instructor", "student", "preceptor"):
        started = time.monotonic()
        person = watched(refusals_expected=True, **DESKTOP)
        person.visit(reverse("account_login"))
        person.page.get_by_label("Email").fill(f"{who}@demo.checkoff.test")
        person.page.get_by_label("Password").fill(DEMO_PASSWORD)
        person.page.get_by_role("button", name="Sign in").click()
        person.page.wait_for_url(lambda url: urlsplit(url).path == "/")
        walk = Walk(person.page, program_office if who in ("director", "coordinator") else None)
        walk.walk("/")
        problems += [f"as {who}, {problem}" for problem in walk.problems + person.problems]
        # A walk that opened next to nothing proves nothing: each person has pages of their own to reach.
        assert walk.opened.total() > 5, f"{who} opened {walk.opened.total()} pages"
        seconds = time.monotonic() - started
        print(f"{who}: {walk.opened.total()} pages, {walk.pages} checked, {walk.forms_sent} forms, {seconds:.0f} s")
    assert problems == []
