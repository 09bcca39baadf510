"""The home page answers "what should I do now?" for each role: a list of tasks, most urgent first,
then the panels each role works from. Each person sees only their own program's, cohorts' and
students' items, and the page costs a fixed number of queries at 1x and 5x the data."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from config import data_version
from curriculum.models import StaffRole
from externships.models import ComplianceRecord, ComplianceRequirement, HoursEntry, Kind, Placement
from notifications.models import Message
from tests import factories
from tests.certification_factories import ExamAttemptFactory, track
from tests.certifications.test_report_views import populate
from tests.externship_factories import (
    ComplianceRecordFactory,
    PlacementFactory,
    PreceptorFactory,
    RequirementFactory,
    SiteFactory,
    shift,
)
from tests.notification_factories import MessageFactory
from tests.queries import queries_for

HOME = reverse("home")


def page_of(client, user, url: str = HOME) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def tasks_of(html: str) -> list[str]:
    """The sentences of "What to do now", in their order on the page."""
    todo = html.split('id="todo-heading"', 1)[1].split("</section>", 1)[0]
    return [unescape(text).strip() for text in re.findall(r'<a class="fw-semibold" href="[^"]*">([^<]+)</a>', todo)]


def section_of(html: str, heading_id: str) -> str:
    """The HTML of the panel whose heading has this id."""
    return html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def only_hepatitis_b(program):
    """The program requires one document, not the defaults every new program gets."""
    ComplianceRequirement.objects.filter(program=program).delete()
    return RequirementFactory(program=program, name="Hepatitis B")


@pytest.fixture
def framework(program):
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save(update_fields=["framework"])
    return framework


@pytest.fixture
def skill(framework):
    return factories.CompetencyFactory(framework=framework, code="I.P.1.a", title="blood pressure")


def yesterday():
    return timezone.now() - timedelta(days=1)


class TestInstructor:
    def test_the_grading_queue_holds_work_past_due_that_a_current_student_has_no_grade_for(
        self, client, irene, offering, alice, bob
    ):
        late = factories.AssignmentFactory(offering=offering, title="Vitals quiz", due_at=yesterday())
        factories.GradeFactory(assignment=late, enrollment=alice.enrollments.get(), graded_by=irene)
        done = factories.AssignmentFactory(offering=offering, title="Done quiz", due_at=yesterday())
        for student in (alice, bob):
            factories.GradeFactory(assignment=done, enrollment=student.enrollments.get(), graded_by=irene)
        factories.AssignmentFactory(offering=offering, title="Future quiz")
        html = page_of(client, irene)
        queue = section_of(html, "grading-heading")
        assert "Vitals quiz" in queue and "1 grade missing" in queue
        assert "Done quiz" not in queue and "Future quiz" not in queue
        assert tasks_of(html) == ["Grade 1 assignment past its due date"]
        assert f'href="{reverse("curriculum:gradebook", args=[offering.pk])}">Grade 1 assignment' in html

    def test_a_withdrawn_students_missing_grade_is_not_work_to_do(self, client, irene, offering, alice, bob):
        late = factories.AssignmentFactory(offering=offering, due_at=yesterday())
        factories.GradeFactory(assignment=late, enrollment=alice.enrollments.get(), graded_by=irene)
        bob.enrollments.update(withdrawn_on=date.today())
        assert "grade missing" not in section_of(page_of(client, irene), "grading-heading")

    def test_it_lists_check_offs_attempted_and_not_passed_in_the_instructors_cohorts_only(
        self, client, irene, ivan, alice, bob, other_cohort, skill
    ):
        factories.check_off(alice.enrollments.get(), skill, irene, passed=False)
        factories.check_off(bob.enrollments.get(), skill, irene, passed=True)
        carl = factories.EnrollmentFactory(cohort=other_cohort, student__first_name="Carl")
        factories.check_off(carl, skill, ivan, passed=False)

        irenes = section_of(page_of(client, irene), "retests-heading")
        assert alice.full_name in irenes and "I.P.1.a blood pressure" in irenes
        assert bob.full_name not in irenes and carl.student.full_name not in irenes
        start = reverse("curriculum:checkoff-new", args=[alice.enrollments.get().pk, skill.pk])
        assert start in irenes

        ivans = page_of(client, ivan)
        assert carl.student.full_name in section_of(ivans, "retests-heading")
        assert alice.full_name not in ivans
        assert tasks_of(ivans) == ["1 check-off to repeat: attempted, not passed yet"]

    def test_a_pass_after_a_fail_leaves_nothing_to_repeat(self, client, irene, alice, skill):
        factories.check_off(alice.enrollments.get(), skill, irene, passed=False)
        factories.check_off(alice.enrollments.get(), skill, irene, passed=True)
        assert "No check-off waits to be repeated" in page_of(client, irene)

    def test_courses_are_split_into_now_coming_up_and_past_with_the_past_folded(self, client, irene, cohort):
        today = date.today()
        for title, starts_on, ends_on in (
            ("Running course", today - timedelta(days=10), today + timedelta(days=10)),
            ("Next course", today + timedelta(days=20), today + timedelta(days=60)),
            ("Old course", today - timedelta(days=90), today - timedelta(days=30)),
        ):
            factories.OfferingFactory(
                cohort=cohort,
                instructor=irene,
                course__title=title,
                starts_on=starts_on,
                ends_on=ends_on,
            )
        courses = section_of(page_of(client, irene), "teaching-heading")
        now, rest = courses.split(">Coming up<", 1)
        upcoming, past = rest.split("<details", 1)
        assert "Running course" in now and "Next course" in upcoming and "Old course" in past
        assert "Past course (1 most recent)" in past

    def test_with_nothing_to_do_it_says_so_and_what_it_checked(self, client, irene, cohort):
        html = page_of(client, irene)
        assert "Nothing needs you today." in html
        assert "Checked just now: work to grade and check-offs to repeat." in html


def outbox_failure(program, **fields):
    return MessageFactory(
        program=program, state=Message.State.FAILED, attempts=8, last_error="Mailbox unavailable", **fields
    )


class TestDirector:
    def test_outcome_figures_are_held_against_their_thresholds_in_words(self, client, dana, program):
        populate(program)
        html = page_of(client, dana)
        outcomes = section_of(html, "outcomes-heading")
        placement_row = outcomes.split("Job placement", 1)[1].split("</tr>", 1)[0]
        assert "50.0%" in placement_row and "Below threshold" in placement_row and "60%" in placement_row
        retention_row = outcomes.split("Retention", 1)[1].split("</tr>", 1)[0]
        assert "Meets" in retention_row
        assert "Job placement is below the MAERB (CAAHEP) threshold: 50.0% against 60%" in tasks_of(html)

    def test_students_whose_placement_starts_soon_and_who_may_not_start_it_are_listed(
        self, client, dana, carlos, program, cohort, alice, bob, site, skill
    ):
        soon = date.today() + timedelta(days=10)
        PlacementFactory(
            enrollment=bob.enrollments.get(),
            site=site,
            start_on=soon,
            end_on=soon + timedelta(days=60),
            created_by=carlos,
        )
        later = date.today() + timedelta(days=90)
        PlacementFactory(
            enrollment=alice.enrollments.get(),
            site=site,
            start_on=later,
            end_on=later + timedelta(days=60),
            created_by=carlos,
        )
        html = page_of(client, dana)
        not_ready = section_of(html, "not-ready-heading")
        assert bob.full_name in not_ready and "1 competency not achieved yet" in not_ready
        assert alice.full_name not in not_ready  # starts in three months: not due yet
        assert "1 student may not start their placement on time" in tasks_of(html)

    def test_documents_that_expire_before_an_active_placement_ends_are_listed(
        self, client, dana, program, alice, active
    ):
        requirement = RequirementFactory(program=program, name="Hepatitis B")
        ComplianceRecordFactory(student=alice, requirement=requirement, expires_on=active.end_on - timedelta(days=5))
        html = page_of(client, dana)
        expiring = section_of(html, "expiring-heading")
        assert alice.full_name in expiring and "Hepatitis B expires on" in expiring
        assert reverse("externships:student-compliance", args=[alice.enrollments.get().pk]) in expiring
        assert "1 student on placement lacks documents valid until it ends" in tasks_of(html)

    def test_evaluations_past_their_day_are_overdue(self, client, dana, alice, placement):
        Placement.objects.filter(pk=placement.pk).update(
            state=Placement.State.ACTIVE,
            start_on=date.today() - timedelta(days=60),
            end_on=date.today() + timedelta(days=10),
        )
        html = page_of(client, dana)
        overdue = section_of(html, "evaluations-overdue-heading")
        assert alice.full_name in overdue and str(Kind.MIDPOINT.label) in overdue
        assert "Final evaluation" not in overdue  # due on the end date, still ahead
        assert "1 evaluation is overdue" in tasks_of(html)

    def test_reminders_that_failed_and_were_not_sent_again_are_listed(self, client, dana, program, alice):
        outbox_failure(program, recipient=alice)
        resent = outbox_failure(program, recipient=alice)
        MessageFactory(
            program=program, recipient=alice, resent_from=resent, state=Message.State.SENT, sent_at=timezone.now()
        )
        html = page_of(client, dana)
        failed = section_of(html, "failed-reminders-heading")
        assert failed.count("Mailbox unavailable") == 1
        assert "1 reminder failed and was not sent again" in tasks_of(html)
        assert reverse("curriculum:outbox", args=[program.code]) + "?state=failed" in failed

    def test_the_most_urgent_tasks_come_first(self, client, dana, program, alice):
        populate(program)
        outbox_failure(program, recipient=alice)
        tasks = tasks_of(page_of(client, dana))
        assert tasks.index("1 reminder failed and was not sent again") < tasks.index(
            "Job placement is below the MAERB (CAAHEP) threshold: 50.0% against 60%"
        )
        assert '<span class="badge text-bg-danger">Overdue</span>' in page_of(client, dana)

    def test_a_director_sees_nothing_of_another_program(self, client, dana, program, alice):
        other = factories.ProgramFactory(name="Another school")
        stranger = factories.EnrollmentFactory(cohort=factories.CohortFactory(program=other), student__first_name="Zed")
        outbox_failure(other, recipient=stranger.student)
        other_site = SiteFactory(program=other)
        PlacementFactory(
            enrollment=stranger, site=other_site, start_on=date.today() + timedelta(days=5), created_by=stranger.student
        )
        for url in (HOME, f"{HOME}?program={other.code}"):
            html = page_of(client, dana, url)
            assert stranger.student.full_name not in html
            assert "Another school" not in html
            assert "failed and was not sent again" not in html

    def test_a_person_running_two_programs_switches_between_them(self, client, dana, program):
        second = factories.StaffFactory(user=dana, role=StaffRole.Role.DIRECTOR, program__name="Zeta program").program
        outbox_failure(second, recipient=dana)
        first_page = page_of(client, dana)
        assert 'aria-current="page">' + program.name in first_page
        assert "failed and was not sent again" not in first_page
        second_page = page_of(client, dana, f"{HOME}?program={second.code}")
        assert 'aria-current="page">Zeta program' in second_page
        assert "1 reminder failed and was not sent again" in tasks_of(second_page)

    def test_an_instructor_sees_no_program_panels(self, client, irene, program):
        outbox_failure(program, recipient=irene)
        html = page_of(client, irene)
        assert 'id="outcomes-heading"' not in html and 'id="failed-reminders-heading"' not in html

    def test_a_coordinator_sees_the_same_program_panels(self, client, carlos, program, alice):
        outbox_failure(program, recipient=alice)
        html = page_of(client, carlos)
        assert 'id="outcomes-heading"' in html and "1 reminder failed and was not sent again" in tasks_of(html)


class TestPreceptor:
    def test_weeks_waiting_for_approval_come_first_and_approved_weeks_are_folded(self, client, paula, alice, active):
        monday = active.start_on - timedelta(days=active.start_on.weekday())
        shift(active, max(monday, active.start_on), state=HoursEntry.State.APPROVED)
        shift(active, monday + timedelta(days=7), state=HoursEntry.State.SUBMITTED)
        shift(active, monday + timedelta(days=8), state=HoursEntry.State.SUBMITTED)
        html = page_of(client, paula)
        students = section_of(html, "precepting-heading")
        waiting, folded = students.split("<details", 1)
        assert "Waiting for your approval" in waiting and "2 shifts waiting" in waiting
        assert f"#week-{(monday + timedelta(days=7)).isoformat()}" in waiting
        assert "1 week approved (8 h)" in folded
        assert tasks_of(html)[0] == f"Approve 2 shifts of {alice.full_name}"

    def test_an_evaluation_past_its_day_is_overdue_on_the_preceptors_list(self, client, paula, alice, placement):
        Placement.objects.filter(pk=placement.pk).update(
            state=Placement.State.ACTIVE,
            start_on=date.today() - timedelta(days=60),
            end_on=date.today() + timedelta(days=10),
        )
        html = page_of(client, paula)
        assert tasks_of(html)[0].startswith(f"{Kind.MIDPOINT.label}: {alice.full_name}, overdue since")
        assert reverse("externships:evaluation-new", args=[placement.pk, Kind.MIDPOINT]) in html

    def test_another_preceptors_students_are_not_shown(self, client, paula, bob, site, carlos, active):
        PlacementFactory(
            enrollment=bob.enrollments.get(), site=site, preceptor=PreceptorFactory(site=site), created_by=carlos
        )
        html = page_of(client, paula)
        assert bob.full_name not in html


class TestStudent:
    def test_next_steps_before_the_practicum_come_in_order_overdue_work_competencies_documents_exam(
        self, client, alice, irene, offering, program, skill, placement, only_hepatitis_b
    ):
        factories.AssignmentFactory(offering=offering, title="Late essay", due_at=yesterday())
        book_exam(alice, program)
        assert tasks_of(page_of(client, alice)) == [
            "1 assignment is overdue",
            "Pass 1 more skills check-off before your practicum",
            "Upload 1 compliance document",
            f"Your CMA exam is on {date_format_day(date.today() + timedelta(days=12))}",
            "Choose the credential you aim for",
        ]

    def test_on_placement_the_hours_to_log_come_after_documents_and_before_the_exam(
        self, client, alice, program, skill, active, only_hepatitis_b
    ):
        book_exam(alice, program)
        assert tasks_of(page_of(client, alice)) == [
            "Upload 1 compliance document",
            "Log your shifts: 0 of 160 hours approved",
            f"Your CMA exam is on {date_format_day(date.today() + timedelta(days=12))}",
            "Choose the credential you aim for",
        ]

    def test_a_document_waiting_for_review_is_not_a_step_for_the_student(self, client, alice, only_hepatitis_b):
        ComplianceRecordFactory(student=alice, requirement=only_hepatitis_b, state=ComplianceRecord.State.PENDING)
        assert not any("compliance document" in task for task in tasks_of(page_of(client, alice)))

    def test_a_student_already_on_placement_is_not_told_to_pass_check_offs_before_it(
        self, client, alice, skill, active
    ):
        assert not any("before your practicum" in task for task in tasks_of(page_of(client, alice)))

    def test_shifts_returned_by_the_preceptor_are_to_correct(self, client, alice, active):
        shift(active, active.start_on, state=HoursEntry.State.RETURNED)
        assert "Correct 1 shift your preceptor returned" in tasks_of(page_of(client, alice))

    def test_the_student_sees_only_their_own_steps(self, client, alice, bob, offering, irene):
        late = factories.AssignmentFactory(offering=offering, due_at=yesterday())
        factories.GradeFactory(assignment=late, enrollment=alice.enrollments.get(), graded_by=irene)
        assert "assignment is overdue" not in page_of(client, alice)
        assert "1 assignment is overdue" in tasks_of(page_of(client, bob))


def book_exam(student, program) -> None:
    ExamAttemptFactory(
        enrollment=student.enrollments.get(),
        track=track(program, "CMA"),
        taken_on=None,
        result="",
        scheduled_on=date.today() + timedelta(days=12),
        location="Main Campus",
    )


def date_format_day(day: date) -> str:
    return date_format(day, "DATE_FORMAT")


class TestMethods:
    def test_it_rejects_post(self, client, dana):
        client.force_login(dana)
        assert client.post(HOME).status_code == 405


# --- Query counts: each role's home at 1x and 5x the data -----------------------------------------


def grow_instructor(cohort, offering, irene, skill, times: int) -> None:
    """Students, late assignments partly graded, failed check-offs, and past courses."""
    for _ in range(times):
        students = [factories.EnrollmentFactory(cohort=cohort) for _ in range(3)]
        late = factories.AssignmentFactory(offering=offering, due_at=yesterday())
        factories.GradeFactory(assignment=late, enrollment=students[0], graded_by=irene)
        for enrollment in students:
            factories.check_off(enrollment, skill, irene, passed=False)
        factories.OfferingFactory(
            cohort=cohort,
            instructor=irene,
            starts_on=date.today() - timedelta(days=200),
            ends_on=date.today() - timedelta(days=100),
        )


def grow_director(program, cohort, site, carlos, skill, times: int) -> None:
    """Students not ready for a placement starting soon, documents expiring, evaluations overdue,
    failed reminders and graduates in the outcome figures."""
    requirement = RequirementFactory(program=program)
    for _ in range(times):
        planned = factories.EnrollmentFactory(cohort=cohort)
        soon = date.today() + timedelta(days=7)
        PlacementFactory(
            enrollment=planned, site=site, start_on=soon, end_on=soon + timedelta(days=60), created_by=carlos
        )
        placed = factories.EnrollmentFactory(cohort=cohort)
        placement = PlacementFactory(
            enrollment=placed,
            site=site,
            state=Placement.State.ACTIVE,
            start_on=date.today() - timedelta(days=60),
            end_on=date.today() + timedelta(days=10),
            created_by=carlos,
        )
        ComplianceRecordFactory(
            student=placed.student, requirement=requirement, expires_on=placement.end_on - timedelta(days=1)
        )
        ComplianceRecordFactory(student=placed.student, requirement=requirement, state="pending")
        outbox_failure(program, recipient=placed.student)
        graduate = factories.EnrollmentFactory(
            cohort=cohort, admitted_on=date(2023, 1, 9), graduated_on=date(2024, 5, 15)
        )
        ExamAttemptFactory(enrollment=graduate, taken_on=date(2024, 6, 1))


def grow_preceptor(active, paula, site, carlos, times: int) -> None:
    """Weeks of shifts, approved and waiting, and more students placed with the preceptor."""
    preceptor = paula.preceptorships.get()
    for _ in range(times):
        enrollment = factories.EnrollmentFactory(cohort=active.enrollment.cohort)
        placement = PlacementFactory(
            enrollment=enrollment, site=site, preceptor=preceptor, state=Placement.State.ACTIVE, created_by=carlos
        )
        for offset, state in ((0, "approved"), (7, "submitted"), (8, "returned")):
            shift(placement, placement.start_on + timedelta(days=offset), state=state)


def grow_student(alice, offering, irene, program, skill_factory, times: int) -> None:
    """Assignments overdue and graded, competencies, requirements and exams."""
    enrollment = alice.enrollments.get()
    for _ in range(times):
        factories.AssignmentFactory(offering=offering, due_at=yesterday())
        graded = factories.AssignmentFactory(offering=offering, due_at=yesterday())
        factories.GradeFactory(assignment=graded, enrollment=enrollment, graded_by=irene)
        factories.check_off(enrollment, skill_factory(), irene, passed=True)
        RequirementFactory(program=program)
        sat = enrollment.exam_attempts.count()
        ExamAttemptFactory(enrollment=enrollment, taken_on=date(2024, 6, 1) + timedelta(days=60 * sat), result="fail")


def home_queries(client, person) -> tuple[int, int]:
    """(computed, kept): the home's queries when it is computed afresh, and when the cache keeps it."""
    kept = queries_for(client, person, HOME)  # its first GET computed the page; this one finds it kept
    data_version.move()  # as any write does
    with CaptureQueriesContext(connection) as captured:
        assert client.get(HOME).status_code == 200
    return len(captured.captured_queries), kept


class TestQueryCounts:
    def test_the_instructors_home(self, client, irene, cohort, offering, skill):
        grow_instructor(cohort, offering, irene, skill, 1)
        once = home_queries(client, irene)
        grow_instructor(cohort, offering, irene, skill, 4)
        assert (once, home_queries(client, irene)) == ((15, 4), (15, 4))

    def test_the_directors_home(self, client, dana, program, cohort, site, carlos, skill):
        grow_director(program, cohort, site, carlos, skill, 1)
        once = home_queries(client, dana)
        grow_director(program, cohort, site, carlos, skill, 4)
        assert (once, home_queries(client, dana)) == ((23, 4), (23, 4))

    def test_the_preceptors_home(self, client, paula, active, site, carlos):
        site.capacity = 100
        site.save()
        grow_preceptor(active, paula, site, carlos, 1)
        once = home_queries(client, paula)
        grow_preceptor(active, paula, site, carlos, 4)
        assert (once, home_queries(client, paula)) == ((10, 4), (10, 4))

    def test_the_students_home(self, client, alice, offering, irene, program, framework, active):
        def skill_factory():
            return factories.CompetencyFactory(framework=framework)

        grow_student(alice, offering, irene, program, skill_factory, 1)
        once = home_queries(client, alice)
        grow_student(alice, offering, irene, program, skill_factory, 4)
        assert (once, home_queries(client, alice)) == ((19, 4), (19, 4))
