"""Each role's home in Chromium, at a desk and on a 390 px phone: "What to do now" first, most urgent
first, each line a link to where the person acts; then the panels. And the program hub, where staff
find every task grouped, with no button that looks disabled.

Data is made inside each test: the live server answers from another thread, which sees only what
was committed (live_server brings transactional_db).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from certifications import defaults
from curriculum.models import StaffRole
from externships.models import ComplianceRequirement, HoursEntry, Placement
from notifications.models import Message
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.certifications.test_report_views import populate
from tests.externship_factories import PlacementFactory, PreceptorFactory, RequirementFactory, SiteFactory, shift
from tests.notification_factories import MessageFactory

pytestmark = pytest.mark.browser

NARROW_PHONE: dict[str, Any] = {"viewport": {"width": 320, "height": 720}, "is_mobile": True, "has_touch": True}


def todo(page: Page) -> Locator:
    return page.get_by_role("region", name="What to do now")


def todo_lines(page: Page) -> Locator:
    return todo(page).get_by_role("listitem")


class School:
    """A program with a framework of two skills, a cohort taught by irene, students alice and bob."""

    def __init__(self) -> None:
        framework = factories.FrameworkFactory.create()
        self.program = factories.ProgramFactory.create(name="Medical Assisting Diploma", framework=framework)
        self.blood_pressure = factories.CompetencyFactory.create(
            framework=framework, code="I.P.1.a", title="blood pressure"
        )
        self.pulse = factories.CompetencyFactory.create(framework=framework, code="I.P.1.c", title="pulse")
        self.cohort = factories.CohortFactory.create(program=self.program, name="Fall 2026")
        self.irene = factories.StaffFactory.create(
            program=self.program, role=StaffRole.Role.INSTRUCTOR, first_name="Irene", user__last_name="Okafor"
        ).user
        self.cohort.instructors.add(self.irene)
        self.dana = factories.StaffFactory.create(
            program=self.program, role=StaffRole.Role.DIRECTOR, first_name="Dana", user__last_name="Reyes"
        ).user
        self.alice = factories.EnrollmentFactory.create(
            cohort=self.cohort, student__first_name="Alice", student__last_name="Moreno"
        )
        self.bob = factories.EnrollmentFactory.create(
            cohort=self.cohort, student__first_name="Bob", student__last_name="Nguyen"
        )
        self.site = SiteFactory.create(program=self.program, name="Lakeside Family Clinic")
        self.paula = PreceptorFactory.create(
            site=self.site, user=factories.UserFactory.create(first_name="Paula", last_name="Reyes")
        )


def test_an_instructor_sees_what_to_grade_and_re_test_then_courses_with_the_past_folded(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = School()
    today = date.today()
    running = factories.OfferingFactory.create(
        cohort=school.cohort,
        instructor=school.irene,
        course__title="Clinical Procedures I",
        starts_on=today - timedelta(days=20),
        ends_on=today + timedelta(days=40),
    )
    factories.OfferingFactory.create(
        cohort=school.cohort,
        instructor=school.irene,
        course__title="Medical Terminology",
        starts_on=today - timedelta(days=120),
        ends_on=today - timedelta(days=30),
    )
    quiz = factories.AssignmentFactory.create(
        offering=running, title="Vital signs quiz", due_at=timezone.now() - timedelta(days=2)
    )
    factories.GradeFactory.create(assignment=quiz, enrollment=school.alice, graded_by=school.irene)
    factories.check_off(school.bob, school.blood_pressure, school.irene, passed=False)

    page = sign_in(school.irene.email, DESKTOP)
    expect(todo_lines(page)).to_have_text(
        ["Grade 1 assignment past its due date 1 grade missing.", "1 check-off to repeat: attempted, not passed yet"]
    )
    retests = page.get_by_role("region", name="Check-offs to repeat")
    expect(retests).to_contain_text("Bob Nguyen · I.P.1.a blood pressure")
    courses = page.get_by_role("region", name="Courses you teach")
    past_course = courses.get_by_role("link", name=re.compile(r"^MA\d+ Medical Terminology$"))
    expect(past_course).to_be_hidden()
    courses.get_by_text("Past course (1 most recent)").click()
    expect(past_course).to_be_visible()
    screenshot(page, "home-instructor-desktop")

    phone = sign_in(school.irene.email, PHONE)
    screenshot(phone, "home-instructor-phone")
    todo(phone).get_by_role("link", name="Grade 1 assignment past its due date").tap()
    expect(phone).to_have_url(re.compile(rf"/offerings/{running.pk}/gradebook/$"))


def test_a_director_sees_what_needs_the_program_office_most_urgent_first(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    defaults.install_measures()  # the outcome measures' reference rows, which a flush removed
    school = School()
    populate(school.program)
    today = date.today()
    PlacementFactory.create(
        enrollment=school.alice,
        site=school.site,
        preceptor=school.paula,
        state=Placement.State.ACTIVE,
        start_on=today - timedelta(days=50),
        end_on=today + timedelta(days=20),
        created_by=school.dana,
    )
    PlacementFactory.create(
        enrollment=school.bob,
        site=school.site,
        preceptor=school.paula,
        start_on=today + timedelta(days=9),
        end_on=today + timedelta(days=70),
        created_by=school.dana,
    )
    MessageFactory.create(
        program=school.program,
        recipient=school.alice.student,
        state=Message.State.FAILED,
        attempts=8,
        last_error="Mailbox unavailable",
    )

    page = sign_in(school.dana.email, DESKTOP)
    lines = todo_lines(page)
    expect(lines.nth(0)).to_contain_text("evaluation is overdue")
    expect(lines.nth(0)).to_contain_text("Overdue")
    expect(lines.nth(1)).to_contain_text("1 reminder failed and was not sent again")
    expect(todo(page)).to_contain_text("1 student may not start their placement on time")
    expect(todo(page)).to_contain_text("Job placement is below the MAERB (CAAHEP) threshold: 50.0% against 60%")
    outcomes = page.get_by_role("region", name="Outcomes against MAERB (CAAHEP) thresholds")
    expect(outcomes.get_by_role("row", name=re.compile("^Job placement"))).to_contain_text("Below threshold")
    expect(outcomes.get_by_role("row", name=re.compile("^Retention"))).to_contain_text("Meets")
    not_ready = page.get_by_role("region", name="Not on track for their practicum")
    expect(not_ready).to_contain_text("Bob Nguyen")
    expect(not_ready).to_contain_text("2 competencies not achieved yet")
    screenshot(page, "home-director-desktop")

    for device, name in ((PHONE, "home-director-phone"), (NARROW_PHONE, "home-director-phone-320")):
        phone = sign_in(school.dana.email, device)
        screenshot(phone, name)
    todo(phone).get_by_role("link", name="1 reminder failed and was not sent again").tap()
    expect(phone).to_have_url(re.compile(r"/reminders/\?state=failed$"))
    expect(phone.get_by_role("main")).to_contain_text("Mailbox unavailable")


def test_a_preceptor_sees_weeks_waiting_first_and_approved_weeks_folded(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = School()
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    placement = PlacementFactory.create(
        enrollment=school.alice,
        site=school.site,
        preceptor=school.paula,
        state=Placement.State.ACTIVE,
        start_on=monday - timedelta(days=21),
        end_on=monday + timedelta(days=60),
        created_by=school.dana,
    )
    for days in (21, 20, 14, 13):
        shift(placement, monday - timedelta(days=days), state=HoursEntry.State.APPROVED)
    waiting_monday = monday - timedelta(days=7)
    shift(placement, waiting_monday, state=HoursEntry.State.SUBMITTED)
    shift(placement, waiting_monday + timedelta(days=1), state=HoursEntry.State.SUBMITTED)

    page = sign_in(school.paula.user.email, PHONE)
    expect(todo_lines(page).first).to_have_text("Approve 2 shifts of Alice Moreno")
    card = page.get_by_role("region", name="Students placed with you").locator(".preceptor-student")
    expect(card).to_contain_text("2 shifts to approve")
    expect(card.get_by_role("heading", name="Waiting for your approval")).to_be_visible()
    approved = card.get_by_text("2 weeks approved (32 h)")
    expect(approved).to_be_visible()
    expect(card.get_by_text(re.compile(r"Week of .+: 16 h")).first).to_be_hidden()
    screenshot(page, "home-preceptor-phone")
    approved.tap()
    expect(card.get_by_text(re.compile(r"Week of .+: 16 h")).first).to_be_visible()

    desktop = sign_in(school.paula.user.email, DESKTOP)
    screenshot(desktop, "home-preceptor-desktop")
    desktop.get_by_role("link", name=re.compile("^Review the week")).click()
    expect(desktop).to_have_url(re.compile(rf"/placements/{placement.pk}/#week-{waiting_monday.isoformat()}$"))
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Alice Moreno")


def test_a_student_sees_next_steps_in_order(live_server: Any, sign_in: Callable[..., Page]) -> None:
    school = School()
    ComplianceRequirement.objects.filter(program=school.program).delete()
    RequirementFactory.create(program=school.program, name="Hepatitis B vaccination")
    offering = factories.OfferingFactory.create(
        cohort=school.cohort, instructor=school.irene, course__title="Clinical Procedures I"
    )
    factories.AssignmentFactory.create(offering=offering, title="Case study", due_at=timezone.now() - timedelta(days=1))
    factories.AssignmentFactory.create(offering=offering, title="Final quiz")
    factories.check_off(school.alice, school.pulse, school.irene)

    page = sign_in(school.alice.student.email, PHONE)
    expect(todo_lines(page)).to_have_text(
        [
            re.compile(r"^\s*1 assignment is overdue Overdue"),
            re.compile(r"^\s*Pass 1 more skills check-off before your practicum"),
            re.compile(r"^\s*Upload 1 compliance document"),
            re.compile(r"^\s*Choose the credential you aim for"),
        ]
    )
    expect(page.get_by_role("region", name="Coming up")).to_contain_text("Case study")
    screenshot(page, "home-student-phone")
    todo(page).get_by_role("link", name="Upload 1 compliance document").tap()
    expect(page).to_have_url(re.compile(r"/my/compliance/$"))

    desktop = sign_in(school.alice.student.email, DESKTOP)
    screenshot(desktop, "home-student-desktop")


def test_the_program_hub_groups_every_task_with_links_that_say_what_they_are_for(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = School()
    page = sign_in(school.dana.email, DESKTOP)
    page.get_by_role("link", name=school.program.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(school.program.name)
    hub = page.locator(".program-hub")
    expect(hub.get_by_role("heading", level=2)).to_have_text(
        ["Roster", "Competencies", "Externships", "Certifications and outcomes", "Reminders", "Program settings"]
    )
    externships = page.get_by_role("region", name="Externships")
    expect(externships.get_by_role("link")).to_have_text(
        ["Placements", "Compliance review", "Sites and preceptors", "Compliance requirements", "Evaluation forms"]
    )
    expect(page.locator("main [class*='btn-outline']")).to_have_count(0)
    screenshot(page, "program-hub-desktop")

    phone = sign_in(school.dana.email, PHONE)
    phone.goto(reverse("curriculum:program-detail", args=[school.program.code]))
    screenshot(phone, "program-hub-phone")
    phone.get_by_role("region", name="Certifications and outcomes").get_by_role("link", name="Outcome reports").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Outcome reports")
