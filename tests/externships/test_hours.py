"""Hours: each rule refused with its own message and nothing saved; approved entries locked."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from externships.models import HoursEntry, Placement
from externships.services import hours as hours_services
from tests.externship_factories import shift


@pytest.fixture
def yesterday(active) -> date:
    return active.enrollment.cohort.program.today() - timedelta(days=1)


def log(placement: Placement, student, day: date, start: time, end: time, activity: str = "") -> HoursEntry:
    return hours_services.log_shift(
        placement=placement, student=student, work_date=day, start=start, end=end, activity=activity
    )


def refused(
    placement: Placement, student, day: date, start: time, end: time, activity: str = ""
) -> dict[str, list[str]]:
    before = HoursEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        log(placement, student, day, start, end, activity)
    assert HoursEntry.objects.count() == before, "a refused shift must save nothing"
    return error.value.message_dict


class TestLogging:
    def test_a_shift_is_logged_waiting_for_approval(self, active, alice, yesterday):
        entry = log(active, alice, yesterday, time(8), time(16, 30), "Vitals and rooming")
        assert entry.state == HoursEntry.State.SUBMITTED
        assert entry.hours == 8.5
        assert entry.starts_at.astimezone(active.enrollment.cohort.program.zone).time() == time(8)

    def test_end_before_start_is_refused(self, active, alice, yesterday):
        assert refused(active, alice, yesterday, time(16), time(8)) == {
            "end": ["The end time must be after the start time."]
        }

    def test_overlap_is_refused_naming_the_other_shift(self, active, alice, yesterday):
        log(active, alice, yesterday, time(8), time(12))
        (message,) = refused(active, alice, yesterday, time(11), time(15))["start"]
        assert message.startswith("This shift overlaps the one logged on ")

    def test_touching_shifts_are_fine(self, active, alice, yesterday):
        log(active, alice, yesterday, time(8), time(12))
        log(active, alice, yesterday, time(12), time(16))
        assert HoursEntry.objects.count() == 2

    def test_more_than_12_hours_in_a_day_is_refused(self, active, alice, yesterday):
        log(active, alice, yesterday, time(6), time(14))
        (message,) = refused(active, alice, yesterday, time(15), time(20))["end"]
        assert message.startswith("At most 12 hours can be logged in a day; 8 hours are logged on ")

    def test_a_shift_over_12_hours_is_refused(self, active, alice, yesterday):
        assert "end" in refused(active, alice, yesterday, time(6), time(19))

    def test_outside_the_placement_dates_is_refused(self, active, alice):
        (message,) = refused(active, alice, active.start_on - timedelta(days=1), time(8), time(12))["work_date"]
        assert message.startswith("The date is outside the placement, which runs from ")

    def test_the_future_is_refused(self, active, alice):
        tomorrow = active.enrollment.cohort.program.today() + timedelta(days=1)
        assert refused(active, alice, tomorrow, time(8), time(12)) == {
            "work_date": ["A shift cannot be logged before it ends: it is still in the future."]
        }

    def test_a_note_with_identifier_like_numbers_is_refused(self, active, alice, yesterday):
        assert "activity" in refused(active, alice, yesterday, time(8), time(12), "Patient MRN 00123456")

    def test_only_the_placed_student_logs(self, active, bob, yesterday):
        with pytest.raises(ValidationError):
            log(active, bob, yesterday, time(8), time(12))

    def test_a_planned_placement_takes_no_hours(self, placement, alice):
        with pytest.raises(ValidationError):
            log(placement, alice, placement.start_on, time(8), time(12))

    def test_the_database_refuses_overlap_too(self, active, alice, yesterday):
        shift(active, yesterday, time(8), time(12))
        with pytest.raises(IntegrityError), transaction.atomic():
            shift(active, yesterday, time(9), time(10))

    @pytest.mark.parametrize(
        ("day_offset", "start", "end"),
        [(-400, time(8), time(12)), (1, time(8), time(12))],
        ids=["outside-the-placement", "in-the-future"],
    )
    def test_the_database_refuses_what_the_service_refuses(self, active, day_offset, start, end):
        day = active.enrollment.cohort.program.today() + timedelta(days=day_offset)
        with pytest.raises(IntegrityError), transaction.atomic():
            shift(active, day, start, end)

    def test_the_database_refuses_a_13th_hour_in_a_day(self, active, yesterday):
        shift(active, yesterday, time(6), time(14))
        with pytest.raises(IntegrityError), transaction.atomic():
            shift(active, yesterday, time(15), time(20))

    def test_the_database_refuses_hours_on_someone_elses_placement(self, active, bob, yesterday):
        with pytest.raises(IntegrityError), transaction.atomic():
            HoursEntry.objects.create(
                placement=active,
                student=bob,
                work_date=yesterday,
                starts_at=timezone.now() - timedelta(hours=30),
                ends_at=timezone.now() - timedelta(hours=28),
            )

    def test_the_database_refuses_a_shift_over_12_hours(self, active, yesterday):
        with pytest.raises(IntegrityError), transaction.atomic():
            shift(active, yesterday, time(0), time(13))


class TestReview:
    def test_the_preceptor_approves_a_week_at_a_fixed_query_cost(self, active, paula, alice):
        monday = hours_services.week_of(active.start_on + timedelta(days=7))[0]
        shift(active, monday)
        shift(active, active.start_on)  # an earlier week stays waiting
        with CaptureQueriesContext(connection) as one:
            assert hours_services.approve_week(placement=active, by=paula, week_start=monday) == 1
        for offset in range(1, 5):
            shift(active, monday + timedelta(days=offset))
        shift(active, monday + timedelta(days=6))
        with CaptureQueriesContext(connection) as five:
            assert hours_services.approve_week(placement=active, by=paula, week_start=monday) == 5
        assert len(five.captured_queries) <= len(one.captured_queries)  # the first approval made the chain's head
        assert HoursEntry.objects.filter(state=HoursEntry.State.APPROVED, reviewed_by=paula).count() == 6
        assert HoursEntry.objects.filter(state=HoursEntry.State.SUBMITTED).count() == 1
        assert list(
            HoursEntry.objects.filter(student=alice, state=HoursEntry.State.APPROVED)
            .order_by("chain_position")
            .values_list("chain_position", flat=True)
        ) == [1, 2, 3, 4, 5, 6]

    def test_only_the_placement_preceptor_approves(self, active, carlos, alice):
        shift(active, active.start_on)
        for somebody in (carlos, alice):
            with pytest.raises(ValidationError):
                hours_services.approve_week(placement=active, by=somebody, week_start=active.start_on)

    def test_approved_entries_are_locked(self, active, alice, paula, yesterday):
        entry = shift(active, yesterday, state=HoursEntry.State.APPROVED)
        with pytest.raises(ValidationError):
            hours_services.correct_shift(entry=entry, by=alice, work_date=yesterday, start=time(9), end=time(12))
        with pytest.raises(ValidationError):
            hours_services.withdraw_shift(entry=entry, by=alice)
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE externships_hoursentry SET ends_at = ends_at + interval '1 hour' WHERE id = %s", [entry.pk]
            )
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM externships_hoursentry WHERE id = %s", [entry.pk])

    def test_a_returned_entry_is_corrected_and_goes_back_for_approval(self, active, alice, paula, yesterday):
        entry = log(active, alice, yesterday, time(8), time(12))
        with pytest.raises(ValidationError):
            hours_services.return_entry(entry=entry, by=paula, reason="")
        hours_services.return_entry(entry=entry, by=paula, reason="You left at 11")
        corrected = hours_services.correct_shift(
            entry=entry, by=alice, work_date=yesterday, start=time(8), end=time(11)
        )
        assert corrected.state == HoursEntry.State.SUBMITTED
        assert corrected.hours == 3
        assert corrected.return_reason == ""


class TestProgress:
    def test_progress_and_pace(self, active):
        today = active.enrollment.cohort.program.today()
        shift(active, today - timedelta(days=2), state=HoursEntry.State.APPROVED)
        shift(active, today - timedelta(days=1))
        progress = hours_services.progress_of(active, today=today)
        assert (progress.approved, progress.pending, progress.required) == (8, 8, 160)
        assert progress.percent == 5
        assert progress.remaining == 152
        assert progress.days_left == (active.end_on - today).days + 1
        assert progress.weekly_pace == round(152 * 7 / progress.days_left, 1)
        assert progress.behind  # 14 of 75 days gone: about 30 hours expected

    def test_annotated_lists_cost_no_query_per_row(self, active, django_assert_num_queries):
        shift(active, active.start_on, state=HoursEntry.State.APPROVED)
        placement = hours_services.with_hours(Placement.objects.select_related("enrollment__cohort__program")).get()
        with django_assert_num_queries(0):
            progress = hours_services.progress_of(placement)
        assert progress.approved == 8
