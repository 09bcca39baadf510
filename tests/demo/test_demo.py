"""The demo `make run` shows, seeded once for the module: believable, signed for real; five years of
graduates whose exams, credentials and jobs give the outcome reports trends; an externship in every
state; reminders planned from its data and delivered to the demo mailbox; nothing doubled by a second
seed. (That it is never made outside DEBUG: tests/curriculum/test_seed_demo.py.)"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from certifications import demo as certifications_demo
from certifications.models import Credential, ExamAttempt, JobPlacement, PlacementStatus, TargetTrack
from certifications.outcomes import outcome_report, pass_rates
from curriculum.models import Attempt, ChecklistStep, Cohort, Enrollment, Program, Revocation, Signature
from externships import readiness
from externships.models import ComplianceRecord, Evaluation, HoursEntry, Kind, Placement, Preceptor, Site
from externships.services import compliance, hours, placements
from notifications import planner
from notifications.mail import kept_messages
from notifications.models import Message, Notification

PRECEPTOR = "preceptor@demo.checkoff.test"
STUDENT = "student@demo.checkoff.test"


@pytest.fixture
def program(seeded_demo, db, settings) -> Program:
    settings.DEBUG = True
    return Program.objects.get(code="MA-DIPLOMA")


@pytest.fixture
def mailbox(program, settings, tmp_path) -> Program:
    settings.EMAIL_BACKEND = "notifications.mail.DemoMailboxBackend"
    settings.DEMO_MAILBOX_DIR = tmp_path / "mail"
    return program


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Cohort,
            Enrollment,
            Attempt,
            Signature,
            TargetTrack,
            ExamAttempt,
            Credential,
            JobPlacement,
            Site,
            Preceptor,
            Placement,
            HoursEntry,
            ComplianceRecord,
            Evaluation,
            Message,
        )
    }


def test_the_demo_is_worth_looking_at(program):
    for who in ("director", "coordinator", "instructor", "student", "preceptor"):
        person = User.objects.get(email=f"{who}@demo.checkoff.test")
        assert person.check_password("checkoff-demo")
    assert program.framework.code == "MAERB-2022"
    assert ChecklistStep.objects.filter(program=program).exists()
    for cohort in program.cohorts.all():
        assert Enrollment.objects.filter(cohort=cohort).count() > 25  # the roster paginates
    assert Attempt.objects.filter(passed=False).exists()
    assert Revocation.objects.count() == 1
    assert all(signature.is_intact() for signature in Signature.objects.select_related("attempt")[:50])


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


def test_the_demo_has_an_externship_in_every_state(client, program):
    # The demo preceptor: a person at the main site who may also sign in with the demo password.
    grace = User.objects.get(email=PRECEPTOR)
    assert grace.check_password("checkoff-demo")
    assert EmailAddress.objects.filter(user=grace, email=PRECEPTOR, verified=True, primary=True).exists()
    preceptorship = Preceptor.objects.select_related("site").get(user=grace)
    main = preceptorship.site
    today = main.program.today()
    assert main.address and main.phone and main.specialties and main.capacity >= 2
    assert main.agreement_expires_on >= today + timedelta(days=700)
    assert Site.objects.filter(
        program=main.program, agreement_expires_on__gte=today, agreement_expires_on__lte=today + timedelta(days=60)
    ).exists()
    response = client.post(reverse("account_login"), {"login": PRECEPTOR, "password": "checkoff-demo"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(grace.pk)
    assert "Johnson" in client.get(reverse("home")).content.decode()  # Maya, placed with her

    # Placements in every state; the demo student's is active, with the demo preceptor, through the gate.
    assert set(Placement.objects.values_list("state", flat=True)) == set(Placement.State.values)
    active = Placement.objects.select_related("enrollment__cohort__program", "site").get(
        enrollment__student__email=STUDENT
    )
    assert active.state == Placement.State.ACTIVE and active.activated_at is not None
    assert active.preceptor == preceptorship
    assert readiness.placement_problems(active) == []
    monday = today - timedelta(days=today.weekday())
    approved = active.hours.filter(state=HoursEntry.State.APPROVED)
    waiting = active.hours.filter(state=HoursEntry.State.SUBMITTED)
    assert approved.exists() and all(entry.reviewed_by_id == grace.pk for entry in approved)
    assert waiting.filter(work_date__gte=monday - timedelta(days=7), work_date__lt=monday).exists()
    assert not active.hours.filter(work_date__gte=today).exists()
    assert active.hours.filter(state=HoursEntry.State.RETURNED).exclude(return_reason="").exists()
    midpoint = Evaluation.objects.get(placement=active, kind=Kind.MIDPOINT)
    assert midpoint.evaluator == grace and midpoint.is_intact()

    completed = Placement.objects.get(state=Placement.State.COMPLETED)
    assert hours.approved_hours(completed) >= completed.required_hours
    assert placements.completion_problems(completed) == []
    assert readiness.missing_competencies(completed.enrollment) == []
    planned = Placement.objects.get(state=Placement.State.PLANNED)
    assert readiness.placement_problems(planned), "the gate has something to say about the planned one"
    assert Placement.objects.get(state=Placement.State.WITHDRAWN).withdrawal_reason

    # Documents in every review state, one approved but lapsing before its placement ends, all real files.
    assert set(ComplianceRecord.objects.values_list("state", flat=True)) == set(ComplianceRecord.State.values)
    assert not ComplianceRecord.objects.filter(state=ComplianceRecord.State.REJECTED, rejection_reason="").exists()
    assert ComplianceRecord.objects.filter(
        state=ComplianceRecord.State.APPROVED, student=planned.enrollment.student, expires_on__lt=planned.end_on
    ).exists()
    for record in ComplianceRecord.objects.all():
        with record.document.open("rb") as document:
            kind = compliance.sniff(document.read(16))
        assert kind is not None and kind[0] == record.document_type and record.document.name.endswith(kind[1])


@pytest.mark.parametrize("hour", [0, 8, 10, 23])
def test_an_exam_reminder_is_due_at_whatever_hour_the_demo_starts(mailbox, hour):
    """The demo books first sittings in 6 and 7 days: before 9:00 the first one's 7-day reminder (yesterday
    at 9:00) is due, from 9:00 the second one's (today at 9:00)."""
    now = datetime.combine(mailbox.today(), time(hour), tzinfo=mailbox.zone)
    planner.plan(now=now)
    assert Message.objects.filter(kind="exam_upcoming", occasion__endswith="/7", due_at__lte=now).exists()


def test_the_demos_reminders_reach_the_mailbox_and_the_app(mailbox, capsys):
    planner.plan()
    due = Message.objects.filter(kind="exam_upcoming", due_at__lte=timezone.now())
    assert due.exists()
    call_command("send_outbox")
    assert "settled" in capsys.readouterr().out
    assert not Message.objects.filter(pk__in=due.values("pk")).exclude(state=Message.State.SENT).exists()
    subjects = [message.subject for message in kept_messages()]
    assert any("exam is in 7 days" in subject for subject in subjects)
    assert Notification.objects.filter(kind="exam_upcoming").exists()


def test_planning_the_demo_twice_plans_nothing_new(mailbox):
    planner.plan()
    assert planner.plan().planned == 0


def test_seeding_again_adds_nothing(program):
    before = counts()
    call_command("seed_demo", "--if-empty")
    call_command("seed_demo")
    assert counts() == before
    assert Program.objects.count() == 1
    # The certification receiver itself also stands down when the program has its graduates already.
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
