"""Curriculum's reminders: an assignment due tomorrow, and instructors' weekly check-off digest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curriculum import reminders
from curriculum.models import Assignment, Competency, Enrollment, Program
from curriculum.services import revoke_signature
from notifications import planner
from notifications.kinds import Due, Timing, Window, kind_of
from notifications.models import Message, ReminderTiming
from tests import factories

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # 7:00 in Chicago, two hours before the digest
# 11:00 in Chicago: Monday's 9:00 is more than a day gone (a moment missed by less than a day still goes).
TUESDAY = datetime(2026, 6, 16, 16, 0, tzinfo=UTC)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _window(now: datetime, timings: dict[tuple[int, str], Timing] | None = None) -> Window:
    return Window(now=now, horizon=now + timedelta(seconds=settings.REMINDER_PLAN_AHEAD_SECONDS), timings=timings or {})


def _due(now: datetime, kind: str) -> list[Due]:
    return sorted(
        (item for item in reminders.due(_window(now)) if item.kind == kind),
        key=lambda item: (item.recipient_id, item.subject),
    )


def _assignment(offering, due_at: datetime) -> Assignment:
    return factories.AssignmentFactory.create(offering=offering, title="Vital signs quiz", due_at=due_at)


# --- assignment_due -------------------------------------------------------------------------


def test_an_assignment_due_tomorrow_reminds_each_student_at_nine_local_time(alice, bob, offering):
    assignment = _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    found = _due(MONDAY, reminders.ASSIGNMENT)
    assert [item.recipient_id for item in found] == sorted([alice.pk, bob.pk])
    item = found[0]
    assert item.subject == f"assignment:{assignment.pk}"
    assert item.occasion == "2026-06-16/1"
    assert item.due_at == _utc(2026, 6, 15, 14, 0)  # 9:00 CDT
    assert item.program_id == offering.cohort.program_id
    assert item.url == reverse("curriculum:offering-detail", args=[offering.pk])
    assert item.context == {
        "assignment": "Vital signs quiz",
        "course": offering.course.title,
        "due_on": "2026-06-16",
        "due_time": "17:00",
        "days": 1,
    }


def test_the_planner_writes_the_assignment_reminder_once(alice, offering):
    _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    assert planner.plan(now=MONDAY).planned == 1
    assert planner.plan(now=MONDAY).planned == 0
    reminder = Message.objects.get(kind=reminders.ASSIGNMENT)
    assert (reminder.recipient, reminder.occasion) == (alice, "2026-06-16/1")


def test_a_graded_assignment_reminds_nobody_who_has_a_grade(alice, bob, offering, irene):
    assignment = _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    factories.GradeFactory(assignment=assignment, enrollment=alice.enrollments.get(), graded_by=irene)
    assert [item.recipient_id for item in _due(MONDAY, reminders.ASSIGNMENT)] == [bob.pk]


def test_withdrawn_and_graduated_students_are_not_reminded(alice, bob, offering):
    Enrollment.objects.filter(student=alice).update(withdrawn_on=offering.cohort.start_on + timedelta(days=3))
    Enrollment.objects.filter(student=bob).update(graduated_on=offering.cohort.start_on + timedelta(days=3))
    _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    assert _due(MONDAY, reminders.ASSIGNMENT) == []


def test_a_deactivated_student_is_not_reminded(alice, offering):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    assert _due(MONDAY, reminders.ASSIGNMENT) == []


def test_another_cohorts_students_are_not_reminded(alice, offering, other_cohort):
    classmate_elsewhere = factories.EnrollmentFactory(cohort=other_cohort).student
    _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    assert classmate_elsewhere.pk not in [item.recipient_id for item in _due(MONDAY, reminders.ASSIGNMENT)]


def test_an_assignment_due_in_three_days_is_not_reminded_yet(alice, offering):
    _assignment(offering, datetime(2026, 6, 18, 17, 0, tzinfo=CHICAGO))
    assert _due(MONDAY, reminders.ASSIGNMENT) == []
    assert len(_due(MONDAY + timedelta(days=2), reminders.ASSIGNMENT)) == 1


def test_the_due_date_is_the_programs_local_date_not_utcs(alice, offering):
    """20:00 in Chicago on the 16th is 01:00 UTC on the 17th: the reminder goes on the 15th."""
    _assignment(offering, datetime(2026, 6, 16, 20, 0, tzinfo=CHICAGO))
    [item] = _due(MONDAY, reminders.ASSIGNMENT)
    assert (item.occasion, item.due_at) == ("2026-06-16/1", _utc(2026, 6, 15, 14, 0))
    assert _due(TUESDAY, reminders.ASSIGNMENT) == []


def test_nine_oclock_is_the_programs_nine_oclock_on_the_other_side_of_the_world(alice, offering):
    Program.objects.filter(pk=offering.cohort.program_id).update(time_zone="Asia/Tokyo")
    _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=ZoneInfo("Asia/Tokyo")))
    now = _utc(2026, 6, 14, 22, 0)  # 7:00 on the 15th in Tokyo
    [item] = _due(now, reminders.ASSIGNMENT)
    assert item.due_at == _utc(2026, 6, 15, 0, 0)  # 9:00 JST


def test_nine_oclock_stays_nine_oclock_across_the_spring_change(alice, offering):
    """Daylight saving starts in Chicago on 8 March 2026: 9:00 that day is 14:00 UTC, the day before 15:00."""
    _assignment(offering, datetime(2026, 3, 9, 17, 0, tzinfo=CHICAGO))
    _assignment(offering, datetime(2026, 3, 8, 17, 0, tzinfo=CHICAGO))
    found = _due(_utc(2026, 3, 7, 12, 0), reminders.ASSIGNMENT) + _due(_utc(2026, 3, 8, 12, 0), reminders.ASSIGNMENT)
    assert {item.occasion: item.due_at for item in found} == {
        "2026-03-08/1": _utc(2026, 3, 7, 15, 0),  # 9:00 CST
        "2026-03-09/1": _utc(2026, 3, 8, 14, 0),  # 9:00 CDT
    }


def test_a_reminder_on_the_due_day_is_not_sent_once_the_work_is_due(alice, offering):
    program_id = offering.cohort.program_id
    ReminderTiming.objects.create(program_id=program_id, kind=reminders.ASSIGNMENT, offsets=[0], send_at=time(9, 0))
    _assignment(offering, datetime(2026, 6, 15, 8, 0, tzinfo=CHICAGO))  # before 9:00: too late to remind
    later = _assignment(offering, datetime(2026, 6, 15, 17, 0, tzinfo=CHICAGO))
    planner.plan(now=MONDAY)
    reminder = Message.objects.get(kind=reminders.ASSIGNMENT)
    assert (reminder.subject, reminder.occasion, reminder.context["days"]) == (
        f"assignment:{later.pk}",
        "2026-06-15/0",
        0,
    )


# --- instructor_digest ----------------------------------------------------------------------


@pytest.fixture
def skills(program):
    """Three psychomotor skills the program tracks, and two rows the digest leaves out."""
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save(update_fields=["framework"])
    area = factories.ContentAreaFactory(framework=framework)
    factories.CompetencyFactory(framework=framework, content_area=area, domain="C")  # cognitive: tested, not signed
    factories.CompetencyFactory(framework=framework, content_area=area, is_tracked=False)  # a heading
    return [factories.CompetencyFactory(framework=framework, content_area=area) for _ in range(3)]


def _digests(now: datetime = MONDAY) -> list[Due]:
    return _due(now, reminders.DIGEST)


def test_an_instructor_hears_on_monday_of_failed_and_unattempted_check_offs(alice, bob, irene, cohort, skills):
    first, second, _third = skills
    alices, bobs = alice.enrollments.get(), bob.enrollments.get()
    factories.check_off(alices, first, irene, passed=False)
    factories.check_off(alices, second, irene)
    factories.check_off(bobs, first, irene, passed=False, performed_at=MONDAY - timedelta(days=9))
    factories.check_off(bobs, first, irene, performed_at=MONDAY - timedelta(days=8))  # passed since
    [digest] = _digests()
    assert digest.recipient_id == irene.pk
    assert (digest.subject, digest.occasion) == (f"program:{cohort.program_id}", "2026-W25")
    assert digest.due_at == _utc(2026, 6, 15, 14, 0)  # 9:00 CDT
    assert digest.url == reverse("curriculum:competency-grid", args=[cohort.pk])
    # 2 students x 3 skills = 6; attempted: alice 1 and 2, bob 1; passed: alice 2, bob 1.
    assert digest.context == {
        "week_on": "2026-06-15",
        "cohorts": cohort.name,
        "students": 2,
        "pending": 1,
        "not_attempted": 3,
    }


def test_no_digest_on_tuesday(alice, irene, skills):
    assert len(_digests()) == 1
    assert _digests(TUESDAY) == []


def test_the_digest_waits_for_nine_on_monday_in_the_programs_zone(alice, irene, skills):
    assert _digests(_utc(2026, 6, 15, 3, 0)) == []  # Sunday 22:00 in Chicago: 9:00 Monday is past the horizon
    assert len(_digests(_utc(2026, 6, 15, 8, 0))) == 1  # 3:00 on Monday: 9:00 is within six hours


def test_a_program_in_tokyo_sends_its_digest_on_its_own_monday(alice, irene, program, skills):
    program.time_zone = "Asia/Tokyo"
    program.save(update_fields=["time_zone"])
    [digest] = _digests(_utc(2026, 6, 14, 20, 0))  # Sunday in UTC, Monday 5:00 in Tokyo
    assert (digest.due_at, digest.occasion) == (_utc(2026, 6, 15, 0, 0), "2026-W25")


def test_no_digest_when_every_student_passed_every_skill(alice, irene, skills):
    for skill in skills:
        factories.check_off(alice.enrollments.get(), skill, irene)
    assert _digests() == []


def test_only_signed_unrevoked_attempts_count(alice, irene, dana, skills):
    first, second, third = skills
    enrollment = alice.enrollments.get()
    factories.check_off(enrollment, first, irene, passed=False, signed=False)  # a draft: nothing yet
    revoked = factories.check_off(enrollment, second, irene)
    revoke_signature(signature=revoked.signature, revoked_by=dana, reason="Signed for the wrong student.")
    factories.check_off(enrollment, third, irene)
    [digest] = _digests()
    assert (digest.context["pending"], digest.context["not_attempted"]) == (0, 2)


def test_a_failed_attempt_after_a_pass_leaves_the_skill_achieved(alice, irene, skills):
    enrollment = alice.enrollments.get()
    for skill in skills:
        factories.check_off(enrollment, skill, irene, performed_at=MONDAY - timedelta(days=9))
    factories.check_off(enrollment, skills[0], irene, passed=False, performed_at=MONDAY - timedelta(days=8))
    assert _digests() == []


def test_withdrawn_students_are_left_out_of_the_digest(alice, bob, irene, skills):
    Enrollment.objects.filter(student=bob).update(withdrawn_on=bob.enrollments.get().admitted_on)
    [digest] = _digests()
    assert (digest.context["students"], digest.context["not_attempted"]) == (1, 3)


def test_an_instructor_with_no_current_students_gets_no_digest(alice, irene, ivan, skills):
    assert [digest.recipient_id for digest in _digests()] == [irene.pk]


def test_a_program_without_a_framework_sends_no_digest(alice, irene):
    assert _digests() == []


def test_a_turned_off_digest_is_not_sent(alice, irene, program, skills):
    ReminderTiming.objects.create(program_id=program.pk, kind=reminders.DIGEST, offsets=[0], enabled=False)
    assert planner.plan(now=MONDAY).planned == 0


def test_a_program_may_send_the_digest_on_another_weekday(alice, irene, program, skills):
    ReminderTiming.objects.create(program_id=program.pk, kind=reminders.DIGEST, offsets=[4], send_at=time(15, 0))
    assert planner.plan(now=MONDAY).planned == 0
    friday = _utc(2026, 6, 19, 16, 0)  # 11:00 in Chicago
    assert planner.plan(now=friday).planned == 1
    reminder = Message.objects.get(kind=reminders.DIGEST)
    assert (reminder.occasion, reminder.due_at, reminder.context["week_on"]) == (
        "2026-W25",
        _utc(2026, 6, 19, 20, 0),
        "2026-06-15",
    )


def test_an_offerings_instructor_gets_the_digest_too(alice, cohort, program, skills):
    teacher = factories.StaffFactory(program=program, first_name="Oscar").user
    factories.OfferingFactory(cohort=cohort, instructor=teacher)
    assert [digest.recipient_id for digest in _digests()] == [teacher.pk]


def test_an_instructor_of_two_cohorts_gets_one_digest_for_both(alice, irene, other_cohort, skills):
    factories.EnrollmentFactory(cohort=other_cohort)
    other_cohort.instructors.add(irene)
    factories.OfferingFactory(cohort=other_cohort, instructor=irene)  # her twice over: counted once
    [digest] = _digests()
    assert digest.url == reverse("home")
    assert digest.context["cohorts"] == ", ".join(sorted([alice.enrollments.get().cohort.name, other_cohort.name]))
    assert (digest.context["students"], digest.context["not_attempted"]) == (2, 6)


def test_the_program_s_own_competencies_count_and_another_program_s_do_not(alice, irene, program, skills):
    framework, area = skills[0].framework, skills[0].content_area
    factories.CompetencyFactory(framework=framework, content_area=area, program=program)
    factories.CompetencyFactory(framework=framework, content_area=area, program=factories.ProgramFactory())
    [digest] = _digests()
    assert digest.context["not_attempted"] == 4


def test_the_digest_is_planned_once_a_week(alice, irene, skills):
    assert planner.plan(now=MONDAY).planned == 1
    assert planner.plan(now=MONDAY + timedelta(hours=1)).planned == 0
    assert Message.objects.get(kind=reminders.DIGEST).occasion == "2026-W25"


def _class_of(cohort, size: int, skills: list[Competency], instructor) -> None:
    for _ in range(size):
        enrollment = factories.EnrollmentFactory(cohort=cohort)
        factories.check_off(enrollment, skills[0], instructor, passed=False)
        factories.check_off(enrollment, skills[1], instructor)


def _queries_to_plan() -> int:
    with CaptureQueriesContext(connection) as captured:
        list(reminders.due(_window(MONDAY)))
    return len(captured.captured_queries)


def test_planning_the_digest_costs_the_same_queries_for_five_times_the_students(irene, cohort, skills):
    _class_of(cohort, 2, skills, irene)
    once = _queries_to_plan()
    [digest] = _digests()
    assert digest.context["students"] == 2
    _class_of(cohort, 8, skills, irene)
    assert _queries_to_plan() == once
    [digest] = _digests()
    assert (digest.context["students"], digest.context["pending"], digest.context["not_attempted"]) == (10, 10, 10)


def test_each_kind_reads_whole_with_the_context_it_is_given(alice, irene, offering, skills):
    _assignment(offering, datetime(2026, 6, 16, 17, 0, tzinfo=CHICAGO))
    found = {item.kind: item for item in reminders.due(_window(MONDAY))}
    assignment = kind_of(reminders.ASSIGNMENT).words(found[reminders.ASSIGNMENT].context)
    assert assignment["title"] == "“Vital signs quiz” is due tomorrow"
    assert "is due on Jun 16, 2026 at 17:00" in assignment["body"]
    digest = kind_of(reminders.DIGEST).words(found[reminders.DIGEST].context)
    assert digest["title"] == "Your students' check-offs, week of Jun 15, 2026"
    assert digest["body"].startswith("Your 1 current student in Cohort")
    assert "not attempted yet: 3." in digest["body"]
    assert "%(" not in assignment["body"] + digest["body"]
