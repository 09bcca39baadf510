"""Retake rules, as each track's data says them: the wait after a fail, the attempt limit with and
without a long wait after it, an exam already passed, a no-show that is not an attempt, and a
director's edited wait. Booking and recording both refuse, and say until when."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from certifications import services
from certifications.models import ExamAttempt
from tests.certification_factories import ExamAttemptFactory, track

FIRST_FAIL = date(2025, 3, 1)


@pytest.fixture
def enrollment(alice):
    return alice.enrollments.select_related("cohort__program").get()


@pytest.fixture
def ccma(program):
    """NHA's CCMA: 30 days after a fail, 3 attempts, then 365 days."""
    return track(program, "CCMA")


@pytest.fixture
def cma(program):
    """AAMA's CMA: no wait between attempts, 3 attempts, then never."""
    return track(program, "CMA")


def fail(enrollment, exam, on: date) -> ExamAttempt:
    return ExamAttemptFactory.create(enrollment=enrollment, track=exam, taken_on=on, result=ExamAttempt.Result.FAIL)


def book(enrollment, exam, on: date) -> ExamAttempt:
    return services.schedule_exam(enrollment=enrollment, track=exam, scheduled_on=on, location="Campus", by=None)


def refusal(enrollment, exam, on: date) -> str:
    with pytest.raises(ValidationError) as refused:
        book(enrollment, exam, on)
    assert not ExamAttempt.objects.filter(enrollment=enrollment, track=exam, result="").exists()
    return " ".join(refused.value.message_dict["scheduled_on"])


class TestWaitAfterAFail:
    def test_day_29_is_refused_and_says_from_when(self, enrollment, ccma):
        fail(enrollment, ccma, FIRST_FAIL)
        assert refusal(enrollment, ccma, FIRST_FAIL + timedelta(days=29)) == (
            "After a failed attempt on 2025-03-01, CCMA may be retaken from 2025-03-31."
        )

    def test_day_30_is_allowed(self, enrollment, ccma):
        fail(enrollment, ccma, FIRST_FAIL)
        booked = book(enrollment, ccma, FIRST_FAIL + timedelta(days=30))
        assert booked.is_booked
        assert booked.scheduled_on == date(2025, 3, 31)

    def test_the_track_says_the_day_it_is_allowed_from(self, enrollment, ccma):
        attempt = fail(enrollment, ccma, FIRST_FAIL)
        reason, allowed = ccma.retake_refusal([attempt], FIRST_FAIL + timedelta(days=29))
        assert reason.endswith("from 2025-03-31.")
        assert allowed == date(2025, 3, 31)
        assert ccma.retake_refusal([attempt], date(2025, 3, 31)) == ("", None)

    def test_the_wait_counts_from_the_latest_fail(self, enrollment, ccma):
        fail(enrollment, ccma, FIRST_FAIL)
        fail(enrollment, ccma, date(2025, 4, 10))
        assert "from 2025-05-10" in refusal(enrollment, ccma, date(2025, 5, 9))

    def test_moving_a_booking_into_the_wait_is_refused(self, enrollment, ccma):
        fail(enrollment, ccma, FIRST_FAIL)
        booked = book(enrollment, ccma, date(2025, 4, 15))
        with pytest.raises(ValidationError) as refused:
            services.reschedule_exam(attempt=booked, scheduled_on=date(2025, 3, 20), location="", by=None)
        assert "from 2025-03-31" in refused.value.message_dict["scheduled_on"][0]
        booked.refresh_from_db()
        assert booked.scheduled_on == date(2025, 4, 15)

    def test_a_result_dated_inside_the_wait_is_refused(self, enrollment, ccma):
        fail(enrollment, ccma, FIRST_FAIL)
        booked = book(enrollment, ccma, date(2025, 4, 15))
        with pytest.raises(ValidationError) as refused:
            services.record_result(
                attempt=booked, result=ExamAttempt.Result.PASS, taken_on=date(2025, 3, 20), score=None, by=None
            )
        assert "from 2025-03-31" in refused.value.message_dict["taken_on"][0]
        booked.refresh_from_db()
        assert booked.is_booked
        assert not booked.enrollment.credentials.exists()


class TestAttemptLimitWithoutALongWait:
    def test_cma_needs_no_wait_between_attempts(self, enrollment, cma):
        fail(enrollment, cma, FIRST_FAIL)
        assert book(enrollment, cma, FIRST_FAIL + timedelta(days=1)).is_booked

    def test_three_fails_end_it_for_good(self, enrollment, cma):
        for days in (0, 60, 120):
            fail(enrollment, cma, FIRST_FAIL + timedelta(days=days))
        assert refusal(enrollment, cma, date(2035, 1, 1)) == (
            "All 3 attempts allowed for CMA are used; the student may not test again."
        )
        assert cma.retake_refusal(list(ExamAttempt.objects.filter(track=cma)), date(2035, 1, 1))[1] is None

    def test_two_fails_leave_a_third_attempt(self, enrollment, cma):
        fail(enrollment, cma, FIRST_FAIL)
        fail(enrollment, cma, FIRST_FAIL + timedelta(days=60))
        assert book(enrollment, cma, FIRST_FAIL + timedelta(days=61)).is_booked


class TestAttemptLimitWithALongWait:
    @pytest.fixture
    def three_fails(self, enrollment, ccma):
        for days in (0, 30, 60):
            fail(enrollment, ccma, FIRST_FAIL + timedelta(days=days))
        return FIRST_FAIL + timedelta(days=60)  # 2025-04-30

    def test_after_the_third_fail_a_year_is_refused_with_its_end(self, enrollment, ccma, three_fails):
        assert refusal(enrollment, ccma, three_fails + timedelta(days=364)) == (
            "After a failed attempt on 2025-04-30, CCMA may be retaken from 2026-04-30."
        )

    def test_the_usual_30_days_are_not_enough(self, enrollment, ccma, three_fails):
        assert "from 2026-04-30" in refusal(enrollment, ccma, three_fails + timedelta(days=30))

    def test_after_365_days_it_is_allowed(self, enrollment, ccma, three_fails):
        assert book(enrollment, ccma, three_fails + timedelta(days=365)).is_booked


class TestAlreadyPassed:
    def test_a_pass_refuses_another_booking(self, enrollment, ccma):
        ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=FIRST_FAIL, result=ExamAttempt.Result.PASS)
        assert refusal(enrollment, ccma, date(2027, 1, 1)) == "The student has already passed this exam."

    def test_a_pass_on_another_track_does_not(self, enrollment, ccma, cma):
        ExamAttemptFactory(enrollment=enrollment, track=cma, taken_on=FIRST_FAIL, result=ExamAttempt.Result.PASS)
        assert book(enrollment, ccma, FIRST_FAIL + timedelta(days=1)).is_booked


class TestNoShow:
    def test_a_no_show_starts_no_wait(self, enrollment, ccma):
        booked = book(enrollment, ccma, FIRST_FAIL)
        services.record_result(attempt=booked, result=ExamAttempt.Result.NO_SHOW, taken_on=None, score=None, by=None)
        assert book(enrollment, ccma, FIRST_FAIL + timedelta(days=1)).is_booked

    def test_a_no_show_does_not_use_an_attempt(self, enrollment, cma):
        fail(enrollment, cma, FIRST_FAIL)
        fail(enrollment, cma, FIRST_FAIL + timedelta(days=30))
        booked = book(enrollment, cma, FIRST_FAIL + timedelta(days=60))
        services.record_result(attempt=booked, result=ExamAttempt.Result.NO_SHOW, taken_on=None, score=None, by=None)
        third = book(enrollment, cma, FIRST_FAIL + timedelta(days=61))
        services.record_result(
            attempt=third,
            result=ExamAttempt.Result.PASS,
            taken_on=FIRST_FAIL + timedelta(days=61),
            score=Decimal("450"),
            by=None,
        )
        third.refresh_from_db()
        assert third.result == ExamAttempt.Result.PASS
        assert third.credential.issued_on == FIRST_FAIL + timedelta(days=61)

    def test_a_no_show_keeps_its_booked_day_and_no_score(self, enrollment, ccma):
        booked = book(enrollment, ccma, FIRST_FAIL)
        with pytest.raises(ValidationError) as refused:
            services.record_result(
                attempt=booked, result=ExamAttempt.Result.NO_SHOW, taken_on=None, score=Decimal(300), by=None
            )
        assert refused.value.message_dict["score"] == ["A missed exam has no score."]
        services.record_result(attempt=booked, result=ExamAttempt.Result.NO_SHOW, taken_on=None, score=None, by=None)
        booked.refresh_from_db()
        assert (booked.scheduled_on, booked.taken_on) == (FIRST_FAIL, None)


class TestADirectorsEditedWait:
    def test_a_longer_wait_refuses_what_the_reference_allowed(self, enrollment, ccma):
        ccma.retake_wait_days = 60
        ccma.save(update_fields=["retake_wait_days"])
        fail(enrollment, ccma, FIRST_FAIL)
        assert refusal(enrollment, ccma, FIRST_FAIL + timedelta(days=30)) == (
            "After a failed attempt on 2025-03-01, CCMA may be retaken from 2025-04-30."
        )
        assert book(enrollment, ccma, FIRST_FAIL + timedelta(days=60)).is_booked

    def test_a_wait_set_where_the_reference_had_none_counts(self, enrollment, cma):
        cma.retake_wait_days = 90
        cma.save(update_fields=["retake_wait_days"])
        fail(enrollment, cma, FIRST_FAIL)
        assert "CMA may be retaken from 2025-05-30" in refusal(enrollment, cma, FIRST_FAIL + timedelta(days=1))

    def test_another_programs_copy_is_untouched(self, enrollment, ccma):
        from tests.factories import ProgramFactory

        other = track(ProgramFactory(), "CCMA")
        ccma.retake_wait_days = 60
        ccma.save(update_fields=["retake_wait_days"])
        other.refresh_from_db()
        assert other.retake_wait_days == 30
