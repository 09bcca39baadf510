"""Outcome figures on small cohorts whose figures are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.models import CertificationTrack, ExamAttempt, OutcomeMeasure, PlacementStatus
from certifications.outcomes import (
    Figure,
    Standing,
    outcome_report,
    pass_rate_students,
    pass_rates,
    placement_legend,
    students_behind,
)
from curriculum.models import Accreditor, Enrollment, Program
from tests.certification_factories import ExamAttemptFactory, JobPlacementFactory, track
from tests.factories import CohortFactory, EnrollmentFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

PASS, FAIL, NO_SHOW = ExamAttempt.Result.PASS, ExamAttempt.Result.FAIL, ExamAttempt.Result.NO_SHOW


def day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# The day the figures are computed on, unless a test says otherwise: every calendar year up to 2025 is
# over; ABHES's report year 2026 (July 2025 to June 2026) is still running.
TODAY = date(2026, 1, 15)


def enroll(
    program: Program,
    admitted: str,
    *,
    trigger: str | None = None,
    withdrawn: str | None = None,
    graduated: str | None = None,
    expected: str | None = None,
    student=None,
) -> Enrollment:
    """An enrollment in a cohort of its own (so one student may re-enter), with the dates given; the
    cohort is expected to graduate on `expected`, else 330 days after admission."""
    admitted_on = day(admitted)
    assert admitted_on is not None
    expected_on = day(expected) or admitted_on + timedelta(days=330)
    return EnrollmentFactory.create(
        cohort=CohortFactory(program=program, start_on=admitted_on, expected_graduation_on=expected_on),
        student=student or UserFactory(),
        admitted_on=day(admitted),
        trigger_course_completed_on=day(trigger),
        withdrawn_on=day(withdrawn),
        graduated_on=day(graduated),
    )


def graduate(program: Program, graduated: str, status: str | None = None) -> Enrollment:
    """A graduate admitted a year before, with a job placement record when a status is given."""
    on = day(graduated)
    assert on is not None
    enrollment = enroll(program, str(on - timedelta(days=365)), graduated=graduated)
    if status:
        reason = "Moved abroad" if status == PlacementStatus.UNAVAILABLE else ""
        JobPlacementFactory(enrollment=enrollment, status=status, unavailable_reason=reason)
    return enrollment


def sit(enrollment: Enrollment, code: str, taken: str, result: str) -> ExamAttempt:
    program = enrollment.cohort.program
    if result == NO_SHOW:
        return ExamAttemptFactory.create(
            enrollment=enrollment, track=track(program, code), taken_on=None, scheduled_on=day(taken), result=result
        )
    return ExamAttemptFactory.create(
        enrollment=enrollment, track=track(program, code), taken_on=day(taken), result=result
    )


@pytest.fixture
def abhes_program(db) -> Program:
    return ProgramFactory.create(accreditor=Accreditor.ABHES)


def figure(program: Program, measure: str, year: int | None, today: date = TODAY) -> Figure:
    found = outcome_report(program, today=today).figure(measure, year)
    assert found is not None, (measure, year)
    return found


def counts(found: Figure) -> tuple[int, int, Decimal | None]:
    return found.numerator, found.denominator, found.rate


class TestMaerb:
    def test_retention_counts_only_those_who_completed_the_trigger_course(self, program):
        # Admitted in 2023:
        #   kept:     trigger done, graduated 2023-12-15        → in the cohort, retained
        #   later:    trigger done, graduated 2024-06-20        → in the cohort, retained
        #   dropped:  trigger done, withdrew after it           → in the cohort, a drop
        #   early:    withdrew before completing the trigger    → not in the cohort at all
        # Nobody admitted in 2023 is still enrolled: the year is final.
        # Retention 2023 = 2 / 3 = 66.666… → 66.7 (threshold 60: meets).
        kept = enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2023-12-15")
        later = enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2024-06-20")
        dropped = enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-06-01")
        enroll(program, "2023-01-09", withdrawn="2023-02-01")

        retention = figure(program, "retention", 2023)
        assert counts(retention) == (2, 3, Decimal("66.7"))
        assert (retention.final, retention.enrolled, retention.meets_threshold) == (True, 0, True)
        assert set(students_behind(program, "maerb", "retention", 2023, "numerator")) == {kept, later}
        assert set(students_behind(program, "maerb", "retention", 2023, "denominator")) == {kept, later, dropped}

    def test_placement_counts_continuing_education_as_placed_and_a_graduate_without_a_record(self, program):
        # Graduated in 2024: in field, related field, continuing education (all three placed for MAERB),
        # not employed, unavailable (MAERB excludes no one), and one with no placement record.
        # Placement 2024 = 3 / 6 = 50.0 (threshold 60: below).
        for status in (
            PlacementStatus.IN_FIELD,
            PlacementStatus.RELATED_FIELD,
            PlacementStatus.CONTINUING_EDUCATION,
            PlacementStatus.NOT_EMPLOYED,
            PlacementStatus.UNAVAILABLE,
        ):
            graduate(program, "2024-05-20", status)
        unknown = graduate(program, "2024-05-20")

        placement = figure(program, "job_placement", 2024)
        assert counts(placement) == (3, 6, Decimal("50.0"))
        assert placement.excluded == 0
        assert placement.meets_threshold is False
        assert unknown in students_behind(program, "maerb", "job_placement", 2024, "denominator")
        assert unknown not in students_behind(program, "maerb", "job_placement", 2024, "numerator")

    def test_participation_counts_a_sitting_of_a_counted_exam_only(self, program):
        # Graduated in 2024: passed CMA; failed RMA; missed a booked CMA (a no-show is not a sitting);
        # passed only the CMAA, which MAERB does not count as a medical assisting credential.
        # Participation 2024 = 2 (CMA pass, RMA fail) / 4 graduates = 50.0 (threshold 30: meets).
        # Passage 2024 = 1 (the CMA pass) / 2 who sat = 50.0 (threshold 60: below).
        passed, failed, missed, administrative = (graduate(program, "2024-05-20") for _ in range(4))
        sit(passed, "CMA", "2024-06-10", PASS)
        sit(failed, "RMA", "2024-06-10", FAIL)
        sit(missed, "CMA", "2024-06-10", NO_SHOW)
        sit(administrative, "CMAA", "2024-06-10", PASS)

        participation = figure(program, "credentialing_exam_participation", 2024)
        assert counts(participation) == (2, 4, Decimal("50.0"))
        assert participation.meets_threshold is True
        passage = figure(program, "credentialing_exam_passage", 2024)
        assert counts(passage) == (1, 2, Decimal("50.0"))
        assert passage.meets_threshold is False
        assert set(students_behind(program, "maerb", "credentialing_exam_participation", 2024, "numerator")) == {
            passed,
            failed,
        }
        assert list(students_behind(program, "maerb", "credentialing_exam_passage", 2024, "numerator")) == [passed]

    def test_passage_counts_a_pass_at_any_attempt(self, program):
        # Two graduates of 2024 sat CMA: one failed then passed, one failed twice. Passage = 1 / 2 = 50.0.
        retaker, failer = graduate(program, "2024-05-20"), graduate(program, "2024-05-20")
        sit(retaker, "CMA", "2024-06-10", FAIL)
        sit(retaker, "CMA", "2024-09-10", PASS)
        sit(failer, "CMA", "2024-06-10", FAIL)
        sit(failer, "CMA", "2024-09-10", FAIL)

        assert counts(figure(program, "credentialing_exam_passage", 2024)) == (1, 2, Decimal("50.0"))

    def test_each_measures_average_ends_at_its_own_latest_year(self, program):
        # Placement by graduation year: 2016 1/1 placed, 2020 0/1. Admissions run to 2022 (retention),
        # but no one has graduated in 2021 or 2022: the placement window is 2016–2020, not 2018–2022,
        # so the 2016 graduate stays in: (1 + 0) / (1 + 1) = 50.0.
        graduate(program, "2016-06-01", PlacementStatus.IN_FIELD)
        graduate(program, "2020-06-01", PlacementStatus.NOT_EMPLOYED)
        enroll(program, "2022-01-10", trigger="2022-03-01", withdrawn="2022-05-01")

        report = outcome_report(program, today=TODAY)
        assert report.average_years("job_placement") == [2016, 2017, 2018, 2019, 2020]
        assert report.average_years("retention")[-1] == 2022
        average = report.figure("job_placement", None)
        assert average is not None
        assert (average.numerator, average.denominator, average.rate) == (1, 2, Decimal("50.0"))
        assert students_behind(program, "maerb", "job_placement", None, "denominator", today=TODAY).count() == 2

    def test_the_five_year_average_pools_numerators_and_denominators(self, program):
        # Retention by admission year (everyone completed the trigger course and graduated or withdrew):
        #   2015: 1 / 1            (outside the window: the latest year is 2021, so 2017–2021)
        #   2020: 1 / 1 = 100.0
        #   2021: 1 / 4 =  25.0
        # Weighted: (1 + 1) / (1 + 4) = 2 / 5 = 40.0, below 60; the mean of the rates, 62.5, would meet it.
        enroll(program, "2015-01-05", trigger="2015-03-01", graduated="2015-12-10")
        enroll(program, "2020-01-06", trigger="2020-03-01", graduated="2020-12-10")
        enroll(program, "2021-01-04", trigger="2021-03-01", graduated="2021-12-10")
        for _ in range(3):
            enroll(program, "2021-01-04", trigger="2021-03-01", withdrawn="2021-05-01")

        report = outcome_report(program, today=TODAY)
        assert report.years == [2015, 2020, 2021]
        assert report.average_years("retention") == [2017, 2018, 2019, 2020, 2021]
        average = report.figure("retention", None)
        assert average is not None
        assert (average.numerator, average.denominator, average.rate, average.year_label) == (2, 5, Decimal(40), "5yr")
        assert average.meets_threshold is False
        assert students_behind(program, "maerb", "retention", None, "denominator", today=TODAY).count() == 5
        # A year with no one to count is 0/0: a figure with no rate and no flag (nobody sat an exam).
        empty = report.figure("credentialing_exam_passage", 2021)
        assert empty is not None
        assert (empty.rate, empty.meets_threshold) == (None, None)

    def test_each_measure_lists_its_figures_by_year_with_the_average_last(self, program):
        enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2024-01-10")
        report = outcome_report(program, today=TODAY)
        assert report.accreditor == "maerb"
        assert [measure.key for measure in report.measures] == [
            "retention",
            "job_placement",
            "credentialing_exam_participation",
            "credentialing_exam_passage",
        ]
        assert report.years == [2023, 2024]
        measure, figures = report.rows()[0]
        assert measure.key == "retention"
        assert [found.year_label for found in figures] == ["2023", "2024", "5yr"]


class TestInProgress:
    def test_an_admission_year_with_a_student_still_enrolled_is_in_progress_with_no_rate(self, program):
        # Admitted in 2023: kept graduated, dropped withdrew after the trigger course, active completed it
        # and is still enrolled, pending is still enrolled and has not completed it yet (they may still join
        # the cohort). Counted so far: 2 not withdrawn (kept, active) of 3 in the cohort; 2 still enrolled
        # (active, pending). No rate: 2 / 3 would read as 66.7 and "meets", but active may yet withdraw.
        kept = enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2024-01-10")
        enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-06-01")
        active = enroll(program, "2023-01-09", trigger="2023-03-01")
        pending = enroll(program, "2023-01-09")

        retention = figure(program, "retention", 2023)
        assert (retention.numerator, retention.denominator, retention.enrolled) == (2, 3, 2)
        assert (retention.final, retention.rate, retention.meets_threshold) == (False, None, None)
        assert set(students_behind(program, "maerb", "retention", 2023, "enrolled", today=TODAY)) == {active, pending}
        # Out of the 5-year average: no final year with data is left, so it pools nothing.
        report = outcome_report(program, today=TODAY)
        assert report.average_years("retention") == []
        assert report.in_progress_years("retention") == [2023]

        # active withdraws and pending never completes the trigger course: the cohort is complete.
        # Retention 2023 = 1 (kept) / 3 (kept, dropped, active) = 33.333… → 33.3, below 60.
        Enrollment.objects.filter(pk__in=[active.pk, pending.pk]).update(withdrawn_on=date(2024, 2, 1))
        retention = figure(program, "retention", 2023)
        assert (retention.final, retention.enrolled) == (True, 0)
        assert counts(retention) == (1, 3, Decimal("33.3"))
        assert retention.meets_threshold is False
        assert set(students_behind(program, "maerb", "retention", 2023, "numerator", today=TODAY)) == {kept}
        with pytest.raises(ValueError, match="in progress"):
            students_behind(program, "maerb", "retention", 2023, "enrolled", today=TODAY)

    def test_the_five_year_average_pools_the_five_most_recent_complete_years(self, program):
        # Retention by admission year, everyone through the trigger course; "g" graduated, "w" withdrew:
        #   2019: g           1 / 1   (outside the window)
        #   2020: g w         1 / 2
        #   2021: g g         2 / 2
        #   2022: w           0 / 1
        #   2023: g           1 / 1
        #   2024: g + 1 still enrolled: in progress, passed over
        #   2025: g w         1 / 2
        #   2026: 1 admitted, still enrolled, trigger not yet done: in progress (0 / 0, 1 enrolled)
        # Window: 2025, (not 2024), 2023, 2022, 2021, 2020.
        # Weighted: (1 + 2 + 0 + 1 + 1) / (2 + 2 + 1 + 1 + 2) = 5 / 8 = 62.5 (threshold 60: meets).
        # Pooling the latest five whatever their state (2021–2025, 2024 as 2 / 2) would give 6 / 8 = 75.0.
        def admitted(year: int, *, graduates: int = 0, withdrawn: int = 0, enrolled: int = 0) -> None:
            for _ in range(graduates):
                enroll(program, f"{year}-01-06", trigger=f"{year}-03-01", graduated=f"{year}-12-10")
            for _ in range(withdrawn):
                enroll(program, f"{year}-01-06", trigger=f"{year}-03-01", withdrawn=f"{year}-05-01")
            for _ in range(enrolled):
                enroll(program, f"{year}-01-06", trigger=f"{year}-03-01")

        admitted(2019, graduates=1)
        admitted(2020, graduates=1, withdrawn=1)
        admitted(2021, graduates=2)
        admitted(2022, withdrawn=1)
        admitted(2023, graduates=1)
        admitted(2024, graduates=1, enrolled=1)
        admitted(2025, graduates=1, withdrawn=1)
        newcomer = enroll(program, "2026-01-05")

        report = outcome_report(program, today=TODAY)
        assert report.years == [2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026]
        assert report.average_years("retention") == [2020, 2021, 2022, 2023, 2025]
        assert report.in_progress_years("retention") == [2024, 2026]
        assert report.final_years("retention") == [2019, 2020, 2021, 2022, 2023, 2025]
        average = report.figure("retention", None)
        assert average is not None
        assert (average.numerator, average.denominator, average.rate) == (5, 8, Decimal("62.5"))
        assert (average.final, average.meets_threshold) == (True, True)
        assert students_behind(program, "maerb", "retention", None, "denominator", today=TODAY).count() == 8
        current = report.figure("retention", 2026)
        assert current is not None
        assert (current.denominator, current.enrolled, current.final) == (0, 1, False)
        assert list(students_behind(program, "maerb", "retention", 2026, "enrolled", today=TODAY)) == [newcomer]

    def test_a_graduation_year_is_in_progress_until_it_ends(self, program):
        # Graduated 2025-06-01 (placed) and 2025-11-20 (not employed). Placement 2025 = 1 / 2.
        # Still enrolled: one whose class is expected to graduate 2025-12-15, who may yet graduate in 2025,
        # and one expected 2026-05-15, who may not.
        graduate(program, "2025-06-01", PlacementStatus.IN_FIELD)
        graduate(program, "2025-11-20", PlacementStatus.NOT_EMPLOYED)
        finishing = enroll(program, "2025-01-06", trigger="2025-03-01", expected="2025-12-15")
        enroll(program, "2025-06-02", trigger="2025-08-01", expected="2026-05-15")

        on_new_years_eve = figure(program, "job_placement", 2025, date(2025, 12, 31))
        assert (on_new_years_eve.numerator, on_new_years_eve.denominator) == (1, 2)
        assert (on_new_years_eve.final, on_new_years_eve.enrolled, on_new_years_eve.rate) == (False, 1, None)
        enrolled = students_behind(program, "maerb", "job_placement", 2025, "enrolled", today=date(2025, 12, 31))
        assert list(enrolled) == [finishing]
        # Out of the average: no other year has graduates, so it pools nothing yet.
        average = figure(program, "job_placement", None, date(2025, 12, 31))
        assert (average.numerator, average.denominator, average.rate) == (0, 0, None)

        # On January 1 nobody can graduate in 2025 any more: 1 / 2 = 50.0, below 60, and pooled.
        on_new_years_day = figure(program, "job_placement", 2025, date(2026, 1, 1))
        assert (on_new_years_day.final, on_new_years_day.enrolled) == (True, 0)
        assert counts(on_new_years_day) == (1, 2, Decimal("50.0"))
        assert on_new_years_day.meets_threshold is False
        average = figure(program, "job_placement", None, date(2026, 1, 1))
        assert (average.numerator, average.denominator, average.rate) == (1, 2, Decimal("50.0"))

    def test_an_abhes_report_year_is_final_from_july_1(self, abhes_program):
        # Report year 2025 = 2024-07-01 .. 2025-06-30. New starts: graduate (admitted 2024-08-01, graduated
        # 2025-06-30), quitter (admitted 2024-09-01, withdrew 2025-01-10), staying (admitted 2024-10-01, still
        # enrolled). (EE + G) / (BE + NS + RE) = (1 + 1) / (0 + 3 + 0) = 2 / 3 = 66.666… → 66.7, below 70.
        graduate_ = enroll(abhes_program, "2024-08-01", graduated="2025-06-30")
        enroll(abhes_program, "2024-09-01", withdrawn="2025-01-10")
        staying = enroll(abhes_program, "2024-10-01", expected="2025-09-30")
        JobPlacementFactory(enrollment=graduate_, status=PlacementStatus.IN_FIELD)

        on_june_30 = outcome_report(abhes_program, today=date(2025, 6, 30))
        for measure in ("retention", "placement", "credentialing"):
            found = on_june_30.figure(measure, 2025)
            assert found is not None
            assert (found.final, found.rate, found.meets_threshold) == (False, None, None), measure
        retention = on_june_30.figure("retention", 2025)
        assert retention is not None
        assert (dict(retention.terms), retention.enrolled) == ({"BE": 0, "NS": 3, "RE": 0, "EE": 1, "G": 1}, 1)
        assert list(
            students_behind(abhes_program, "abhes", "retention", 2025, "enrolled", today=date(2025, 6, 30))
        ) == [staying]
        # staying's class is expected to graduate in report year 2026: not among 2025's possible graduates.
        placement = on_june_30.figure("placement", 2025)
        assert placement is not None and placement.enrolled == 0

        on_july_1 = outcome_report(abhes_program, today=date(2025, 7, 1))
        retention = on_july_1.figure("retention", 2025)
        assert retention is not None
        assert (retention.final, retention.enrolled) == (True, 0)
        assert counts(retention) == (2, 3, Decimal("66.7"))
        assert retention.meets_threshold is False
        placement = on_july_1.figure("placement", 2025)
        assert placement is not None
        assert counts(placement) == (1, 1, Decimal(100))  # (F + R) / (G − U) = 1 / (1 − 0)


class TestMilitaryService:
    """One cohort with a graduate in military service, figured for both accreditors by hand."""

    @pytest.fixture
    def graduates(self, program) -> dict[str, Enrollment]:
        # Graduated 2025-03-01: MAERB's graduation year 2025, ABHES's report year 2025 (July 2024 to
        # June 2025); both final on TODAY. One graduate a status, and one recorded before military
        # service had its own status: "unavailable", giving military duty as the reason.
        found: dict[str, Enrollment] = {
            str(status): graduate(program, "2025-03-01", status)
            for status in (PlacementStatus.IN_FIELD, PlacementStatus.MILITARY_SERVICE, PlacementStatus.NOT_EMPLOYED)
        }
        found["unavailable"] = graduate(program, "2025-03-01")
        JobPlacementFactory(
            enrollment=found["unavailable"],
            status=PlacementStatus.UNAVAILABLE,
            unavailable_reason="Active military duty",
        )
        return found

    def test_maerb_counts_military_service_as_placed(self, program, graduates):
        # Placed: in field, military service. Nobody left out. The old "unavailable" record counts as
        # not placed. Job placement 2025 = 2 / 4 = 50.0 (threshold 60: below).
        placement = outcome_report(program, "maerb", today=TODAY).figure("job_placement", 2025)
        assert placement is not None
        assert counts(placement) == (2, 4, Decimal("50.0"))
        assert (placement.excluded, placement.unavailable) == (0, 1)
        assert set(students_behind(program, "maerb", "job_placement", 2025, "numerator")) == {
            graduates[PlacementStatus.IN_FIELD],
            graduates[PlacementStatus.MILITARY_SERVICE],
        }
        assert list(students_behind(program, "maerb", "job_placement", 2025, "unavailable")) == [
            graduates["unavailable"]
        ]

    def test_abhes_leaves_military_service_out_of_the_denominator(self, program, graduates):
        # G = 4; U = military service + unavailable = 2; F + R = 1 (in field).
        # Placement 2025 = (F + R) / (G − U) = 1 / (4 − 2) = 50.0.
        placement = outcome_report(program, "abhes", today=TODAY).figure("placement", 2025)
        assert placement is not None
        assert counts(placement) == (1, 2, Decimal("50.0"))
        assert (placement.term("G"), placement.term("U"), placement.excluded) == (4, 2, 2)
        assert set(students_behind(program, "abhes", "placement", 2025, "U")) == {
            graduates[PlacementStatus.MILITARY_SERVICE],
            graduates["unavailable"],
        }

    def test_the_measures_say_so_in_words(self, db):
        maerb = OutcomeMeasure.objects.get(accreditor="maerb", key="job_placement")
        abhes = OutcomeMeasure.objects.get(accreditor="abhes", key="placement")
        retention = OutcomeMeasure.objects.get(accreditor="maerb", key="retention")

        assert placement_legend(maerb) == (
            "Counted as placed: Employed in the field, Employed in a related field, Continuing education, "
            "Serving in the military. Left out of the denominator: none."
        )
        assert placement_legend(abhes) == (
            "Counted as placed: Employed in the field, Employed in a related field. Left out of the "
            "denominator: Unavailable for employment, Continuing education, Serving in the military."
        )
        assert placement_legend(retention) == ""


class TestAbhes:
    def test_the_report_year_runs_july_to_june(self, abhes_program):
        # Graduated 2025-06-30: report year 2025 (2024-07-01 to 2025-06-30); 2025-07-01: report year 2026.
        # On 2026-07-01 both report years are over.
        graduate(abhes_program, "2025-06-30", PlacementStatus.IN_FIELD)
        graduate(abhes_program, "2025-07-01", PlacementStatus.NOT_EMPLOYED)

        after_both = date(2026, 7, 1)
        assert counts(figure(abhes_program, "placement", 2025, after_both)) == (1, 1, Decimal(100))
        assert counts(figure(abhes_program, "placement", 2026, after_both)) == (0, 1, Decimal(0))

    def test_placement_leaves_unavailable_and_continuing_education_out_of_the_denominator(self, abhes_program):
        # Graduated in report year 2025: F in field, R related field, not employed, no record, and two in U
        # (unavailable, continuing education). (F + R) / (G − U) = 2 / (6 − 2) = 50.0 (benchmark 70: below).
        placed = [
            graduate(abhes_program, "2025-03-01", PlacementStatus.IN_FIELD),
            graduate(abhes_program, "2025-03-01", PlacementStatus.RELATED_FIELD),
        ]
        graduate(abhes_program, "2025-03-01", PlacementStatus.NOT_EMPLOYED)
        graduate(abhes_program, "2025-03-01")
        unavailable = [
            graduate(abhes_program, "2025-03-01", PlacementStatus.UNAVAILABLE),
            graduate(abhes_program, "2025-03-01", PlacementStatus.CONTINUING_EDUCATION),
        ]

        placement = figure(abhes_program, "placement", 2025)
        assert counts(placement) == (2, 4, Decimal("50.0"))
        assert (placement.term("G"), placement.term("U"), placement.excluded) == (6, 2, 2)
        assert placement.meets_threshold is False
        assert set(students_behind(abhes_program, "abhes", "placement", 2025, "numerator")) == set(placed)
        assert set(students_behind(abhes_program, "abhes", "placement", 2025, "excluded")) == set(unavailable)
        assert set(students_behind(abhes_program, "abhes", "placement", 2025, "U")) == set(unavailable)

    def test_retention_counts_beginning_new_and_re_entering_students_against_those_who_stay_or_graduate(
        self, abhes_program
    ):
        # Report year 2025 = 2024-07-01 .. 2025-06-30.
        #   enrolled:  admitted 2024-01-10, still enrolled           BE (on July 1), EE (on June 30)
        #   graduate:  admitted 2024-03-01, graduated 2024-12-15     BE, G
        #   early:     admitted 2024-02-01, withdrew 2024-06-15      nothing: left before July 1
        #   late:      admitted 2024-05-01, withdrew 2024-08-01      BE, not EE
        #   quitter:   admitted 2024-09-01, withdrew 2025-02-01      NS, not EE
        #   starter:   admitted 2024-10-01, still enrolled           NS, EE
        #   returner:  early's student again, admitted 2025-01-15    RE (withdrew before this admission), EE
        #   future:    admitted 2025-07-01                           report year 2026
        # (EE + G) / (BE + NS + RE) = (3 + 1) / (3 + 2 + 1) = 4 / 6 = 66.7 (benchmark 70: below).
        program = abhes_program
        enrolled = enroll(program, "2024-01-10")
        graduated = enroll(program, "2024-03-01", graduated="2024-12-15")
        early = enroll(program, "2024-02-01", withdrawn="2024-06-15")
        late = enroll(program, "2024-05-01", withdrawn="2024-08-01")
        quitter = enroll(program, "2024-09-01", withdrawn="2025-02-01")
        starter = enroll(program, "2024-10-01")
        returner = enroll(program, "2025-01-15", student=early.student)
        enroll(program, "2025-07-01")

        # Counted on 2026-01-15: report year 2025 is over (2026 is in progress, with the future student).
        retention = figure(program, "retention", 2025)
        assert dict(retention.terms) == {"BE": 3, "NS": 2, "RE": 1, "EE": 3, "G": 1}
        assert counts(retention) == (4, 6, Decimal("66.7"))
        assert retention.meets_threshold is False
        behind = {
            term: set(students_behind(program, "abhes", "retention", 2025, term))
            for term in ("BE", "NS", "RE", "EE", "G")
        }
        assert behind == {
            "BE": {enrolled, graduated, late},
            "NS": {quitter, starter},
            "RE": {returner},
            "EE": {enrolled, starter, returner},
            "G": {graduated},
        }
        # Report year 2024: the first four started (NS = 4); enrolled, graduated and late were still there
        # on 2024-06-30 (EE = 3). 3 / 4 = 75.0.
        assert counts(figure(program, "retention", 2024)) == (3, 4, Decimal("75.0"))
        report = outcome_report(program, today=TODAY)
        assert report.years == [2024, 2025, 2026]
        assert report.figure("retention", None) is None  # ABHES has no 5-year average

    def test_credentialing_counts_graduates_who_sat_and_passed_a_counted_exam(self, abhes_program):
        # Graduated in report year 2025: passed CCMA after failing it; failed NCMA; sat nothing; passed CMAA,
        # which ABHES counts (every track the program offers counts for ABHES unless the director says not).
        # GP / GT = (retaker + administrative) / (retaker + failer + administrative) = 2 / 3 = 66.666… → 66.7.
        retaker, failer = graduate(abhes_program, "2025-01-10"), graduate(abhes_program, "2025-01-10")
        graduate(abhes_program, "2025-01-10")
        administrative = graduate(abhes_program, "2025-01-10")
        sit(retaker, "CCMA", "2025-02-01", FAIL)
        sit(retaker, "CCMA", "2025-04-01", PASS)
        sit(failer, "NCMA", "2025-02-01", FAIL)
        sit(administrative, "CMAA", "2025-02-01", PASS)

        credentialing = figure(abhes_program, "credentialing", 2025)
        assert counts(credentialing) == (2, 3, Decimal("66.7"))
        assert dict(credentialing.terms) == {"GT": 3, "GP": 2}
        assert set(students_behind(abhes_program, "abhes", "credentialing", 2025, "GP")) == {retaker, administrative}

        # The director stops counting the CMAA for ABHES: GP / GT = 1 / 2 = 50.0.
        CertificationTrack.objects.filter(program=abhes_program, code="CMAA").update(counts_for_abhes=False)
        credentialing = figure(abhes_program, "credentialing", 2025)
        assert counts(credentialing) == (1, 2, Decimal("50.0"))
        assert set(students_behind(abhes_program, "abhes", "credentialing", 2025, "GT")) == {retaker, failer}

    def test_a_caahep_program_may_also_be_reported_the_abhes_way(self, program):
        graduate(program, "2025-06-30", PlacementStatus.CONTINUING_EDUCATION)
        report = outcome_report(program, "abhes", today=TODAY)
        assert report.accreditor == "abhes"
        placement = report.figure("placement", 2025)
        assert placement is not None
        assert (placement.denominator, placement.excluded) == (0, 1)


class TestThresholds:
    def test_exactly_at_the_threshold_meets_it_and_below_does_not(self, program):
        # Three graduated, two withdrew: 3 / 5 = 60.0 = the retention threshold: meets. 59.9 would not.
        for _ in range(3):
            enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2023-12-10")
        for _ in range(2):
            enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-05-01")
        retention = figure(program, "retention", 2023)
        assert (retention.rate, retention.threshold, retention.meets_threshold) == (Decimal(60), Decimal(60), True)
        below = Figure("P", "maerb", "retention", 2023, 599, 1000, Decimal(60))
        assert (below.rate, below.meets_threshold) == (Decimal("59.9"), False)

    def test_editing_the_threshold_changes_the_flag(self, program):
        for _ in range(3):
            enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2023-12-10")
        for _ in range(2):
            enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-05-01")
        OutcomeMeasure.objects.filter(accreditor="maerb", key="retention").update(threshold_percent=Decimal("60.5"))
        retention = figure(program, "retention", 2023)
        assert (retention.threshold, retention.meets_threshold) == (Decimal("60.5"), False)
        OutcomeMeasure.objects.filter(accreditor="maerb", key="retention").update(threshold_percent=None)
        assert figure(program, "retention", 2023).meets_threshold is None

    def test_a_half_way_rate_from_the_rows_rounds_up(self, program):
        # 16 graduates of 2024, one of whom sat the CMA: participation = 1 / 16 = 6.25 % → 6.3 (half up; the
        # banker's rounding of Python's round() would give 6.2). Below the threshold of 30.
        graduates = [graduate(program, "2024-05-20") for _ in range(16)]
        sit(graduates[0], "CMA", "2024-06-10", PASS)
        participation = figure(program, "credentialing_exam_participation", 2024)
        assert counts(participation) == (1, 16, Decimal("6.3"))
        assert participation.meets_threshold is False

    def test_rates_round_half_up_to_one_decimal(self):
        assert Figure("P", "maerb", "retention", 2023, 1, 16, None).rate == Decimal("6.3")  # 6.25
        assert Figure("P", "maerb", "retention", 2023, 1, 8, None).rate == Decimal("12.5")
        assert Figure("P", "maerb", "retention", 2023, 0, 0, None).rate is None


class TestStandings:
    """How each measure stands against its threshold: read off the figures the report shows."""

    def verdicts(self, program: Program, accreditor: str | None = None) -> dict[str, str]:
        report = outcome_report(program, accreditor, today=TODAY)
        return {standing.measure.key: standing.verdict for standing in report.standings()}

    def test_a_measure_meets_when_every_figure_with_a_rate_meets(self, program):
        # Admitted 2023, both through the trigger course, both graduated 2024, placed and passed the CMA:
        # every measure 2 / 2 in its year and its average. Retention 2024 (nobody admitted) is 0 / 0 and
        # holds nothing against the threshold.
        for _ in range(2):
            enrollment = enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2024-05-20")
            JobPlacementFactory(enrollment=enrollment, status=PlacementStatus.IN_FIELD)
            sit(enrollment, "CMA", "2024-06-10", PASS)
        report = outcome_report(program, today=TODAY)
        assert {standing.verdict for standing in report.standings()} == {Standing.MEETS}
        retention = next(standing for standing in report.standings() if standing.measure.key == "retention")
        assert (retention.compared, retention.below) == (2, [])  # 2023 and the average; 2024 has no rate

    def test_a_measure_with_one_figure_below_is_below_and_names_it(self, program):
        # Placement: 2023 1 / 1 (meets), 2024 0 / 2 (below); the average 1 / 3 = 33.3 (below).
        graduate(program, "2023-05-20", PlacementStatus.IN_FIELD)
        graduate(program, "2024-05-20", PlacementStatus.NOT_EMPLOYED)
        graduate(program, "2024-05-20")
        report = outcome_report(program, today=TODAY)
        placement = next(standing for standing in report.standings() if standing.measure.key == "job_placement")
        assert placement.verdict == Standing.BELOW
        assert [(figure.year, figure.rate) for figure in placement.below] == [
            (2024, Decimal("0.0")),
            (None, Decimal("33.3")),
        ]

    def test_a_measure_with_nobody_in_its_base_has_no_result_never_meets(self, program):
        # Two graduates of 2024, neither sat an exam: participation 0 / 2 is below, passage 0 / 0 has no rate.
        graduate(program, "2024-05-20", PlacementStatus.IN_FIELD)
        graduate(program, "2024-05-20", PlacementStatus.IN_FIELD)
        verdicts = self.verdicts(program)
        assert verdicts["credentialing_exam_participation"] == Standing.BELOW
        assert verdicts["credentialing_exam_passage"] == Standing.NO_RESULT

    def test_a_year_still_in_progress_is_no_result(self, program):
        # Admitted in 2025, through the trigger course, still enrolled: retention 2025 is in progress.
        enroll(program, "2025-01-09", trigger="2025-03-01", expected="2026-05-15")
        report = outcome_report(program, today=TODAY)
        retention = next(standing for standing in report.standings() if standing.measure.key == "retention")
        assert retention.verdict == Standing.NO_RESULT
        assert [figure.year for figure in retention.in_progress] == [2025]
        assert set(self.verdicts(program).values()) == {Standing.NO_RESULT}

    def test_a_measure_without_a_threshold_is_not_held_against_one(self, program):
        graduate(program, "2024-05-20", PlacementStatus.NOT_EMPLOYED)
        OutcomeMeasure.objects.filter(accreditor="maerb", key="job_placement").update(threshold_percent=None)
        assert self.verdicts(program)["job_placement"] == Standing.NO_THRESHOLD

    def test_abhes_measures_stand_on_their_report_years(self, abhes_program):
        # A graduate of June 2024 (report year 2024) placed in the field: placement 1 / 1 meets.
        graduate(abhes_program, "2024-06-20", PlacementStatus.IN_FIELD)
        assert self.verdicts(abhes_program)["placement"] == Standing.MEETS


class TestPassRates:
    def test_first_attempt_and_eventual_pass_rates_by_graduation_year_and_cohort(self, program):
        # CMA, graduates of 2024: one passed at once, one failed then passed, one failed only; a student not yet
        # graduated missed a booking (not a sitting) and then failed.
        # Year 2024: taken 3, first 1 (33.3), eventually 2 (66.7). Not graduated: taken 1, passed 0.
        at_once, retaker, failer = (graduate(program, "2024-05-20") for _ in range(3))
        sit(at_once, "CMA", "2024-06-10", PASS)
        sit(retaker, "CMA", "2024-06-10", FAIL)
        sit(retaker, "CMA", "2024-08-10", PASS)
        sit(failer, "CMA", "2024-06-10", FAIL)
        current = enroll(program, "2024-09-01")
        sit(current, "CMA", "2025-01-10", NO_SHOW)
        sit(current, "CMA", "2025-02-10", FAIL)

        rates = {(rate.track_code, rate.group, rate.key): rate for rate in pass_rates(program)}
        year = rates[("CMA", "year", "2024")]
        assert (year.taken, year.passed_first, year.passed_eventually) == (3, 1, 2)
        assert (year.first_rate, year.eventual_rate) == (Decimal("33.3"), Decimal("66.7"))
        not_graduated = rates[("CMA", "year", "")]
        assert (not_graduated.label, not_graduated.taken, not_graduated.passed_eventually) == ("—", 1, 0)
        cohort = rates[("CMA", "cohort", retaker.cohort.code)]
        assert (cohort.taken, cohort.passed_first, cohort.passed_eventually) == (1, 0, 1)
        # Every offered track appears, with nothing taken where no one sat it.
        rma = rates[("RMA", "year", "2024")]
        assert (rma.taken, rma.first_rate) == (0, None)
        assert set(pass_rate_students(program, "CMA", "year", "2024", "passed_first")) == {at_once}
        assert set(pass_rate_students(program, "CMA", "year", "2024", "passed_eventually")) == {at_once, retaker}
        assert set(pass_rate_students(program, "CMA", "year", "", "taken")) == {current}

    def test_the_lists_behind_every_pass_rate_hold_its_counts(self, program):
        mixed_cohort(program)
        for rate in pass_rates(program):
            for part in ("taken", "passed_first", "passed_eventually"):
                listed = pass_rate_students(program, rate.track_code, rate.group, rate.key, part).count()
                assert listed == getattr(rate, part), (rate, part)

    def test_an_unknown_group_or_part_is_refused(self, program):
        with pytest.raises(ValueError, match="group"):
            pass_rate_students(program, "CMA", "month", "2024", "taken")
        with pytest.raises(ValueError, match="part"):
            pass_rate_students(program, "CMA", "year", "2024", "failed")
        with pytest.raises(ValueError, match="year"):
            pass_rate_students(program, "CMA", "year", "last", "taken")


def mixed_cohort(program: Program, scale: int = 1) -> None:
    """Every kind of student, `scale` times over, across several years and both sides of July 1."""
    for index in range(scale):
        offset = index % 3  # spread the days a little; the years stay the same
        for year in (2021, 2022, 2023):
            admitted = f"{year}-01-0{5 + offset}"
            enroll(program, admitted, withdrawn=f"{year}-02-2{offset}")  # before the trigger course
            enroll(program, admitted, trigger=f"{year}-03-01", withdrawn=f"{year}-08-1{offset}")  # after it
            enroll(program, admitted, trigger=f"{year}-03-01")  # still enrolled
            returner = enroll(program, f"{year}-05-01", trigger=f"{year}-05-20", withdrawn=f"{year}-06-1{offset}")
            enroll(program, f"{year}-09-01", trigger=f"{year}-10-01", student=returner.student)  # re-entry
            statuses = [*PlacementStatus.values, None]
            for position, status in enumerate(statuses):
                month = "06-30" if position % 2 else "07-01"
                alumnus = enroll(
                    program, admitted, trigger=f"{year}-03-01", graduated=f"{year + 1}-{month}", student=None
                )
                if status:
                    reason = "Moved abroad" if status == PlacementStatus.UNAVAILABLE else ""
                    JobPlacementFactory(enrollment=alumnus, status=status, unavailable_reason=reason)
                codes = ("CMA", "RMA", "CCMA", "CMAA", "NCMA", "CMA")
                code = codes[position % len(codes)]
                if position == 0:
                    sit(alumnus, code, f"{year + 1}-08-01", FAIL)
                    sit(alumnus, code, f"{year + 1}-10-01", PASS)
                elif position in (1, 3):
                    sit(alumnus, code, f"{year + 1}-08-01", PASS)
                elif position == 2:
                    sit(alumnus, code, f"{year + 1}-08-01", FAIL)
                elif position == 4:
                    sit(alumnus, code, f"{year + 1}-08-01", NO_SHOW)


@pytest.mark.parametrize("accreditor", ["maerb", "abhes"])
def test_the_students_behind_every_figure_are_exactly_its_count(program, accreditor):
    mixed_cohort(program)
    # A day inside the last year with data, so that ABHES too has a report year in progress.
    today = date(2025, 3, 1)
    report = outcome_report(program, accreditor, today=today)
    assert report.years
    assert any(not found.final and found.enrolled for found in report.figures)  # the lists of enrolled, too
    checked = 0
    for found in report.figures:
        for part, expected in (
            ("numerator", found.numerator),
            ("denominator", found.denominator),
            *(
                (("excluded", found.excluded), ("unavailable", found.unavailable))
                if found.measure in ("job_placement", "placement")
                else ()
            ),
            *((("enrolled", found.enrolled),) if not found.final else ()),
            *found.terms,
        ):
            listed = students_behind(program, accreditor, found.measure, found.year, part, today=today)
            assert listed.count() == expected, (found.measure, found.year_label, part)
            checked += expected
    assert checked > 100


def test_an_unknown_measure_or_part_is_refused(program):
    with pytest.raises(ValueError, match="measure"):
        students_behind(program, "maerb", "graduate_survey", 2024, "numerator")
    with pytest.raises(ValueError, match="part"):
        students_behind(program, "maerb", "retention", 2024, "everyone")
    with pytest.raises(ValueError, match="excludes no one"):
        students_behind(program, "maerb", "retention", 2024, "excluded")
    with pytest.raises(ValueError, match="counts no placement"):
        students_behind(program, "maerb", "retention", 2024, "unavailable")
    with pytest.raises(ValueError, match="accreditor"):
        students_behind(program, "caahep-ish", "retention", 2024, "numerator")
    with pytest.raises(ValueError, match="5-year"):
        students_behind(program, "abhes", "retention", None, "numerator")


def test_the_report_and_pass_rates_cost_the_same_queries_at_five_times_the_students(program):
    other = ProgramFactory()

    def queries() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as maerb:
            outcome_report(program)
        with CaptureQueriesContext(connection) as abhes:
            outcome_report(program, "abhes")
        with CaptureQueriesContext(connection) as rates:
            pass_rates(program)
        return len(maerb), len(abhes), len(rates)

    mixed_cohort(program)
    mixed_cohort(other)  # another program's students change nothing
    at_once = queries()
    before = outcome_report(program).figure("retention", 2022)
    mixed_cohort(program, scale=4)
    assert queries() == at_once == (2, 2, 2)
    after = outcome_report(program).figure("retention", 2022)
    assert before is not None and after is not None
    assert (after.numerator, after.denominator) == (5 * before.numerator, 5 * before.denominator)
