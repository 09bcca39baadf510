"""The Content-Security-Policy in Chromium: each demo person signs in and walks their main pages, and
an administrator with two-factor sign-in opens the admin; the browser reports no violation and no
console error anywhere (an inline script, handler or style refused by the policy would show here).

The demo program is seeded inside the test: the live server answers from another thread, which sees
only what was committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp
from allauth.mfa.utils import encrypt
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import BrowserContext, ConsoleMessage, Response, expect

from accounts.models import User
from certifications.models import CertificationTrack
from curriculum.models import Cohort, CourseOffering, Enrollment, Program
from externships.models import Placement
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, TABLET

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "checkoff-demo"  # seed_demo's published password
# Reports the policy's refusals to the test, from every page the context opens.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} refused ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile || location.pathname}:${event.lineNumber} (${event.sample})`);
});
"""


class Watched:
    """A page whose policy violations and console errors are written down, with the page they came from."""

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[str] = []
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
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"{self.page.url}: {response.url} answered {response.status}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.ok, f"{url} answered {response and response.status}"
        # Violations are reported as the page loads; deferred scripts and late ones come by now.
        self.page.wait_for_load_state("load")


@pytest.fixture
def watched(new_context: Callable[..., BrowserContext]) -> Iterator[Callable[..., Watched]]:
    opened: list[Watched] = []

    def open_watched(**device: Any) -> Watched:
        context = new_context(locale="en-US", **device)
        context.set_default_timeout(10_000)
        opened.append(Watched(context))
        return opened[-1]

    yield open_watched


def sign_in(watched: Watched, email: str, password: str) -> None:
    page = watched.page
    watched.visit(reverse("account_login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def main_pages() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Each demo person's device and the pages they open most."""
    program = Program.objects.get(code="MA-DIPLOMA")
    student = User.objects.get(email="student@demo.checkoff.test")
    enrollment = Enrollment.objects.filter(student=student).latest("pk")
    instructor = User.objects.get(email="instructor@demo.checkoff.test")
    cohort = Cohort.objects.filter(instructors=instructor).first() or enrollment.cohort
    offering = CourseOffering.objects.filter(instructor=instructor).first()
    placement = Placement.objects.filter(enrollment=enrollment).latest("pk")
    competency = program.framework.competencies.filter(steps__program=program).first()
    track = CertificationTrack.objects.filter(program=program).first()
    assert offering is not None and competency is not None and track is not None
    return {
        "student": (
            PHONE,
            [
                reverse("home"),
                reverse("curriculum:my-competencies"),
                reverse("externships:placement-detail", args=[placement.pk]),
                reverse("externships:my-compliance"),
                reverse("certifications:my-certification"),
                reverse("notifications:list"),
            ],
        ),
        "instructor": (
            TABLET,
            [
                reverse("home"),
                reverse("curriculum:competency-grid", args=[cohort.pk]),
                reverse("curriculum:gradebook", args=[offering.pk]),
                reverse("curriculum:checkoff-new", args=[enrollment.pk, competency.pk]),
            ],
        ),
        "director": (
            DESKTOP,
            [
                reverse("home"),
                reverse("curriculum:program-detail", args=[program.code]),
                reverse("certifications:report", args=[program.code]),
                reverse("certifications:track-detail", args=[program.code, track.code]),
                reverse("curriculum:framework", args=[program.code]),
                reverse("mfa_index"),
            ],
        ),
        "coordinator": (
            DESKTOP,
            [
                reverse("externships:placement-list", args=[program.code]),
                reverse("externships:compliance-review", args=[program.code]),
                reverse("externships:cohort-readiness", args=[enrollment.cohort.pk]),
            ],
        ),
        "preceptor": (PHONE, [reverse("home"), reverse("externships:placement-detail", args=[placement.pk])]),
    }


def test_every_demo_person_walks_their_main_pages_without_a_policy_violation(
    live_server: Any, settings: Any, watched: Callable[..., Watched]
) -> None:
    settings.DEBUG = True  # the demo's people exist only with DEBUG on
    call_command("seed_demo")
    settings.DEBUG = False
    problems: list[str] = []
    for who, (device, urls) in main_pages().items():
        person = watched(**device)
        sign_in(person, f"{who}@demo.checkoff.test", DEMO_PASSWORD)
        expect(person.page).to_have_url(re.compile(r"/$"))  # home, in the person's own language
        for url in urls:
            person.visit(url)
        problems += person.problems
    assert problems == []


def test_a_visitor_switches_language_and_the_menus_open_without_a_policy_violation(
    live_server: Any, watched: Callable[..., Watched], db: Any
) -> None:
    visitor = watched(**PHONE)
    visitor.visit(reverse("account_login"))
    # Choosing a language changes nothing until the button is pressed (WCAG 3.2.2: no change of context
    # on input); then the page comes back in Spanish.
    visitor.page.get_by_label("Language").select_option("es")
    expect(visitor.page.locator("html")).to_have_attribute("lang", "en")
    visitor.page.get_by_role("button", name="Change").click()
    expect(visitor.page.locator("html")).to_have_attribute("lang", "es")
    assert visitor.problems == []


def test_an_administrator_opens_the_admin_without_a_policy_violation(
    live_server: Any, watched: Callable[..., Watched], db: Any
) -> None:
    root = factories.UserFactory.create(email="root@school.test", is_staff=True, is_superuser=True)
    secret = totp.generate_totp_secret()
    Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)})
    program = factories.ProgramFactory.create()
    administrator = watched(**DESKTOP)
    # The admin's own sign-in is allauth's, with the second step.
    administrator.visit(reverse("admin:login"))
    administrator.page.get_by_label("Email").fill(root.email)
    administrator.page.get_by_label("Password").fill(factories.PASSWORD)
    administrator.page.get_by_role("button", name="Sign in").click()
    code = totp.format_hotp_value(totp.hotp_value(secret, next(totp.yield_hotp_counters_from_time())))
    administrator.page.get_by_label("Code").fill(code)
    administrator.page.get_by_role("button", name="Sign in").click()
    expect(administrator.page).to_have_url(re.compile(reverse("admin:index") + "$"))
    for url in (
        reverse("admin:index"),
        reverse("admin:curriculum_program_changelist"),
        reverse("admin:curriculum_program_change", args=[program.pk]),
        reverse("admin:accounts_user_change", args=[root.pk]),
    ):
        administrator.visit(url)
        expect(administrator.page.locator("#content")).to_be_visible()
    assert administrator.problems == []
