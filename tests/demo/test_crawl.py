"""Every page a demo person can reach by following links answers without a server error, and holds
nothing the Content-Security-Policy would refuse (inline script, handlers, style attributes).

A crawl over the demo program, as each demo account: the cheapest net for the rule that no
page, for anyone, ever answers 500."""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import Resolver404, resolve

from accounts.models import User
from tests.demo.test_content_security_policy import inline_code

pytestmark = pytest.mark.xdist_group("demo")

LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/static/", "/accounts/logout", "/i18n/", "/admin/", "/dev/")
# Opened pages of one address pattern: three of each show records in different states (a placement
# planned, active, ended), and the walk reaches every pattern a person can (the director, 78 of them).
# Uncapped, the instructor alone opened 206 check-off pages of one view and left no room for the rest.
PAGES_PER_ROUTE = 3
PAGES_PER_PERSON = 400  # a bound, not a sample: every person's walk ends before it
# The walk in Spanish looks for what a translation breaks (a placeholder, a plural, a format): the same on
# every page a view renders, so it opens one page of each address pattern, not every student's.
PAGES_PER_ROUTE_IN_SPANISH = 1


@pytest.fixture
def demo(seeded_demo, settings, db):
    settings.DEBUG = True


def test_no_page_a_demo_person_can_reach_fails_in_either_language(client, demo):
    for language in ("en", "es"):
        for who in ("director", "coordinator", "instructor", "student", "preceptor"):
            person = User.objects.get(email=f"{who}@demo.checkoff.test")
            person.preferred_language = language
            person.save(update_fields=["preferred_language"])
            crawl(client, person, per_route=PAGES_PER_ROUTE_IN_SPANISH if language == "es" else PAGES_PER_ROUTE)


def crawl(client, person: User, per_route: int) -> None:
    client.force_login(person)
    seen: set[str] = set()
    opened: Counter[str] = Counter()
    queue = deque(["/"])
    failures = []
    refused_by_policy = {}
    while queue and opened.total() < PAGES_PER_PERSON:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        route = _route(url)
        if opened[route] >= per_route:
            continue
        opened[route] += 1
        response = client.get(url)
        if response.status_code >= 500:
            failures.append((url, response.status_code))
            continue
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        if found := inline_code(response.content.decode()):
            refused_by_policy[url] = found
        for link in LINK.findall(response.content.decode()):
            link = urldefrag(link.replace("&amp;", "&")).url
            path = urlsplit(link).path
            if link not in seen and not path.startswith(SKIP):
                queue.append(link)
    assert not queue, f"as {person.email}, the walk stopped at {PAGES_PER_PERSON} pages with addresses left"
    assert failures == [], f"as {person.email} in {person.preferred_language}"
    assert refused_by_policy == {}, f"as {person.email} in {person.preferred_language}"
    # A preceptor reaches only their students' placements and evaluations; everyone else, far more.
    least = 5 if person.email.startswith("preceptor@") else 15
    assert opened.total() > least, f"as {person.email}, the crawl opened only {opened.total()} pages"


def _route(url: str) -> str:
    """The address pattern a URL resolves to (the same view for every student), or the path itself."""
    try:
        return resolve(urlsplit(url).path).route
    except Resolver404:
        return urlsplit(url).path
