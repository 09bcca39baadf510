"""The navigation bar: staff reach their programs; a student reaches their own pages from anywhere."""

from __future__ import annotations

from django.urls import reverse

from tests.queries import queries_for

STUDENT_PAGES = {
    "curriculum:my-competencies": "Competencies",
    "externships:my-externship": "Externship",
    "externships:my-compliance": "Documents",
    "certifications:my-certification": "Certification",
}


def nav(client) -> str:
    page = client.get(reverse("home")).content.decode()
    return page[page.index('<nav class="navbar') : page.index("</nav>", page.index('<nav class="navbar'))]


def test_a_student_reaches_their_own_pages_from_the_bar(client, alice):
    client.force_login(alice)
    bar = nav(client)
    for name, label in STUDENT_PAGES.items():
        assert f'href="{reverse(name)}">{label}</a>' in bar
    assert reverse("curriculum:program-list") not in bar


def test_the_page_open_is_marked_current(client, alice):
    client.force_login(alice)
    page = client.get(reverse("curriculum:my-competencies")).content.decode()
    assert f'href="{reverse("curriculum:my-competencies")}" aria-current="page"' in page


def test_staff_see_their_programs_and_not_a_students_pages(client, irene):
    client.force_login(irene)
    bar = nav(client)
    assert reverse("curriculum:program-list") in bar
    assert reverse("curriculum:my-competencies") not in bar


def test_a_preceptor_sees_neither(client, paula):
    client.force_login(paula)
    bar = nav(client)
    assert reverse("curriculum:program-list") not in bar
    assert reverse("curriculum:my-competencies") not in bar


def test_the_bar_costs_the_same_one_query_for_everyone(client, alice, irene, paula):
    counts = {
        person.email: queries_for(client, person, reverse("accounts:preferences")) for person in (alice, irene, paula)
    }
    assert len(set(counts.values())) == 1, counts
