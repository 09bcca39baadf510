"""The certification part of the demo `make run` shows: five years of graduates whose exams, credentials
and jobs give the outcome reports trends to show, the demo student aiming at the CMA with her exam
booked, and nothing doubled by a second seed."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import User
from certifications import demo as certifications_demo
from certifications.models import Credential, ExamAttempt, JobPlacement, PlacementStatus, TargetTrack
from certifications.outcomes import outcome_report, pass_rates
from curriculum.models import Cohort, Enrollment, Program

STUDENT = "student@demo.checkoff.test"


@pytest.fixture
def program(demo_for_module, db, settings) -> Program:
    settings.DEBUG = True
    return Program.objects.get(code="MA-DIPLOMA")


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Cohort, Enrollment, TargetTrack, ExamAttempt, Credential, JobPlacement)
    }


def test_the_demo_reports_five_graduation_years_with_trends(program):
    report = outcome_report(program)
    placement = [
        figure for figure in report.figures if figure.measure == "job_placement" and figure.year and figure.denominator
    ]
    years = [figure.year for figure in placement]
    assert len(years) == 5 and years == list(range(years[0], years[0] + 5))
    # One year's placement below MAERB's threshold, the others above it.
    assert [figure.meets_threshold for figure in placement].count(False) == 1
    assert all(figure.threshold is not None for figure in placement)
    # The 5-year weighted average pools the demo's classes whose year is over (the latest class graduated
    # about two months ago: its year is over only in January and February).
    final = [figure for figure in placement if figure.final]
    assert len(final) in (4, 5) and final == placement[: len(final)]
    average = report.figure("job_placement", None)
    assert average is not None
    assert (average.numerator, average.denominator) == (
        sum(figure.numerator for figure in final),
        sum(figure.denominator for figure in final),
    )
    # The current cohorts make their admission years in progress, each with its students still enrolled.
    in_progress = [figure for figure in report.figures if figure.measure == "retention" and not figure.final]
    assert in_progress and all(figure.enrolled > 0 for figure in in_progress)
    for measure in ("credentialing_exam_participation", "credentialing_exam_passage"):
        for year in years:
            figure = report.figure(measure, year)
            assert figure is not None and 0 < figure.numerator <= figure.denominator, (measure, year)
    # Retention by admission year: students left both before the trigger course (not in the
    # cohort) and after it (counted against retention).
    retention = [report.figure("retention", year) for year in report.years]
    assert sum(1 for figure in retention if figure and figure.numerator < figure.denominator) >= 5
    alumni = Enrollment.objects.filter(cohort__program=program, cohort__code__endswith="-DAY")
    assert alumni.filter(withdrawn_on__isnull=False, trigger_course_completed_on__isnull=True).exists()
    assert alumni.filter(withdrawn_on__isnull=False, trigger_course_completed_on__isnull=False).exists()
    # Someone left and came back the next year (an ABHES re-entry).
    assert alumni.values("student").annotate(classes=Count("pk")).filter(classes=2).exists()
    abhes = outcome_report(program, "abhes")
    assert any(figure.denominator for figure in abhes.figures if figure.measure == "placement")

    # First-attempt pass rates improve: the latest year's beats the oldest's, across the tracks.
    first: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    for rate in pass_rates(program):
        if rate.group == "year" and rate.key:
            first[rate.key] += rate.passed_first
            taken[rate.key] += rate.taken
    oldest, latest = str(years[0]), str(years[-1])
    assert first[latest] / taken[latest] > first[oldest] / taken[oldest]


def test_the_demo_has_exams_credentials_and_jobs_of_every_kind(program):
    attempts = ExamAttempt.objects.filter(track__program=program)
    assert Counter(attempts.values_list("track__code", flat=True)).keys() >= {"CMA", "CCMA", "RMA", "CMAA"}
    assert set(attempts.values_list("result", flat=True)) == {"", *ExamAttempt.Result.values}
    assert set(attempts.values_list("source", flat=True)) == set(ExamAttempt.Source.values)
    # Failed, waited, passed; and failed three times.
    fails = Counter(attempts.filter(result="fail").values_list("enrollment", "track"))
    assert 3 in fails.values()
    assert attempts.filter(result="pass", enrollment__exam_attempts__result="fail").exists()
    # Every pass issued its credential, nearly all with the awarding body's number.
    passes = attempts.filter(result="pass")
    assert Credential.objects.filter(exam_attempt__in=passes).count() == passes.count()
    assert Credential.objects.exclude(number="").count() > 0.85 * passes.count()
    # Job placement in every status; the unavailable say why.
    placements = JobPlacement.objects.filter(enrollment__cohort__program=program)
    assert set(placements.values_list("status", flat=True)) == set(PlacementStatus.values)
    assert not placements.filter(status=PlacementStatus.UNAVAILABLE, unavailable_reason="").exists()
    assert not placements.filter(status=PlacementStatus.IN_FIELD, employer="").exists()

    # The demo student aims at the CMA and has her exam booked.
    maya = Enrollment.objects.get(student__email=STUDENT)
    assert maya.target_track.track.code == "CMA"
    booking = ExamAttempt.objects.get(enrollment=maya)
    assert booking.is_booked and booking.track.code == "CMA" and booking.scheduled_on > program.today()
    assert booking.location


def test_seeding_again_adds_nothing(program):
    before = counts()
    call_command("seed_demo")
    assert counts() == before
    # The receiver itself also stands down when the program has its graduates already.
    cohorts = list(program.cohorts.order_by("start_on"))
    certifications_demo.seed_demo_certifications(
        sender=None,
        program=program,
        cohorts=cohorts,
        director=User.objects.get(email="director@demo.checkoff.test"),
        coordinator=User.objects.get(email="coordinator@demo.checkoff.test"),
        student=User.objects.get(email=STUDENT),
        password="!",
        domain="demo.checkoff.test",
    )
    assert counts() == before
