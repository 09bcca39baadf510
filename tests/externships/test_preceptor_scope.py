"""A preceptor is outside the school: the students placed with them, and nothing else of anyone."""

from __future__ import annotations

from django.urls import reverse

from externships.models import Placement
from tests import factories
from tests.externship_factories import ComplianceRecordFactory


def test_the_preceptor_reaches_nothing_of_the_school(client, paula, active, alice, program, cohort, offering):
    enrollment = alice.enrollments.get()
    record = ComplianceRecordFactory(student=alice)
    closed = [
        reverse("curriculum:program-detail", args=[program.code]),
        reverse("curriculum:cohort-detail", args=[cohort.pk]),
        reverse("curriculum:competency-grid", args=[cohort.pk]),
        reverse("curriculum:student-competencies", args=[enrollment.pk]),
        reverse("curriculum:offering-detail", args=[offering.pk]),
        reverse("curriculum:gradebook", args=[offering.pk]),
        reverse("externships:compliance-document", args=[record.pk]),
        reverse("externships:student-compliance", args=[enrollment.pk]),
        reverse("externships:placement-list", args=[program.code]),
        reverse("externships:site-list", args=[program.code]),
        reverse("externships:cohort-readiness", args=[cohort.pk]),
    ]
    client.force_login(paula)
    for url in closed:
        assert client.get(url).status_code == 404, url


def test_the_preceptor_sees_only_their_students(client, paula, active, bob, program, site):
    """Bob at the same site with another preceptor stays hidden from Paula."""
    from tests.externship_factories import PlacementFactory, PreceptorFactory

    bobs = PlacementFactory(
        enrollment=bob.enrollments.get(), site=site, preceptor=PreceptorFactory(site=site), state=Placement.State.ACTIVE
    )
    client.force_login(paula)
    home = client.get(reverse("home")).content.decode()
    assert active.enrollment.student.full_name in home
    assert bob.full_name not in home
    assert client.get(reverse("externships:placement-detail", args=[bobs.pk])).status_code == 404


def test_the_placement_page_shows_the_preceptor_no_grades(client, paula, active, alice, offering):
    factories.GradeFactory(
        assignment=factories.AssignmentFactory(offering=offering), enrollment=alice.enrollments.get()
    )
    client.force_login(paula)
    page = client.get(reverse("externships:placement-detail", args=[active.pk])).content.decode()
    assert offering.course.title not in page
