"""Pages cost a fixed number of queries whatever the amount of data: rendered at 1x and 5x rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curriculum.models import StaffRole
from tests import factories
from tests.queries import queries_for


def grow(cohort, offering, times: int) -> None:
    """Add `times` students and assignments, and grade them all."""
    students = [factories.EnrollmentFactory(cohort=cohort) for _ in range(times * 3)]
    for index in range(times * 2):
        assignment = factories.AssignmentFactory(offering=offering, due_at=timezone.now() + timedelta(days=index - 3))
        for enrollment in students:
            factories.GradeFactory(assignment=assignment, enrollment=enrollment, graded_by=offering.instructor)


def grow_programs(director, times: int) -> None:
    for _ in range(times):
        program = factories.StaffFactory(user=director, role=StaffRole.Role.DIRECTOR).program
        cohort = factories.CohortFactory(program=program)
        factories.EnrollmentFactory(cohort=cohort)
        factories.CourseFactory(program=program)


@pytest.mark.parametrize(
    ("page", "who"),
    [
        ("home", "irene"),
        ("home", "alice"),
        ("home", "dana"),
        ("program-list", "dana"),
        ("program-detail", "dana"),
        ("cohort-detail", "irene"),
        ("offering-detail", "irene"),
        ("offering-detail", "alice"),
        ("gradebook", "irene"),
    ],
)
def test_pages_cost_the_same_queries_at_1x_and_5x(client, request, page, who, cohort, offering, dana, alice):
    user = request.getfixturevalue(who)
    urls = {
        "home": reverse("home"),
        "program-list": reverse("curriculum:program-list"),
        "program-detail": reverse("curriculum:program-detail", args=[cohort.program.code]),
        "cohort-detail": reverse("curriculum:cohort-detail", args=[cohort.pk]),
        "offering-detail": reverse("curriculum:offering-detail", args=[offering.pk]),
        "gradebook": reverse("curriculum:gradebook", args=[offering.pk]),
    }
    grow(cohort, offering, 1)
    grow_programs(dana, 1)
    once = queries_for(client, user, urls[page])
    grow(cohort, offering, 4)
    grow_programs(dana, 4)
    five_times = queries_for(client, user, urls[page])
    print(f"QUERIES {page} as {who}: {once} at 1x, {five_times} at 5x")  # for `pytest -s`: the figures
    assert once == five_times, f"{page} for {who}: {once} queries at 1x, {five_times} at 5x"
