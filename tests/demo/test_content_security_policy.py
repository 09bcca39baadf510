"""Every page carries the Content-Security-Policy, and no page holds what that policy would refuse.

The policy lets scripts and styles come only from our own static files. A page that still had an
inline script, an on* handler or a style attribute would break quietly in a browser (the policy
refuses it and the page goes on without it), so the HTML of each page is read here as well; the
browser journey in tests/browser/test_content_security_policy_journey.py watches for violations.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from certifications.models import CertificationTrack
from curriculum.models import Cohort, CourseOffering, Enrollment, Program
from externships.models import Placement

pytestmark = pytest.mark.xdist_group("demo")

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
# Script elements that hold data, not code: the policy does not apply to them (allauth, the admin).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction"}
# htmx evaluates these as code when they start with js: (off in base.html's htmx-config too).
CODE_ATTRIBUTES = {"hx-vals", "hx-headers", "hx-vars"}


class InlineCode(HTMLParser):
    """Collects what a Content-Security-Policy without 'unsafe-inline' would refuse to run or apply."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and "src" not in values and (values.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
            self.found.append(f"an inline <script> {attrs}")
        if tag == "style":
            self.found.append("a <style> element")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}>')
            elif name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{name} handler on <{tag}>")
            elif name in URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"a javascript: URL in {name} on <{tag}>")
            elif name in CODE_ATTRIBUTES and (value or "").lstrip().startswith(("js:", "javascript:")):
                self.found.append(f"code in {name} on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def policy_of(response) -> dict[str, str]:
    policy = {}
    for directive in response.headers.get("Content-Security-Policy", "").split(";"):
        name, _, value = directive.strip().partition(" ")
        if name:
            policy[name] = value
    return policy


def assert_protected(response, what: str) -> None:
    assert policy_of(response) == POLICY, f"{what}: {response.headers.get('Content-Security-Policy')!r}"
    if response.get("Content-Type", "").startswith("text/html"):
        assert inline_code(response.content.decode()) == [], what


@pytest.fixture
def demo(seeded_demo, settings, db):
    # Django's plain 404 and 500 pages carry no policy with DEBUG on (django-csp leaves its debug pages
    # alone); production runs with DEBUG off, and so do these requests.
    settings.DEBUG = False


def demo_person(who: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=f"{who}@demo.checkoff.test"))
    return client


def test_the_inline_code_reader_finds_what_the_policy_would_refuse():
    html = (
        '<script>alert(1)</script><script src="/static/a.js"></script><script type="application/json">{}</script>'
        '<style>p{}</style><p style="color: red" onclick="go()">x</p><a href="javascript:go()">y</a>'
        "<div hx-on:click=\"go()\" hx-vals='js:{a: go()}'></div>"
    )
    assert len(inline_code(html)) == 7


def test_a_visitor_sees_pages_under_the_policy(client, db):
    for url in (reverse("account_login"), reverse("account_request_login_code"), reverse("account_reset_password")):
        response = client.get(url)
        assert response.status_code == 200
        assert_protected(response, url)


def test_every_role_sees_its_main_pages_refusals_and_missing_pages_under_the_policy(demo):
    program = Program.objects.get(code="MA-DIPLOMA")
    student = User.objects.get(email="student@demo.checkoff.test")
    enrollment = Enrollment.objects.filter(student=student).latest("pk")
    instructor = User.objects.get(email="instructor@demo.checkoff.test")
    cohort = Cohort.objects.filter(instructors=instructor).first() or enrollment.cohort
    offering = CourseOffering.objects.filter(instructor=instructor).first()
    assert offering is not None
    # The demo student is months from her externship; the demo preceptor's students are on theirs.
    placement = Placement.objects.filter(preceptor__user__email="preceptor@demo.checkoff.test", state="active").latest(
        "pk"
    )
    competency = program.framework.competencies.filter(steps__program=program).first()
    track = CertificationTrack.objects.filter(program=program).first()
    assert competency is not None and track is not None
    pages = {
        "student": [
            reverse("home"),
            reverse("curriculum:my-competencies"),
            reverse("externships:my-externship"),
            reverse("externships:my-compliance"),
            reverse("certifications:my-certification"),
            reverse("notifications:list"),
            reverse("notifications:preferences"),
            reverse("accounts:access-log"),
            reverse("accounts:preferences"),
            reverse("mfa_index"),
        ],
        "instructor": [
            reverse("home"),
            reverse("curriculum:cohort-detail", args=[cohort.pk]),
            reverse("curriculum:competency-grid", args=[cohort.pk]),
            reverse("curriculum:gradebook", args=[offering.pk]),
            reverse("curriculum:checkoff-new", args=[enrollment.pk, competency.pk]),
            reverse("curriculum:student-competencies", args=[enrollment.pk]),
        ],
        "director": [
            reverse("home"),
            reverse("curriculum:program-list"),
            reverse("curriculum:program-detail", args=[program.code]),
            reverse("curriculum:framework", args=[program.code]),
            reverse("certifications:report", args=[program.code]),
            reverse("certifications:track-list", args=[program.code]),
            reverse("certifications:track-detail", args=[program.code, track.code]),
            reverse("certifications:track-domains", args=[program.code, track.code]),
            reverse("certifications:student-certification", args=[enrollment.pk]),
            reverse("curriculum:outbox", args=[program.code]),
            reverse("externships:evaluation-items", args=[program.code, "midpoint"]),
        ],
        "coordinator": [
            reverse("home"),
            reverse("externships:placement-list", args=[program.code]),
            reverse("externships:placement-detail", args=[placement.pk]),
            reverse("externships:compliance-review", args=[program.code]),
            reverse("externships:cohort-readiness", args=[enrollment.cohort.pk]),
            reverse("externships:site-list", args=[program.code]),
        ],
        "preceptor": [reverse("home"), reverse("externships:placement-detail", args=[placement.pk])],
    }
    for who, urls in pages.items():
        client = demo_person(who)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, f"{who} {url}"
            assert_protected(response, f"{who} {url}")
    forbidden = demo_person("instructor").get(reverse("certifications:report", args=[program.code]))
    missing = demo_person("student").get("/programs/NO-SUCH-PROGRAM/")
    assert (forbidden.status_code, missing.status_code) == (403, 404)
    assert_protected(forbidden, "an instructor on the outcome report")
    assert_protected(missing, "a page that does not exist")
    assert_protected(Client().get("/no/such/page/"), "a visitor on a page that does not exist")


def test_a_form_refused_for_its_csrf_token_explains_itself_under_the_policy(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "someone@school.test", "password": "whatever"})
    assert response.status_code == 403
    assert "Form not accepted" in response.content.decode()
    assert_protected(response, "the CSRF failure page")
