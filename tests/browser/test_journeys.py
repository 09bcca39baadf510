"""Journeys through the real pages in Chromium: dana the director imports a roster, maya a new
student accepts her invitation, irene the instructor grades her.

Data is made inside each test: the live server answers from another thread, which sees only
what was committed (live_server brings transactional_db).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from curriculum.models import Assignment, Cohort, CourseOffering, Enrollment, Grade, Program, StaffRole
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, TABLET, screenshot

pytestmark = pytest.mark.browser

COHORT_CODE = "2026-FALL"
INVITATION_LINK = re.compile(r"https?://\S+/me/invitation/\S+/")


@dataclass
class School:
    """Dana directs the program; irene teaches its course to the cohort; the quiz is due in a few days."""

    program: Program
    cohort: Cohort
    dana: User
    irene: User
    offering: CourseOffering
    assignment: Assignment


def make_school() -> School:
    program = factories.ProgramFactory.create(name="Medical Assisting Diploma")
    cohort = factories.CohortFactory.create(program=program, code=COHORT_CODE, name="Fall 2026")
    dana = factories.StaffFactory.create(program=program, role=StaffRole.Role.DIRECTOR, first_name="Dana").user
    irene = factories.StaffFactory.create(program=program, role=StaffRole.Role.INSTRUCTOR, first_name="Irene").user
    cohort.instructors.add(irene)
    offering = factories.OfferingFactory.create(cohort=cohort, instructor=irene, course__title="Clinical Procedures I")
    assignment = factories.AssignmentFactory.create(
        offering=offering, title="Vital signs quiz", due_at=timezone.now() + timedelta(days=3), points=Decimal(20)
    )
    return School(program, cohort, dana, irene, offering, assignment)


def invitation_link(body: str) -> str:
    match = INVITATION_LINK.search(body)
    assert match, f"no invitation link in the email:\n{body}"
    return match.group(0)


def test_a_director_imports_a_roster_and_the_invited_student_is_graded_by_her_instructor(
    live_server: Any,
    settings: Any,
    mailoutbox: list[Any],
    tmp_path: Any,
    sign_in: Callable[..., Page],
    visit: Callable[..., Page],
) -> None:
    settings.SITE_URL = live_server.url
    school = make_school()
    program, cohort, assignment = school.program, school.cohort, school.assignment
    roster_file = tmp_path / "fall-2026.csv"
    roster_file.write_text(
        "email,first_name,last_name,cohort,admitted_on\n"
        f"maya.lopez@example.test,Maya,Lopez,{COHORT_CODE},{cohort.start_on.isoformat()}\n"
        f"noah.kim@example.test,Noah,Kim,{COHORT_CODE},{cohort.start_on.isoformat()}\n",
        encoding="utf-8",
    )

    # Dana, at her desk, imports the roster from the program page.
    director = sign_in(school.dana.email, DESKTOP)
    director.get_by_role("link", name=program.name).click()
    expect(director.get_by_role("heading", level=1)).to_have_text(program.name)
    director.get_by_role("link", name="Import roster").click()
    director.get_by_label("Roster file (.csv or .xlsx)").set_input_files(roster_file)
    director.get_by_role("button", name="Check the file").click()

    expect(director.get_by_role("heading", level=1)).to_have_text("fall-2026.csv")
    for email in ("maya.lopez@example.test", "noah.kim@example.test"):
        expect(director.get_by_role("row").filter(has_text=email)).to_contain_text("New student")
    screenshot(director, "1-director-roster-preview-desktop")
    assert not Enrollment.objects.filter(cohort=cohort).exists(), "the dry run wrote enrollments"
    assert mailoutbox == []

    director.get_by_role("button", name="Import", exact=True).click()
    expect(director.get_by_role("status")).to_contain_text("Roster imported: 2 new students")
    screenshot(director, "2-director-roster-imported-desktop")
    assert set(Enrollment.objects.filter(cohort=cohort).values_list("student__email", flat=True)) == {
        "maya.lopez@example.test",
        "noah.kim@example.test",
    }

    # Maya's invitation arrives; she follows it on her phone.
    invitations = [message for message in mailoutbox if message.to == ["maya.lopez@example.test"]]
    assert len(invitations) == 1
    assert len(mailoutbox) == 2
    link = invitation_link(invitations[0].body)
    assert link.startswith(live_server.url), "invitation links are built from settings.SITE_URL"
    student = visit(**PHONE)
    student.goto(live_server.url + urlsplit(link).path)
    expect(student.get_by_role("heading", level=1)).to_have_text("Welcome to Checkoff")
    expect(student.get_by_text("maya.lopez@example.test")).to_be_visible()
    screenshot(student, "3-student-invitation-phone")
    student.get_by_label("Choose a password").fill("stethoscope-garden-42")
    student.get_by_label("Type it again").fill("stethoscope-garden-42")
    student.get_by_role("button", name="Set password and sign in").click()

    expect(student.get_by_role("status")).to_contain_text("Your password is set")
    expect(student.get_by_role("heading", level=1)).to_have_text("Hello, Maya")
    coming_up = student.get_by_role("region", name="Coming up")
    expect(coming_up.get_by_role("link", name=assignment.title)).to_be_visible()
    screenshot(student, "4-student-home-phone")

    # Irene grades the quiz on her tablet; the cell saves itself when she leaves it.
    instructor = sign_in(school.irene.email, TABLET)
    instructor.get_by_role("link", name="Gradebook").click()
    expect(instructor.get_by_role("heading", level=1)).to_have_text("Gradebook")
    points = instructor.get_by_label(f"Points for Lopez, Maya on {assignment.title}")
    with instructor.expect_response(re.compile(r"/assignments/\d+/grades/\d+/$")) as posted:
        points.fill("17.5")
        points.press("Tab")
    assert posted.value.status == 200
    expect(points).to_have_class(re.compile(r"\bgrade-saved\b"))
    maya_row = instructor.get_by_role("row").filter(has_text="Lopez, Maya")
    expect(maya_row).to_contain_text("Saved")
    expect(maya_row).to_contain_text("87.5")  # the row's percentage follows without a reload
    screenshot(instructor, "5-instructor-gradebook-tablet")

    grade = Grade.objects.get(assignment=assignment, enrollment__student__email="maya.lopez@example.test")
    assert grade.points_earned == Decimal("17.5")
    assert grade.graded_by == school.irene
    assert not Grade.objects.filter(enrollment__student__email="noah.kim@example.test").exists()

    instructor.reload()
    expect(points).to_have_value("17.5")
    expect(instructor.get_by_role("row").filter(has_text="Lopez, Maya")).to_contain_text("87.5")

    # Maya sees her grade on the course page.
    student.goto("/")
    expect(student.get_by_role("region", name="Coming up")).to_contain_text("Nothing due")
    student.get_by_role("region", name="Your courses").get_by_role("link", name="Clinical Procedures I").click()
    quiz = student.get_by_role("listitem").filter(has_text=assignment.title)
    expect(quiz).to_contain_text("17.5 / 20")
    screenshot(student, "6-student-course-phone")


def test_a_grade_over_the_maximum_is_refused_in_its_cell(live_server: Any, sign_in: Callable[..., Page]) -> None:
    school = make_school()
    assignment = school.assignment
    factories.EnrollmentFactory(cohort=school.cohort, student__first_name="Bob", student__last_name="Reyes")

    instructor = sign_in(school.irene.email, TABLET)
    instructor.goto(f"/offerings/{school.offering.pk}/gradebook/")
    points = instructor.get_by_label(f"Points for Reyes, Bob on {assignment.title}")
    points.fill("25")
    points.press("Tab")

    cell = instructor.locator(".grade-cell").filter(has=points)
    expect(cell.get_by_role("alert")).to_have_text("At most 20 points for this assignment.")
    expect(points).to_have_attribute("aria-invalid", "true")
    screenshot(instructor, "7-instructor-grade-too-high-tablet")
    assert not Grade.objects.exists()

    instructor.reload()
    expect(points).to_have_value("")
