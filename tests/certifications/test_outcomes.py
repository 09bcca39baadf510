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
    outcome_report,
    pass_rate_students,
    pass_rates,
    students_behind,
)
from curriculum.models import Accreditor, Enrollment, Program
from tests.certification_factories import ExamAttemptFactory, JobPlacementFactory, track
from tests.factories import CohortFactory, EnrollmentFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

PASS, FAIL, NO_SHOW = ExamAttempt.Result.PASS, ExamAttempt.Result.FAIL, ExamAttempt.Result.NO_SHOW


def day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def enroll(
    program: Program,
    admitted: str,
    *,
    trigger: str | None = None,
    withdrawn: str | None = None,
    graduated: str | None = None,
    student=None,
) -> Enrollment:
    """An enrollment in a cohort of its own (so one student may re-enter), with the dates given."""
    return EnrollmentFactory.create(
        cohort=CohortFactory(program=program),
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


def figure(program: Program, measure: str, year: int | None) -> Figure:
    found = outcome_report(program).figure(measure, year)
    assert found is not None, (measure, year)
    return found


def counts(found: Figure) -> tuple[int, int, Decimal | None]:
    return found.numerator, found.denominator, found.rate


class TestMaerb:
    def test_retention_counts_only_those_who_completed_the_trigger_course(self, program):
        # Admitted in 2023:
        #   kept:     trigger done, graduated                   → in the cohort, retained
        #   active:   trigger done, still enrolled              → in the cohort, retained
        #   dropped:  trigger done, withdrew after it           → in the cohort, a drop
        #   early:    withdrew before completing the trigger    → not in the cohort at all
        # Retention 2023 = 2 / 3 = 66.666… → 66.7 (threshold 60: meets).
        kept = enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2023-12-15")
        active = enroll(program, "2023-01-09", trigger="2023-03-01")
        dropped = enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-06-01")
        enroll(program, "2023-01-09", withdrawn="2023-02-01")

        retention = figure(program, "retention", 2023)
        assert counts(retention) == (2, 3, Decimal("66.7"))
        assert retention.meets_threshold is True
        assert set(students_behind(program, "maerb", "retention", 2023, "numerator")) == {kept, active}
        assert set(students_behind(program, "maerb", "retention", 2023, "denominator")) == {kept, active, dropped}

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
        enroll(program, "2022-01-10", trigger="2022-03-01")

        report = outcome_report(program)
        assert report.average_years("job_placement") == [2016, 2017, 2018, 2019, 2020]
        assert report.average_years("retention")[-1] == 2022
        average = report.figure("job_placement", None)
        assert average is not None
        assert (average.numerator, average.denominator, average.rate) == (1, 2, Decimal("50.0"))
        assert students_behind(program, "maerb", "job_placement", None, "denominator").count() == 2

    def test_the_five_year_average_pools_numerators_and_denominators(self, program):
        # Retention by admission year (everyone completed the trigger course):
        #   2015: 1 / 1            (outside the window: the latest year is 2021, so 2017–2021)
        #   2020: 1 / 1 = 100.0
        #   2021: 1 / 4 =  25.0
        # Weighted: (1 + 1) / (1 + 4) = 2 / 5 = 40.0, below 60; the mean of the rates, 62.5, would meet it.
        enroll(program, "2015-01-05", trigger="2015-03-01")
        enroll(program, "2020-01-06", trigger="2020-03-01")
        enroll(program, "2021-01-04", trigger="2021-03-01")
        for _ in range(3):
            enroll(program, "2021-01-04", trigger="2021-03-01", withdrawn="2021-05-01")

        report = outcome_report(program)
        assert report.years == [2015, 2020, 2021]
        assert report.average_years("retention") == [2017, 2018, 2019, 2020, 2021]
        average = report.figure("retention", None)
        assert average is not None
        assert (average.numerator, average.denominator, average.rate, average.year_label) == (2, 5, Decimal(40), "5yr")
        assert average.meets_threshold is False
        assert students_behind(program, "maerb", "retention", None, "denominator").count() == 5
        # Years with no data count as 0/0: a figure with no rate and no flag.
        empty = report.figure("job_placement", 2021)
        assert empty is not None
        assert (empty.rate, empty.meets_threshold) == (None, None)

    def test_each_measure_lists_its_figures_by_year_with_the_average_last(self, program):
        enroll(program, "2023-01-09", trigger="2023-03-01", graduated="2024-01-10")
        report = outcome_report(program)
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


class TestAbhes:
    def test_the_report_year_runs_july_to_june(self, abhes_program):
        # Graduated 2025-06-30: report year 2025 (2024-07-01 to 2025-06-30); 2025-07-01: report year 2026.
        graduate(abhes_program, "2025-06-30", PlacementStatus.IN_FIELD)
        graduate(abhes_program, "2025-07-01", PlacementStatus.NOT_EMPLOYED)

        assert counts(figure(abhes_program, "placement", 2025)) == (1, 1, Decimal(100))
        assert counts(figure(abhes_program, "placement", 2026)) == (0, 1, Decimal(0))

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
        report = outcome_report(program)
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
        report = outcome_report(program, "abhes")
        assert report.accreditor == "abhes"
        placement = report.figure("placement", 2025)
        assert placement is not None
        assert (placement.denominator, placement.excluded) == (0, 1)


class TestThresholds:
    def test_exactly_at_the_threshold_meets_it_and_below_does_not(self, program):
        # 3 / 5 = 60.0 = the retention threshold: meets. A program at 59.9 would not.
        for _ in range(3):
            enroll(program, "2023-01-09", trigger="2023-03-01")
        for _ in range(2):
            enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-05-01")
        retention = figure(program, "retention", 2023)
        assert (retention.rate, retention.threshold, retention.meets_threshold) == (Decimal(60), Decimal(60), True)
        below = Figure("P", "maerb", "retention", 2023, 599, 1000, Decimal(60))
        assert (below.rate, below.meets_threshold) == (Decimal("59.9"), False)

    def test_editing_the_threshold_changes_the_flag(self, program):
        for _ in range(3):
            enroll(program, "2023-01-09", trigger="2023-03-01")
        for _ in range(2):
            enroll(program, "2023-01-09", trigger="2023-03-01", withdrawn="2023-05-01")
        OutcomeMeasure.objects.filter(accreditor="maerb", key="retention").update(threshold_percent=Decimal("60.5"))
        retention = figure(program, "retention", 2023)
        assert (retention.threshold, retention.meets_threshold) == (Decimal("60.5"), False)
        OutcomeMeasure.objects.filter(accreditor="maerb", key="retention").update(threshold_percent=None)
        assert figure(program, "retention", 2023).meets_threshold is None

    def test_rates_round_half_up_to_one_decimal(self):
        assert Figure("P", "maerb", "retention", 2023, 1, 16, None).rate == Decimal("6.3")  # 6.25
        assert Figure("P", "maerb", "retention", 2023, 1, 8, None).rate == Decimal("12.5")
        assert Figure("P", "maerb", "retention", 2023, 0, 0, None).rate is None


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
                code = ("CMA", "RMA", "CCMA", "CMAA", "NCMA", "CMA")[position]
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
    report = outcome_report(program, accreditor)
    assert report.years
    checked = 0
    for found in report.figures:
        for part, expected in (
            ("numerator", found.numerator),
            ("denominator", found.denominator),
            *((("excluded", found.excluded),) if found.measure in ("job_placement", "placement") else ()),
            *found.terms,
        ):
            listed = students_behind(program, accreditor, found.measure, found.year, part)
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
