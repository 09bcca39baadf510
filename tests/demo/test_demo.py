"""The demo `make run` shows, seeded once for the module: believable, signed for real; five years of
graduates whose exams, credentials and jobs give the outcome reports trends; an externship in every
state; a timeline a school would recognise (an early cohort, one in its final term on externship, the
graduates), with nothing out of order; reminders planned from its data and delivered to the demo
mailbox; nothing doubled by a second seed. (That it is never made outside DEBUG, and the helpers the
seed writes its history with: tests/curriculum/test_seed_demo.py.)"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db.models import Count, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts import chains
from accounts.models import AccessLog, User
from certifications import demo as certifications_demo
from certifications import eligibility
from certifications.models import Credential, ExamAttempt, JobPlacement, PlacementStatus, TargetTrack
from certifications.outcomes import outcome_report, pass_rates
from curriculum import progress
from curriculum.management.commands.seed_demo import externship_term_starts_on
from curriculum.models import (
    Assignment,
    Attempt,
    ChecklistStep,
    Cohort,
    CourseOffering,
    Enrollment,
    Grade,
    Program,
    Revocation,
    Signature,
)
from externships import readiness
from externships.models import ComplianceRecord, Evaluation, HoursEntry, Kind, Placement, Preceptor, Site
from externships.services import compliance, hours, placements
from notifications import planner
from notifications.mail import kept_messages
from notifications.models import Message, Notification

pytestmark = pytest.mark.xdist_group("demo")

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

    # The class about to finish has bookings after its expected graduation. The demo student, months
    # from finishing, aims at the CMA with nothing to book yet.
    final_term = ExamAttempt.objects.filter(enrollment__cohort__in=current_cohorts(program), result="")
    assert final_term.exists() and all(booking.location for booking in final_term)
    maya = Enrollment.objects.get(student__email=STUDENT)
    assert maya.target_track.track.code == "CMA"
    assert not ExamAttempt.objects.filter(enrollment=maya).exists()


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
    home = client.get(reverse("home")).content.decode()
    supervised = Placement.objects.filter(preceptor=preceptorship, state__in=("planned", "active"))
    assert supervised.count() >= 3
    assert all(placement.enrollment.student.last_name in home for placement in supervised)

    # Placements in every state; on any day, no site has more students than it takes (the most are
    # there on the day one of them starts).
    assert set(Placement.objects.values_list("state", flat=True)) == set(Placement.State.values)
    for site in Site.objects.all():
        open_placements = site.placements.filter(state__in=("planned", "active"))
        for placement in open_placements:
            there = open_placements.filter(start_on__lte=placement.start_on, end_on__gte=placement.start_on)
            assert there.count() <= site.capacity, (site.name, placement.start_on)

    # Grace's students on externship: started through the gate, hours approved up to the week before
    # last, last week's waiting (one returned), nothing logged for today or later, a midpoint signed.
    monday = today - timedelta(days=today.weekday())
    active = list(Placement.objects.filter(preceptor=preceptorship, state=Placement.State.ACTIVE))
    assert len(active) == 3
    for placement in active:
        assert placement.activated_at is not None and readiness.placement_problems(placement) == []
        approved = placement.hours.filter(state=HoursEntry.State.APPROVED)
        assert approved.exists() and all(entry.reviewed_by_id == grace.pk for entry in approved)
        assert placement.hours.filter(state=HoursEntry.State.SUBMITTED, work_date__lt=monday).exists()
        assert not placement.hours.filter(work_date__gte=today).exists()
    assert HoursEntry.objects.filter(placement__in=active, state=HoursEntry.State.RETURNED).exclude(return_reason="")
    midpoints = Evaluation.objects.filter(placement__in=active, kind=Kind.MIDPOINT)
    assert midpoints and all(midpoint.evaluator == grace and midpoint.is_intact() for midpoint in midpoints)
    # An evaluation is due: one ended without its final, another is past half-way without its midpoint.
    ended = Placement.objects.filter(state=Placement.State.ACTIVE, end_on__lt=today)
    assert ended.exists() and not Evaluation.objects.filter(placement__in=ended, kind=Kind.FINAL).exists()
    assert any(
        placement.start_on + (placement.end_on - placement.start_on) / 2 <= today + timedelta(days=6)
        and not placement.evaluations.filter(kind=Kind.MIDPOINT).exists()
        for placement in Placement.objects.filter(state=Placement.State.ACTIVE)
    )

    completed = Placement.objects.filter(state=Placement.State.COMPLETED)
    assert completed.count() >= 2
    for placement in completed:
        assert hours.approved_hours(placement) >= placement.required_hours
        assert placements.completion_problems(placement) == []
        assert readiness.missing_competencies(placement.enrollment) == []
        assert placement.evaluations.filter(kind=Kind.SITE).exists()
    planned = Placement.objects.filter(state=Placement.State.PLANNED)
    refused = [placement for placement in planned if len(readiness.placement_problems(placement)) > 3]
    assert len(refused) == 1, "one student the gate still stops: competencies, documents, the agreement"
    assert any(problem.startswith("Competency not achieved") for problem in readiness.placement_problems(refused[0]))
    assert any(readiness.placement_problems(placement) == [] for placement in planned), "and some ready to go"
    assert Placement.objects.get(state=Placement.State.WITHDRAWN).withdrawal_reason

    # Documents in every review state, one approved but lapsing before its placement ends, all real files.
    assert set(ComplianceRecord.objects.values_list("state", flat=True)) == set(ComplianceRecord.State.values)
    assert not ComplianceRecord.objects.filter(state=ComplianceRecord.State.REJECTED, rejection_reason="").exists()
    assert ComplianceRecord.objects.filter(
        state=ComplianceRecord.State.APPROVED, student=refused[0].enrollment.student, expires_on__lt=refused[0].end_on
    ).exists()
    for record in ComplianceRecord.objects.all():
        with record.document.open("rb") as document:
            kind = compliance.sniff(document.read(16))
        assert kind is not None and kind[0] == record.document_type and record.document.name.endswith(kind[1])


# --- The timeline -------------------------------------------------------------------------------


def current_cohorts(program: Program) -> list[Cohort]:
    """The day cohort in its final term, then the evening cohort early in its program."""
    return list(program.cohorts.filter(enrollments__in=Enrollment.objects.current()).distinct().order_by("start_on"))


def local_day(program: Program, moment: datetime) -> date:
    return moment.astimezone(program.zone).date()


def test_the_demo_shows_an_early_cohort_one_on_externship_and_its_graduates(program):
    today = program.today()
    competencies = list(progress.tracked_competencies(program).values_list("pk", flat=True))
    final_term, early = current_cohorts(program)

    # The day cohort is in its final term: courses over, graduating within two months, on externship.
    assert today < final_term.expected_graduation_on <= today + timedelta(days=60)
    assert externship_term_starts_on(final_term) <= today
    assert not CourseOffering.objects.filter(cohort=final_term, ends_on__gte=externship_term_starts_on(final_term))
    rows = list(progress.with_progress(Enrollment.objects.current().filter(cohort=final_term), competencies))
    done = [row for row in rows if row.achieved == len(competencies)]
    assert len(done) >= len(rows) - 3 and len(done) < len(rows), "all skills achieved, but for a few in remediation"
    on_externship = Placement.objects.filter(enrollment__cohort=final_term, state__in=("active", "completed"))
    assert on_externship.count() >= len(rows) // 2

    # The evening cohort started a few months ago: a course over, others under way, a third of its
    # skills taught, most students with some achieved and many not started, retests to come.
    assert today - timedelta(days=180) <= early.start_on <= today - timedelta(days=60)
    offerings = CourseOffering.objects.filter(cohort=early)
    assert offerings.filter(ends_on__lt=today).exists() and offerings.filter(starts_on__gt=today).exists()
    assert offerings.filter(starts_on__lte=today, ends_on__gte=today).exists()
    rows = list(progress.with_progress(Enrollment.objects.current().filter(cohort=early), competencies))
    assert all(0 < row.achieved < len(competencies) / 2 for row in rows)
    waiting_for_a_retest = (
        Attempt.objects.signed()
        .filter(enrollment__cohort=early, passed=False)
        .exclude(
            competency__in=progress.standing_passes().filter(enrollment=OuterRef("enrollment")).values("competency")
        )
    )
    assert waiting_for_a_retest.exists()
    assert not Placement.objects.filter(enrollment__cohort=early).exists()

    # The graduates: five classes, the latest two months out, their exams feeding the outcome report.
    graduates = Enrollment.objects.filter(cohort__program=program, graduated_on__isnull=False)
    assert graduates.values("cohort").distinct().count() == 5
    latest = graduates.order_by("-graduated_on").values_list("graduated_on", flat=True).first()
    assert latest is not None and today - timedelta(days=90) <= latest < today
    assert ExamAttempt.objects.filter(enrollment__in=graduates, taken_on__isnull=False).exists()


def test_no_check_off_falls_outside_its_cohorts_labs(program):
    now = timezone.now()
    attempts = Attempt.objects.select_related("enrollment__cohort", "signature")
    assert attempts.count() > 3000
    for attempt in attempts:
        cohort = attempt.enrollment.cohort
        day = local_day(program, attempt.performed_at)
        assert cohort.start_on + timedelta(days=14) <= day < externship_term_starts_on(cohort), attempt
        assert attempt.performed_at <= now
        assert attempt.enrollment.withdrawn_on is None, "no check-off for a student who left"
        signature = attempt.signature
        assert attempt.performed_at < signature.signed_at <= now
    # Every signature, and every access-log line they left, is a sound link of its student's chain.
    for model in (Signature, AccessLog, Revocation, HoursEntry, Evaluation):
        assert list(chains.check(model, chains.Tally())) == [], model.__name__


def test_no_grade_comes_before_its_due_date(program):
    now = timezone.now()
    for grade in Grade.objects.select_related("assignment__offering"):
        assert grade.assignment.due_at < grade.graded_at <= now
    for assignment in Assignment.objects.select_related("offering"):
        offering = assignment.offering
        assert offering.starts_on <= local_day(program, assignment.due_at) <= offering.ends_on


def test_every_externship_follows_the_skills_and_documents_it_needs(program):
    now, today = timezone.now(), program.today()
    competencies = set(progress.tracked_competencies(program).values_list("pk", flat=True))
    for placement in Placement.objects.select_related("enrollment__cohort"):
        cohort = placement.enrollment.cohort
        assert externship_term_starts_on(cohort) <= placement.start_on <= placement.end_on
        assert placement.end_on < cohort.expected_graduation_on
        assert placement.created_at <= now
        if placement.state not in ("active", "completed"):
            assert not placement.hours.exists()
            continue
        # Every competency the gate asks for was achieved in the labs, before the first day.
        passed_before = {
            attempt.competency_id
            for attempt in progress.standing_passes().filter(enrollment=placement.enrollment)
            if local_day(program, attempt.performed_at) < placement.start_on
        }
        assert passed_before == competencies, placement
        assert local_day(program, placement.activated_at) < placement.start_on <= today
        # Every document it needed was done, sent and reviewed before it started.
        for record in ComplianceRecord.objects.filter(student=placement.enrollment.student, state="approved"):
            assert record.completed_on <= local_day(program, record.uploaded_at) < placement.start_on
            assert record.uploaded_at < record.reviewed_at <= now
            assert record.expires_on is None or record.expires_on >= placement.end_on
        # Shifts within the placement, none in the future, logged after they ended.
        for entry in placement.hours.all():
            assert placement.start_on <= entry.work_date <= placement.end_on and entry.work_date < today
            assert entry.starts_at < entry.ends_at < entry.created_at <= now
        if placement.state == "completed":
            assert placement.end_on < today and local_day(program, placement.completed_at) > placement.end_on


def test_every_document_is_dated_as_a_student_gathers_it(program):
    now, today = timezone.now(), program.today()
    for record in ComplianceRecord.objects.select_related("requirement"):
        assert record.completed_on <= local_day(program, record.uploaded_at) <= today
        assert record.uploaded_at <= now
        if record.state != "pending":
            assert record.uploaded_at < record.reviewed_at <= now
        if record.requirement.validity_months:
            assert record.expires_on is not None and record.completed_on < record.expires_on
            assert record.expires_on >= today, "nobody sends a document that has expired"
        else:
            assert record.expires_on is None


def test_every_exam_comes_after_the_student_may_sit_it(program):
    today = program.today()
    attempts = ExamAttempt.objects.select_related("enrollment__cohort", "track")
    assert attempts.count() > 100
    for attempt in attempts:
        enrollment, track = attempt.enrollment, attempt.track
        day = attempt.taken_on or attempt.scheduled_on
        assert day is not None
        completes_on = enrollment.graduated_on or enrollment.cohort.expected_graduation_on
        assert day >= completes_on - timedelta(days=track.completion_window_days or 0), attempt
        if attempt.result:
            assert day < today
            if enrollment.graduated_on and attempt.taken_on:
                assert eligibility.completion_item(enrollment, track, attempt.taken_on).met
        else:
            assert attempt.scheduled_on is not None and attempt.scheduled_on >= today


def test_the_demo_student_is_early_in_her_program_with_work_ahead(client, program):
    today = program.today()
    maya = Enrollment.objects.select_related("cohort").get(student__email=STUDENT)
    month = (today - maya.cohort.start_on).days // 30 + 1
    assert 3 <= month <= 6, "a few months in: past the first course, far from the externship"
    assert maya.trigger_course_completed_on is not None and maya.trigger_course_completed_on < today

    # Some skills achieved, most still to come, two failed and waiting for a retest, one to repeat.
    achieved, total = progress.summary(maya)
    assert total > 80 and total * 0.15 < achieved < total / 2
    failed = set(Attempt.objects.signed().filter(enrollment=maya, passed=False).values_list("competency", flat=True))
    passed = set(progress.standing_passes().filter(enrollment=maya).values_list("competency", flat=True))
    assert len(failed - passed) >= 2
    assert Revocation.objects.filter(signature__attempt__enrollment=maya).exists()

    # Coursework due in the coming weeks, not graded yet.
    due = Assignment.objects.filter(offering__cohort=maya.cohort, due_at__gt=timezone.now()).exclude(
        grades__enrollment=maya
    )
    assert due.filter(due_at__lte=timezone.now() + timedelta(days=21)).exists()

    # No externship yet: a few documents in (one waiting for review), most still to gather.
    assert not Placement.objects.filter(enrollment=maya).exists()
    records = ComplianceRecord.objects.filter(student=maya.student)
    assert set(records.values_list("state", flat=True)) == {"approved", "pending"}
    assert records.count() < len(readiness.required_requirements(program)) / 2

    # Her certification goal says what stands between her and the exam.
    checklist = eligibility.checklist(maya, maya.target_track.track, today)
    missing = {item.rule for item in checklist.missing}
    assert {eligibility.Rule.COMPLETION, eligibility.Rule.PRACTICUM, eligibility.Rule.COMPETENCIES} <= missing

    client.force_login(maya.student)
    assert client.get(reverse("home")).status_code == 200


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
