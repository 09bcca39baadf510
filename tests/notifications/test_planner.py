"""Planning: what the domain apps say is due goes into the outbox once, at the program's local hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from certifications.models import ExamAttempt
from notifications import planner
from notifications.kinds import Window
from notifications.models import Message, ReminderTiming
from tests.certification_factories import ExamAttemptFactory, track

pytestmark = pytest.mark.django_db


def _book(alice, on: date) -> ExamAttempt:
    enrollment = alice.enrollments.get()
    return ExamAttemptFactory.create(
        enrollment=enrollment, track=track(enrollment.cohort.program), result="", taken_on=None, scheduled_on=on
    )


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_exam_in_seven_days_is_planned_for_nine_in_the_morning_local_time(alice, program):
    program.time_zone = "America/Chicago"
    program.save()
    _book(alice, date(2026, 6, 20))
    result = planner.plan(now=_utc(2026, 6, 13, 12, 0))  # 7:00 in Chicago, the day of the 7-day reminder
    assert result.planned == 1
    reminder = Message.objects.get()
    assert (reminder.kind, reminder.occasion, reminder.recipient) == ("exam_upcoming", "2026-06-20/7", alice)
    assert reminder.due_at == _utc(2026, 6, 13, 14, 0)  # 9:00 CDT
    assert reminder.context["days"] == 7


def test_planning_twice_plans_nothing_new(alice):
    _book(alice, date(2026, 6, 20))
    now = _utc(2026, 6, 13, 12, 0)
    assert planner.plan(now=now).planned == 1
    second = planner.plan(now=now)
    assert (second.due, second.planned, second.cancelled) == (1, 0, 0)
    assert Message.objects.count() == 1


def test_nine_oclock_stays_nine_oclock_across_the_spring_change(alice, program):
    """Daylight saving starts in Chicago on 8 March 2026: 9:00 is 15:00 UTC before, 14:00 after."""
    program.time_zone = "America/Chicago"
    program.save()
    _book(alice, date(2026, 3, 14))  # reminders on 12 February (30), 7 March (7) and 13 March (1)
    planner.plan(now=_utc(2026, 3, 7, 12, 0))
    planner.plan(now=_utc(2026, 3, 13, 12, 0))
    due = {reminder.occasion: reminder.due_at for reminder in Message.objects.all()}
    assert due == {
        "2026-03-14/7": _utc(2026, 3, 7, 15, 0),  # 9:00 CST, before the change
        "2026-03-14/1": _utc(2026, 3, 13, 14, 0),  # 9:00 CDT, after it
    }


def test_nine_oclock_stays_nine_oclock_across_the_autumn_change(alice, program):
    """Daylight saving ends in Chicago on 1 November 2026."""
    program.time_zone = "America/Chicago"
    program.save()
    _book(alice, date(2026, 11, 7))  # 7 days before: 31 October (CDT); 1 day before: 6 November (CST)
    planner.plan(now=_utc(2026, 10, 31, 12, 0))
    planner.plan(now=_utc(2026, 11, 6, 12, 0))
    due = {reminder.occasion: reminder.due_at for reminder in Message.objects.all()}
    assert due == {"2026-11-07/7": _utc(2026, 10, 31, 14, 0), "2026-11-07/1": _utc(2026, 11, 6, 15, 0)}


def test_a_program_can_change_the_timing(alice, program, dana):
    ReminderTiming.objects.create(program_id=program.pk, kind="exam_upcoming", offsets=[3], send_at=time(17, 30))
    program.time_zone = "America/New_York"
    program.save()
    _book(alice, date(2026, 6, 20))
    planner.plan(now=_utc(2026, 6, 13, 12, 0))
    assert not Message.objects.exists()  # no 7-day reminder any more
    planner.plan(now=_utc(2026, 6, 17, 18, 0))
    reminder = Message.objects.get()
    assert (reminder.occasion, reminder.due_at) == ("2026-06-20/3", _utc(2026, 6, 17, 21, 30))


def test_a_turned_off_kind_plans_nothing(alice, program):
    ReminderTiming.objects.create(program_id=program.pk, kind="exam_upcoming", offsets=[7], enabled=False)
    _book(alice, date(2026, 6, 20))
    assert planner.plan(now=_utc(2026, 6, 13, 12, 0)).planned == 0


def test_a_moved_exam_cancels_the_pending_reminder_and_plans_the_new_one(alice):
    attempt = _book(alice, date(2026, 6, 20))
    now = _utc(2026, 6, 13, 12, 0)
    planner.plan(now=now)
    ExamAttempt.objects.filter(pk=attempt.pk).update(scheduled_on=date(2026, 6, 27))
    result = planner.plan(now=now)
    assert result.cancelled == 1
    assert Message.objects.get().state == Message.State.CANCELLED
    # Moved back: the same reminder is planned again rather than refused as a duplicate.
    ExamAttempt.objects.filter(pk=attempt.pk).update(scheduled_on=date(2026, 6, 20))
    assert planner.plan(now=now).planned == 1
    assert Message.objects.get().state == Message.State.PENDING


def test_a_reminder_missed_by_more_than_a_day_is_never_sent(alice):
    _book(alice, date(2026, 6, 20))
    assert planner.plan(now=_utc(2026, 6, 15, 12, 0)).planned == 0  # the 7-day one was due on the 13th


def test_a_sent_reminder_is_not_planned_again(alice):
    _book(alice, date(2026, 6, 20))
    now = _utc(2026, 6, 13, 12, 0)
    planner.plan(now=now)
    Message.objects.update(state=Message.State.SENT, sent_at=now)
    assert planner.plan(now=now).planned == 0
    assert Message.objects.get().state == Message.State.SENT


def test_a_withdrawn_student_is_not_reminded(alice):
    _book(alice, date(2026, 6, 20))
    alice.enrollments.update(admitted_on=date(2026, 1, 5), withdrawn_on=date(2026, 6, 1))
    assert planner.plan(now=_utc(2026, 6, 13, 12, 0)).planned == 0


def test_the_window_offers_only_moments_within_it():
    window = Window(now=_utc(2026, 6, 13, 6, 0), horizon=_utc(2026, 6, 13, 12, 0), timings={})
    zone = __import__("zoneinfo").ZoneInfo("Europe/Madrid")
    moments = list(window.offset_days(event_on=date(2026, 6, 20), zone=zone, program_id=None, kind="exam_upcoming"))
    assert moments == [(7, _utc(2026, 6, 13, 7, 0))]  # 9:00 CEST
    assert list(window.offset_days(event_on=date(2026, 6, 21), zone=zone, program_id=None, kind="exam_upcoming")) == []
    assert timedelta(0) < moments[0][1] - window.now
