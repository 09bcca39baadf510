"""Externships' reminders: each rule's due and not-due cases, planned at the program's local hour.

The program is in Chicago (the factory's zone): in June, 9:00 there is 14:00 UTC. Planning at 12:00
UTC (7:00 local) looks six hours ahead, to 18:00 UTC, and so plans the day's 9:00 reminders.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import chains
from accounts.models import User
from curriculum.models import Cohort, Program
from externships import reminders
from externships.models import ComplianceRecord, ComplianceRequirement, Evaluation, HoursEntry, Kind, Placement, Site
from notifications import planner
from notifications.kinds import kind_of
from notifications.models import Message, ReminderTiming
from tests import factories
from tests.externship_factories import (
    ComplianceRecordFactory,
    PlacementFactory,
    RequirementFactory,
    shift,
)

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 6, 13, 12, 0, tzinfo=UTC)  # 7:00 in Chicago
NINE = datetime(2026, 6, 13, 14, 0, tzinfo=UTC)  # 9:00 in Chicago, when the day's reminders go
LONG_AGO = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _plan(now: datetime, kind: str) -> list[Message]:
    planner.plan(now=now)
    return list(Message.objects.filter(kind=kind).order_by("recipient__first_name", "occasion"))


def _keys(rows: list[Message]) -> list[tuple[User, str, str, datetime]]:
    return [(row.recipient, row.subject, row.occasion, row.due_at) for row in rows]


def _set(placement: Placement, **fields: object) -> Placement:
    """Dates and state written straight to the row (the services' rules are tested elsewhere)."""
    fields.setdefault("created_at", LONG_AGO)
    Placement.objects.filter(pk=placement.pk).update(**fields)
    placement.refresh_from_db()
    return placement


def _requirement(program: Program, **fields: object):  # -> ComplianceRequirement (factory_boy's typing)
    """The program's reference requirements replaced by one, to keep the scene small."""
    ComplianceRequirement.objects.filter(program=program).delete()
    return RequirementFactory(program=program, name="BLS/CPR", **fields)


def _record(student: User, requirement: ComplianceRequirement, **fields: object):  # -> ComplianceRecord
    fields.setdefault("completed_on", date(2025, 7, 1))
    record = ComplianceRecordFactory(student=student, requirement=requirement, **fields)
    if record.state != ComplianceRecord.State.PENDING:
        ComplianceRecord.objects.filter(pk=record.pk).update(reviewed_at=LONG_AGO)
        record.refresh_from_db()
    return record


# --- A placement about to start ---------------------------------------------------------------


class TestPlacementStarting:
    def test_a_planned_placement_is_reminded_of_seven_days_before_it_starts(self, alice, placement):
        _set(placement, start_on=date(2026, 6, 20), end_on=date(2026, 8, 14))
        [reminder] = _plan(MORNING, "placement_starting")
        assert _keys([reminder]) == [(alice, f"placement:{placement.pk}", "2026-06-20/7", NINE)]
        assert reminder.url == reverse("externships:placement-detail", args=[placement.pk])
        assert reminder.context == {
            "site": "Lakeside Family Clinic",
            "start_on": "2026-06-20",
            "end_on": "2026-08-14",
            "days": 7,
        }
        words = kind_of("placement_starting").words(reminder.context)
        assert words["title"] == "Your placement at Lakeside Family Clinic starts in 7 days"

    def test_a_withdrawn_placement_is_not(self, placement):
        _set(placement, start_on=date(2026, 6, 20), end_on=date(2026, 8, 14), state=Placement.State.WITHDRAWN)
        assert _plan(MORNING, "placement_starting") == []

    def test_nor_one_starting_on_another_day(self, placement):
        _set(placement, start_on=date(2026, 6, 21), end_on=date(2026, 8, 14))
        assert _plan(MORNING, "placement_starting") == []


# --- Hours not logged -------------------------------------------------------------------------


class TestHoursNotLogged:
    def test_seven_days_after_the_last_shift_the_student_is_reminded(self, alice, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        shift(active, date(2026, 6, 5))
        shift(active, date(2026, 6, 6))
        [reminder] = _plan(MORNING, "hours_not_logged")
        assert _keys([reminder]) == [(alice, f"placement:{active.pk}", "2026-06-06/7", NINE)]
        assert reminder.url == reverse("externships:shift-log", args=[active.pk])
        assert reminder.context == {"site": "Lakeside Family Clinic", "since_on": "2026-06-06", "days": 7}

    def test_with_no_shift_yet_the_gap_runs_from_the_start(self, alice, active):
        _set(active, start_on=date(2026, 6, 6), end_on=date(2026, 7, 31))
        [reminder] = _plan(MORNING, "hours_not_logged")
        assert reminder.occasion == "2026-06-06/7"

    def test_a_shift_yesterday_means_no_reminder(self, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        shift(active, date(2026, 6, 12))
        assert _plan(MORNING, "hours_not_logged") == []

    def test_a_gap_is_reminded_of_once_not_daily(self, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        shift(active, date(2026, 6, 6))
        for day in (13, 14, 15, 16, 20):
            planner.plan(now=_utc(2026, 6, day, 12, 0))
        assert Message.objects.filter(kind="hours_not_logged").count() == 1

    def test_a_shift_logged_before_the_reminder_leaves_cancels_it(self, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        shift(active, date(2026, 6, 6))
        planner.plan(now=MORNING)
        shift(active, date(2026, 6, 12))
        planner.plan(now=MORNING + timedelta(minutes=30))
        assert Message.objects.get(kind="hours_not_logged").state == Message.State.CANCELLED

    def test_not_after_the_placement_ends_nor_for_a_planned_one(self, placement):
        _set(placement, start_on=date(2026, 6, 6), end_on=date(2026, 7, 31))
        assert _plan(MORNING, "hours_not_logged") == []  # planned: no hours can be logged yet
        _set(placement, start_on=date(2026, 6, 1), end_on=date(2026, 6, 12), state=Placement.State.ACTIVE)
        shift(placement, date(2026, 6, 6))
        assert _plan(MORNING, "hours_not_logged") == []  # the 13th is after the end date


# --- Hours behind pace --------------------------------------------------------------------------


class TestHoursBehindPace:
    """40 days for 160 hours: a steady pace is 4 hours a day, 28 by the morning of the 7th day."""

    @pytest.fixture
    def running(self, active):
        return _set(active, start_on=date(2026, 6, 6), end_on=date(2026, 7, 15), required_hours=160)

    def test_fewer_hours_than_the_pace_are_reminded_of_on_the_weekly_check_day(self, alice, running):
        for day in (6, 8, 10):
            shift(running, date(2026, 6, day), state=HoursEntry.State.APPROVED)  # 24 hours
        [reminder] = _plan(MORNING, "hours_behind_pace")
        assert _keys([reminder]) == [(alice, f"placement:{running.pk}", "2026-W24", NINE)]
        assert reminder.context == {
            "site": "Lakeside Family Clinic",
            "logged": "24",
            "required": 160,
            "expected": "28",
            "weekly": "28.8",  # 136 hours still to approve in the 33 days left, the 13th included
            "end_on": "2026-07-15",
        }

    def test_hours_waiting_for_approval_count_and_the_pace_itself_is_not_behind(self, running):
        for day in (6, 8, 10):
            shift(running, date(2026, 6, day))  # submitted, waiting: 24 hours
        shift(running, date(2026, 6, 11), time(8), time(12))  # 28: exactly the pace
        assert _plan(MORNING, "hours_behind_pace") == []

    def test_only_on_check_days(self, running):
        assert _plan(_utc(2026, 6, 11, 12, 0), "hours_behind_pace") == []  # 5 days in, nothing logged
        assert len(_plan(_utc(2026, 6, 20, 12, 0), "hours_behind_pace")) == 1  # the second check
        assert Message.objects.get(kind="hours_behind_pace").occasion == "2026-W25"

    def test_a_program_may_check_more_often(self, program, running):
        ReminderTiming.objects.create(program_id=program.pk, kind="hours_behind_pace", offsets=[5])
        assert len(_plan(_utc(2026, 6, 11, 12, 0), "hours_behind_pace")) == 1

    def test_a_completed_placement_is_not(self, running):
        _set(running, state=Placement.State.COMPLETED)
        assert _plan(MORNING, "hours_behind_pace") == []


# --- Compliance documents expiring ----------------------------------------------------------------


class TestComplianceExpiring:
    def test_a_document_is_reminded_of_thirty_days_before_it_expires(self, alice, program):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 7, 13))
        [reminder] = _plan(MORNING, "compliance_expiring")
        assert _keys([reminder]) == [(alice, f"requirement:{requirement.pk}", "2026-07-13/30", NINE)]
        assert reminder.url == reverse("externships:my-compliance") + f"?requirement={requirement.pk}"
        assert reminder.context == {"requirement": "BLS/CPR", "expires_on": "2026-07-13", "days": 30}
        assert kind_of("compliance_expiring").critical

    def test_sixty_and_seven_days_before_too(self, program, alice):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 8, 12))
        _record(alice, _other_requirement(program), expires_on=date(2026, 6, 20))
        assert sorted(reminder.occasion for reminder in _plan(MORNING, "compliance_expiring")) == [
            "2026-06-20/7",
            "2026-08-12/60",
        ]

    def test_a_renewed_document_is_not(self, alice, program):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 7, 13))
        _record(alice, requirement, completed_on=date(2026, 6, 1), expires_on=date(2028, 6, 1))
        assert _plan(MORNING, "compliance_expiring") == []

    def test_a_renewal_still_waiting_for_review_does_not_count_yet(self, alice, program):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 7, 13))
        _record(alice, requirement, expires_on=date(2028, 6, 1), state=ComplianceRecord.State.PENDING)
        assert len(_plan(MORNING, "compliance_expiring")) == 1

    def test_nor_a_withdrawn_students_nor_an_optional_document(self, alice, bob, program):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 7, 13))
        alice.enrollments.update(admitted_on=date(2026, 1, 5), withdrawn_on=date(2026, 5, 1))
        optional = _other_requirement(program, is_required=False)
        _record(bob, optional, expires_on=date(2026, 7, 13))
        assert _plan(MORNING, "compliance_expiring") == []

    def test_a_sites_own_requirement_only_while_placed_there(self, alice, program, site, placement):
        requirement = RequirementFactory(program=program, site=site, name="Site orientation")
        _record(alice, requirement, expires_on=date(2026, 7, 13))
        _set(placement, start_on=date(2026, 6, 1), end_on=date(2026, 7, 10))
        assert [reminder.subject for reminder in _plan(MORNING, "compliance_expiring")] == [
            f"requirement:{requirement.pk}"
        ]
        Message.objects.all().delete()
        _set(placement, state=Placement.State.WITHDRAWN)
        assert _plan(MORNING, "compliance_expiring") == []

    def test_a_document_expiring_before_the_placement_ends_is_reminded_of_once(self, alice, program, placement):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 9, 1))  # no 60/30/7-day reminder on the 13th
        _set(placement, start_on=date(2026, 7, 1), end_on=date(2026, 9, 30))
        [reminder] = _plan(MORNING, "compliance_expiring")
        assert _keys([reminder]) == [(alice, f"requirement:{requirement.pk}", f"before-placement:{placement.pk}", NINE)]
        assert reminder.context == {"requirement": "BLS/CPR", "expires_on": "2026-09-01", "days": 80}
        for day in (14, 15, 20):
            planner.plan(now=_utc(2026, 6, day, 12, 0))
        assert Message.objects.filter(kind="compliance_expiring").count() == 1

    def test_a_placement_planned_after_the_hour_is_reminded_of_the_next_day(self, alice, program, placement):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 9, 1))
        _set(placement, start_on=date(2026, 7, 1), end_on=date(2026, 9, 30), created_at=_utc(2026, 6, 13, 14, 30))
        assert _plan(_utc(2026, 6, 13, 15, 0), "compliance_expiring") == []
        [reminder] = _plan(_utc(2026, 6, 14, 12, 0), "compliance_expiring")
        assert reminder.due_at == _utc(2026, 6, 14, 14, 0)

    def test_not_when_the_document_outlasts_the_placement(self, alice, program, placement):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 10, 1))
        _set(placement, start_on=date(2026, 7, 1), end_on=date(2026, 9, 30))
        assert _plan(MORNING, "compliance_expiring") == []

    def test_nor_for_a_withdrawn_placement(self, alice, program, placement):
        requirement = _requirement(program)
        _record(alice, requirement, expires_on=date(2026, 9, 1))
        _set(placement, start_on=date(2026, 7, 1), end_on=date(2026, 9, 30), state=Placement.State.WITHDRAWN)
        assert _plan(MORNING, "compliance_expiring") == []


def _other_requirement(program: Program, **fields: object):  # -> ComplianceRequirement
    return RequirementFactory(program=program, name="Hepatitis B", **fields)


# --- The student's evaluation of the site --------------------------------------------------------


def _evaluate(placement: Placement, kind: str, evaluator: User) -> Evaluation:
    evaluation = Evaluation(
        placement=placement,
        student_id=placement.enrollment.student_id,
        kind=kind,
        evaluator=evaluator,
        submitted_at=LONG_AGO,
        answer_count=0,
        digest="-",
    )
    with transaction.atomic():
        chains.link([evaluation])
        evaluation.save()
    return evaluation


class TestSiteEvaluationDue:
    def test_due_on_the_end_date_and_again_three_days_later(self, alice, active):
        _set(active, start_on=date(2026, 5, 1), end_on=date(2026, 6, 13))
        [first] = _plan(MORNING, "site_evaluation_due")
        assert _keys([first]) == [(alice, f"placement:{active.pk}", "2026-06-13/0", NINE)]
        assert first.url == reverse("externships:evaluation-new", args=[active.pk, "site"])
        assert first.context == {"site": "Lakeside Family Clinic", "due_on": "2026-06-13", "days": 0}
        planner.plan(now=_utc(2026, 6, 16, 12, 0))
        assert [row.occasion for row in Message.objects.filter(kind="site_evaluation_due").order_by("due_at")] == [
            "2026-06-13/0",
            "2026-06-13/3",
        ]

    def test_a_placement_completed_early_is_due_the_day_it_completed(self, active):
        _set(
            active,
            start_on=date(2026, 5, 1),
            end_on=date(2026, 6, 30),
            state=Placement.State.COMPLETED,
            completed_at=_utc(2026, 6, 11, 3, 0),  # 22:00 on the 10th in Chicago
        )
        [reminder] = _plan(MORNING, "site_evaluation_due")
        assert reminder.occasion == "2026-06-10/3"

    def test_not_once_submitted(self, alice, active):
        _set(active, start_on=date(2026, 5, 1), end_on=date(2026, 6, 13))
        _evaluate(active, Kind.SITE, alice)
        assert _plan(MORNING, "site_evaluation_due") == []

    def test_nor_for_a_withdrawn_or_planned_placement(self, placement):
        _set(placement, start_on=date(2026, 5, 1), end_on=date(2026, 6, 13))
        assert _plan(MORNING, "site_evaluation_due") == []
        _set(placement, state=Placement.State.WITHDRAWN)
        assert _plan(MORNING, "site_evaluation_due") == []


# --- Preceptors ----------------------------------------------------------------------------------


def _logged(entry: HoursEntry, at: datetime) -> HoursEntry:
    HoursEntry.objects.filter(pk=entry.pk).update(created_at=at)
    return entry


class TestHoursAwaitingApproval:
    def test_shifts_waiting_more_than_three_days_are_counted_once_a_day(self, paula, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        _logged(shift(active, date(2026, 6, 8)), _utc(2026, 6, 9, 0, 0))
        _logged(shift(active, date(2026, 6, 9)), _utc(2026, 6, 10, 13, 0))  # 3 days and an hour before 9:00
        _logged(shift(active, date(2026, 6, 10)), _utc(2026, 6, 10, 15, 0))  # not 3 days yet
        [reminder] = _plan(MORNING, "hours_awaiting_approval")
        program_id = active.enrollment.cohort.program_id
        assert _keys([reminder]) == [(paula, f"program:{program_id}", "2026-06-13", NINE)]
        assert reminder.context == {"count": 2}
        assert reminder.url == reverse("externships:placement-detail", args=[active.pk])
        assert kind_of("hours_awaiting_approval").words(reminder.context)["title"] == "2 shifts wait for your approval"
        planner.plan(now=_utc(2026, 6, 14, 12, 0))
        counts = Message.objects.filter(kind="hours_awaiting_approval").order_by("due_at").values_list("context__count")
        assert [count for (count,) in counts] == [2, 3]

    def test_shifts_of_several_students_link_to_the_home_page(self, paula, active, bob, site, carlos):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        other = _set(
            PlacementFactory(
                enrollment=bob.enrollments.get(),
                site=site,
                preceptor=paula.preceptorships.get(),
                created_by=carlos,
                state=Placement.State.ACTIVE,
            ),
            start_on=date(2026, 6, 1),
            end_on=date(2026, 7, 31),
        )
        _logged(shift(active, date(2026, 6, 8)), _utc(2026, 6, 9, 0, 0))
        _logged(shift(other, date(2026, 6, 8)), _utc(2026, 6, 9, 0, 0))
        [reminder] = _plan(MORNING, "hours_awaiting_approval")
        assert (reminder.context, reminder.url) == ({"count": 2}, reverse("home"))

    def test_approved_or_returned_shifts_are_not(self, paula, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        for day, state in ((8, HoursEntry.State.APPROVED), (9, HoursEntry.State.RETURNED)):
            entry = _logged(shift(active, date(2026, 6, day)), _utc(2026, 6, 9, 0, 0))
            entry.state, entry.reviewed_by, entry.reviewed_at = state, paula, _utc(2026, 6, 10)
            entry.return_reason = "Fix the times" if state == HoursEntry.State.RETURNED else ""
            with transaction.atomic():
                if state == HoursEntry.State.APPROVED:
                    chains.link([entry])  # an approval is a link of the student's chain
                entry.save()
        assert _plan(MORNING, "hours_awaiting_approval") == []

    def test_nor_for_a_preceptor_no_longer_active(self, paula, active):
        _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 31))
        _logged(shift(active, date(2026, 6, 8)), _utc(2026, 6, 9, 0, 0))
        paula.preceptorships.update(is_active=False)
        assert _plan(MORNING, "hours_awaiting_approval") == []


class TestPreceptorEvaluationDue:
    """From 1 June to 1 July: the midpoint is due on 16 June, the final on 1 July."""

    @pytest.fixture
    def running(self, active):
        return _set(active, start_on=date(2026, 6, 1), end_on=date(2026, 7, 1))

    def test_the_midpoint_is_due_halfway(self, paula, running):
        [reminder] = _plan(_utc(2026, 6, 16, 12, 0), "preceptor_evaluation_due")
        assert _keys([reminder]) == [
            (paula, f"placement:{running.pk}", "midpoint/2026-06-16/0", _utc(2026, 6, 16, 14, 0))
        ]
        assert reminder.url == reverse("externships:evaluation-new", args=[running.pk, "midpoint"])
        assert reminder.context["student"] == running.enrollment.student.full_name

    def test_the_final_on_the_end_date(self, paula, alice, running):
        _evaluate(running, Kind.MIDPOINT, paula)
        [reminder] = _plan(_utc(2026, 7, 1, 12, 0), "preceptor_evaluation_due")
        assert (reminder.occasion, reminder.url) == (
            "final/2026-07-01/0",
            reverse("externships:evaluation-new", args=[running.pk, "final"]),
        )

    def test_not_once_submitted(self, paula, running):
        _evaluate(running, Kind.MIDPOINT, paula)
        assert _plan(_utc(2026, 6, 16, 12, 0), "preceptor_evaluation_due") == []

    def test_nor_on_another_day_nor_for_a_placement_not_active(self, running):
        assert _plan(_utc(2026, 6, 15, 12, 0), "preceptor_evaluation_due") == []
        _set(running, state=Placement.State.WITHDRAWN)
        assert _plan(_utc(2026, 6, 16, 12, 0), "preceptor_evaluation_due") == []


# --- Directors and coordinators -------------------------------------------------------------------


class TestComplianceReviewWaiting:
    def test_every_director_and_coordinator_hears_of_the_queue_once_a_day(self, alice, bob, dana, carlos, program):
        requirement = _requirement(program)
        for student in (alice, bob):
            _record(student, requirement, state=ComplianceRecord.State.PENDING, uploaded_at=_utc(2026, 6, 12, 20))
        reminders_ = _plan(MORNING, "compliance_review_waiting")
        assert _keys(reminders_) == [
            (carlos, f"program:{program.pk}", "2026-06-13", NINE),
            (dana, f"program:{program.pk}", "2026-06-13", NINE),
        ]
        assert reminders_[0].context == {"count": 2, "program": program.name}
        assert reminders_[0].url == reverse("externships:compliance-review", args=[program.code])

    def test_not_when_the_queue_is_empty(self, alice, dana, carlos, program):
        _record(alice, _requirement(program))  # approved
        assert _plan(MORNING, "compliance_review_waiting") == []

    def test_a_document_sent_after_the_hour_waits_for_the_next_days_reminder(self, alice, dana, program):
        _record(
            alice, _requirement(program), state=ComplianceRecord.State.PENDING, uploaded_at=_utc(2026, 6, 13, 14, 30)
        )
        assert _plan(_utc(2026, 6, 13, 15, 0), "compliance_review_waiting") == []
        [reminder] = _plan(_utc(2026, 6, 14, 12, 0), "compliance_review_waiting")
        assert (reminder.recipient, reminder.occasion) == (dana, "2026-06-14")

    def test_a_program_may_turn_it_off(self, alice, dana, program):
        _record(alice, _requirement(program), state=ComplianceRecord.State.PENDING, uploaded_at=LONG_AGO)
        ReminderTiming.objects.create(
            program_id=program.pk, kind="compliance_review_waiting", offsets=[0], enabled=False
        )
        assert _plan(MORNING, "compliance_review_waiting") == []

    def test_it_goes_at_the_programs_own_hour_in_its_own_zone(self, alice, dana, program):
        program.time_zone = "America/New_York"
        program.save(update_fields=["time_zone"])
        ReminderTiming.objects.create(
            program_id=program.pk, kind="compliance_review_waiting", offsets=[0], send_at=time(7, 30)
        )
        _record(alice, _requirement(program), state=ComplianceRecord.State.PENDING, uploaded_at=LONG_AGO)
        [reminder] = _plan(_utc(2026, 6, 13, 10, 0), "compliance_review_waiting")
        assert (reminder.occasion, reminder.due_at) == ("2026-06-13", _utc(2026, 6, 13, 11, 30))  # 7:30 EDT

    def test_instructors_are_not_told(self, alice, irene, program):
        _record(alice, _requirement(program), state=ComplianceRecord.State.PENDING, uploaded_at=LONG_AGO)
        assert _plan(MORNING, "compliance_review_waiting") == []


class TestAgreementExpiring:
    def test_ninety_days_before_the_agreement_expires(self, site, dana, carlos):
        Site.objects.filter(pk=site.pk).update(agreement_expires_on=date(2026, 9, 11))
        rows = _plan(MORNING, "agreement_expiring")
        assert _keys(rows) == [
            (carlos, f"site:{site.pk}", "2026-09-11/90", NINE),
            (dana, f"site:{site.pk}", "2026-09-11/90", NINE),
        ]
        assert rows[0].url == reverse("externships:site-edit", args=[site.pk])
        assert rows[0].context == {"site": "Lakeside Family Clinic", "expires_on": "2026-09-11", "days": 90}

    def test_and_thirty(self, site, dana):
        Site.objects.filter(pk=site.pk).update(agreement_expires_on=date(2026, 7, 13))
        assert [row.occasion for row in _plan(MORNING, "agreement_expiring")] == ["2026-07-13/30"]

    def test_not_once_renewed_nor_for_a_site_no_longer_taking_students(self, site, dana):
        Site.objects.filter(pk=site.pk).update(agreement_expires_on=date(2027, 9, 11))
        assert _plan(MORNING, "agreement_expiring") == []
        Site.objects.filter(pk=site.pk).update(agreement_expires_on=date(2026, 9, 11), is_active=False)
        assert _plan(MORNING, "agreement_expiring") == []


class TestStudentsNotReady:
    def test_students_starting_within_two_weeks_and_not_ready_are_counted(self, alice, dana, carlos, placement):
        _set(placement, start_on=date(2026, 6, 27), end_on=date(2026, 8, 14))
        rows = _plan(MORNING, "students_not_ready")
        program = placement.enrollment.cohort.program
        assert _keys(rows) == [
            (carlos, f"program:{program.pk}", "2026-06-13", NINE),
            (dana, f"program:{program.pk}", "2026-06-13", NINE),
        ]
        assert rows[0].context == {"count": 1, "program": program.name, "until_on": "2026-06-27"}
        assert rows[0].url == reverse("externships:cohort-readiness", args=[placement.enrollment.cohort_id])

    def test_a_ready_student_is_not(self, alice, irene, dana, program, placement):
        _ready(alice, irene, program)
        _set(placement, start_on=date(2026, 6, 20), end_on=date(2026, 8, 14))
        assert _plan(MORNING, "students_not_ready") == []

    def test_nor_a_placement_starting_later_or_withdrawn(self, dana, placement):
        _set(placement, start_on=date(2026, 6, 28), end_on=date(2026, 8, 14))
        assert _plan(MORNING, "students_not_ready") == []
        _set(placement, start_on=date(2026, 6, 20), state=Placement.State.WITHDRAWN)
        assert _plan(MORNING, "students_not_ready") == []


def _ready(student: User, instructor: User, program: Program) -> None:
    """Every competency of the framework achieved, the one required document approved for good."""
    framework = factories.FrameworkFactory()
    program.framework_id = framework.pk
    program.save(update_fields=["framework"])
    enrollment = student.enrollments.get()
    for code, domain in (("I.P.1", "P"), ("V.A.1", "A")):
        factories.check_off(
            enrollment, factories.CompetencyFactory(framework=framework, code=code, domain=domain), instructor
        )
    _record(student, _requirement(program), expires_on=None)


# --- All of them: the words, and the cost --------------------------------------------------------


def _scene(cohort: Cohort, students: int, site: Site, preceptor_user: User, coordinator: User) -> None:
    """Per student, every kind due on 13 June: an active placement ending that day (evaluations due),
    behind pace, with a shift waiting for approval and none for a week; a planned placement starting in
    7 days, for which the student is not ready; a document expiring in 30 days, and its renewal waiting
    for review."""
    requirement = ComplianceRequirement.objects.get(program=cohort.program, name="BLS/CPR")
    preceptor = preceptor_user.preceptorships.get()
    for _number in range(students):
        enrollment = factories.EnrollmentFactory(cohort=cohort)
        running = PlacementFactory(
            enrollment=enrollment,
            site=site,
            preceptor=preceptor,
            created_by=coordinator,
            state=Placement.State.ACTIVE,
            start_on=date(2026, 5, 30),
            end_on=date(2026, 6, 13),
            created_at=LONG_AGO,
        )
        _logged(shift(running, date(2026, 6, 6)), _utc(2026, 6, 7, 12, 0))
        PlacementFactory(
            enrollment=enrollment,
            site=site,
            preceptor=preceptor,
            created_by=coordinator,
            start_on=date(2026, 6, 20),
            end_on=date(2026, 8, 14),
            created_at=LONG_AGO,
        )
        _record(enrollment.student, requirement, expires_on=date(2026, 7, 13))
        _record(enrollment.student, requirement, state=ComplianceRecord.State.PENDING, uploaded_at=LONG_AGO)


def test_every_reminder_reads_whole(program, cohort, site, paula, dana, carlos):
    """Each kind's words filled from its context: no placeholder left, none missing."""
    _requirement(program)
    _scene(cohort, 2, site, paula, carlos)
    Site.objects.filter(pk=site.pk).update(agreement_expires_on=date(2026, 9, 11))
    planner.plan(now=MORNING)
    planned = {kind.key for kind in reminders.KINDS if not kind.event}  # events are sent as they happen
    assert planned <= set(Message.objects.values_list("kind", flat=True))
    for reminder in Message.objects.filter(kind__in=planned):
        words = kind_of(reminder.kind).words(reminder.context)
        assert "%(" not in words["title"] + words["body"], reminder.kind
        assert reminder.url.startswith("/")


def test_planning_costs_the_same_queries_for_five_times_the_students(program, cohort, site, paula, dana, carlos):
    _requirement(program)
    _scene(cohort, 2, site, paula, carlos)
    window = planner.window(MORNING)
    with CaptureQueriesContext(connection) as few:
        found_few = list(reminders.due(window))
    _scene(cohort, 8, site, paula, carlos)  # 10 students in all
    with CaptureQueriesContext(connection) as many:
        found_many = list(reminders.due(window))
    assert len(few.captured_queries) == len(many.captured_queries)
    digests = 5  # one to paula of the hours waiting; two each to dana and carlos (documents, readiness)
    assert len(found_many) - digests == 5 * (len(found_few) - digests)


def test_a_kind_turned_off_plans_nothing(program, alice, placement):
    ReminderTiming.objects.create(program_id=program.pk, kind="placement_starting", offsets=[7], enabled=False)
    _set(placement, start_on=date(2026, 6, 20), end_on=date(2026, 8, 14))
    assert _plan(MORNING, "placement_starting") == []
