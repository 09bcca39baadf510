"""A believable demo program for `make run`: cohorts at different stages, courses, coursework, grades
and signed check-offs, on a timeline relative to today so the demo never goes stale.

Only with DEBUG on: the demo accounts share a published password.

The timeline, as a school would live it (each cohort starts on a Monday and graduates on a Friday;
its courses and skills labs come first and the last `EXTERNSHIP_WEEKS` are its externship term):
- the day cohort is in its final term: it started about 41 weeks ago, its labs ended six weeks ago
  with every psychomotor and affective competency achieved (but for three students still in
  remediation), and its students are on externship (externships/demo.py) until they graduate in
  about six weeks;
- the evening cohort, the demo student's, started 17 weeks ago (month four of fourteen): its first
  course is over, the next ones are under way, and it is a third of the way through its skills, with
  retests still to come;
- five graduated classes (certifications/demo.py) give the outcome reports their years.
Every check-off falls on one of its cohort's lab days, from the third week of the cohort to the end
of its labs and never after now, so whoever goes on externship achieved their skills before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from accounts import chains
from accounts.models import AccessLog, User
from curriculum import frameworks, progress, services, signals
from curriculum.models import (
    Accreditor,
    Assignment,
    Attempt,
    ChecklistStep,
    Cohort,
    Competency,
    CompetencyFramework,
    Course,
    CourseOffering,
    Domain,
    Enrollment,
    Grade,
    Program,
    Setting,
    Signature,
    StaffRole,
    StepResult,
    score_steps,
)

DEMO_PASSWORD = "checkoff-demo"
DEMO_DOMAIN = "demo.checkoff.test"
DEMO_STUDENT = f"student@{DEMO_DOMAIN}"
PROGRAM_CODE = "MA-DIPLOMA"

DAY_PROGRAM_WEEKS = 47  # about eleven months, Monday to Friday
EVENING_PROGRAM_WEEKS = 60  # about fourteen months of evenings
EXTERNSHIP_WEEKS = 12  # the end of each program, after its courses and labs
DAY_COHORT_WEEKS_AGO = 41  # in its final term: on externship for six weeks, graduating in six
EVENING_COHORT_WEEKS_AGO = 17  # month four: early in its program
FIRST_LAB_DAYS = 14  # skills labs start in the third week
# Lab days and hours: day students on Tuesday and Thursday mornings, evening students on Monday and
# Wednesday evenings (weekday, first hour, last hour).
LabSchedule = tuple[tuple[int, ...], int, int]
DAY_LABS: LabSchedule = ((1, 3), 9, 12)
EVENING_LABS: LabSchedule = ((0, 2), 18, 20)
# Day-cohort students still in remediation after the labs ended, and how many skills each lacks: the
# externship gate stops them (externships/demo.py plans one of them a placement the gate refuses).
REMEDIATION = (2, 1, 1)
FAILED_COMMENT = "Missed a critical step; practise it and try again next lab."
REMEDIATION_COMMENT = "Missed the same critical step again; remediation plan agreed, retest with the program director."

FIRST_NAMES = [
    "Aaliyah", "Ana", "Brandon", "Camila", "Daniel", "Destiny", "Diego", "Emily", "Fatima", "Gabriel",
    "Hannah", "Isabella", "Jasmine", "José", "Kayla", "Keisha", "Linh", "Lucía", "Marcus", "María",
    "Mei", "Nadia", "Olivia", "Priya", "Rosa", "Samuel", "Sofía", "Tyler", "Valeria", "Xavier",
]  # fmt: skip
LAST_NAMES = [
    "Alvarez", "Baker", "Castillo", "Davis", "Espinoza", "Flores", "García", "Harris", "Ibrahim", "Johnson",
    "Kim", "López", "Martínez", "Nguyen", "Okafor", "Patel", "Quintero", "Ramírez", "Smith", "Torres",
    "Usman", "Vargas", "Washington", "Xu", "Young", "Zamora",
]  # fmt: skip
COURSES = [
    ("MA101", "Medical Terminology", 45),
    ("MA110", "Anatomy and Physiology", 90),
    ("MA120", "Clinical Procedures I", 90),
    ("MA130", "Administrative Procedures", 60),
    ("MA140", "Pharmacology for Medical Assistants", 45),
    ("MA150", "Phlebotomy and Laboratory Procedures", 60),
]
ASSIGNMENTS = [
    ("Chapter quiz 1", Assignment.Kind.QUIZ, Decimal(20)),
    ("Homework: case study", Assignment.Kind.HOMEWORK, Decimal(25)),
    ("Lab practical", Assignment.Kind.LAB, Decimal(50)),
    ("Midterm exam", Assignment.Kind.EXAM, Decimal(100)),
    ("Chapter quiz 2", Assignment.Kind.QUIZ, Decimal(20)),
    ("Final exam", Assignment.Kind.EXAM, Decimal(100)),
]


def externship_term_starts_on(cohort: Cohort) -> date:
    """The Monday the cohort's courses and skills labs are over and its externships may begin."""
    return cohort.expected_graduation_on + timedelta(days=3) - timedelta(weeks=EXTERNSHIP_WEEKS)


def course_dates(cohort: Cohort) -> list[tuple[date, date]]:
    """Each course's first and last day (COURSES order): overlapping terms, all before the externship term."""
    span = (externship_term_starts_on(cohort) - cohort.start_on).days
    dates = []
    for index in range(len(COURSES)):
        starts = cohort.start_on + timedelta(weeks=(index * span // 8) // 7)  # a Monday
        dates.append((starts, starts + timedelta(days=span // 4 - 3)))
    return dates


@dataclass
class PlannedAttempt:
    """A check-off to write: `missed` holds the steps the student did not perform (none for a pass)."""

    enrollment: Enrollment
    competency: Competency
    evaluator: User
    performed_at: datetime
    setting: str
    missed: set[int] = field(default_factory=set)
    comment: str = ""


def write_checkoffs(program: Program, planned: list[PlannedAttempt]) -> list[Attempt]:
    """Record and sign past check-offs in bulk, as `services.record_attempt` and `sign_attempt` would
    have at the time: each scored from its checklist, signed by its evaluator minutes after it was
    performed, linked into the student's chains of signatures and access log.

    The services stamp a signature with the moment they run, so a history written through them would
    read as signed on the day the demo was seeded, and thousands of them one by one take minutes;
    bench/checkoffs.py writes its history the same way. Refuses what the services refuse: an
    attempt in the future, a student evaluating themselves, a step from another checklist; and what
    the demo's timeline forbids, an attempt before the student's cohort started."""
    now = timezone.now()
    steps: dict[int, list[ChecklistStep]] = {}
    for step in ChecklistStep.objects.filter(program=program).order_by("order"):
        steps.setdefault(step.competency_id, []).append(step)
    attempts: list[Attempt] = []
    for item in planned:
        enrollment, competency = item.enrollment, item.competency
        checklist = steps[competency.pk]
        if item.evaluator.pk == enrollment.student_id:
            raise ValueError("Students cannot evaluate themselves.")
        if item.performed_at > now or item.performed_at.astimezone(program.zone).date() < enrollment.cohort.start_on:
            raise ValueError(f"{competency.code} for {enrollment.student}: {item.performed_at} is outside the cohort.")
        if item.missed - {step.pk for step in checklist}:
            raise ValueError(f"{competency.code}: a missed step is not on its checklist.")
        passing_score = competency.passing_score or program.passing_score
        result = score_steps(
            [(step.points, step.is_critical, step.pk not in item.missed) for step in checklist], passing_score
        )
        attempts.append(
            Attempt(
                enrollment=enrollment,
                competency=competency,
                evaluator=item.evaluator,
                performed_at=item.performed_at.astimezone(UTC),  # as the database gives it back to a digest
                setting=item.setting,
                passing_score=passing_score,
                comment="" if result["passed"] else item.comment or FAILED_COMMENT,
                **result,
            )
        )
    attempts = Attempt.objects.bulk_create(attempts, batch_size=2_000)
    StepResult.objects.bulk_create(
        [
            StepResult(
                attempt=attempt,
                order=step.order,
                text=step.text,
                points=step.points,
                is_critical=step.is_critical,
                performed=step.pk not in item.missed,
            )
            for attempt, item in zip(attempts, planned, strict=True)
            for step in steps[attempt.competency_id]
        ],
        batch_size=5_000,
    )
    prefetch_related_objects(attempts, "step_results")
    signatures, entries = [], []
    signing_ends = timezone.now()
    for attempt in sorted(attempts, key=lambda attempt: attempt.performed_at):
        # Four minutes after the check-off, but never later than now: seeded in the evening, the day's last
        # lab slot may have begun minutes ago.
        signed_at = max(
            min(attempt.performed_at + timedelta(minutes=4), signing_ends),
            attempt.performed_at + timedelta(microseconds=1),
        )
        student_id = attempt.enrollment.student_id
        signatures.append(
            Signature(
                attempt=attempt,
                student_id=student_id,
                signer_id=attempt.evaluator_id,
                signed_at=signed_at,
                meaning=Signature.MEANING,
                digest=Signature.compute_digest(
                    attempt, signer_id=attempt.evaluator_id, signed_at=signed_at.isoformat(), meaning=Signature.MEANING
                ),
            )
        )
        entries.append(
            AccessLog(
                actor_id=attempt.evaluator_id,
                student_id=student_id,
                action=AccessLog.Action.SIGN,
                target=f"{attempt.competency.code} attempt {attempt.pk}",
                at=signed_at,
            )
        )
    chains.link(signatures)
    Signature.objects.bulk_create(signatures, batch_size=2_000)
    chains.link(entries)
    AccessLog.objects.bulk_create(entries, batch_size=2_000)
    return attempts


class Command(BaseCommand):
    help = "Create the demo program and its demo accounts (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any program exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo refuses to run with DEBUG off: demo accounts share a published password.")
        # The other apps' parts of the demo (externships, certifications) answer `demo_seeded` from
        # their demo.py, imported here and only here, so a server's processes never load demo code.
        autodiscover_modules("demo")
        if options["if_empty"] and Program.objects.exists():
            self.stdout.write("Programs exist already; demo not seeded.")
            return
        if Program.objects.filter(code=PROGRAM_CODE).exists():
            self.stdout.write(f"The demo program {PROGRAM_CODE} exists already.")
            return
        self.random = random.Random(2026)
        self.password = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            self.seed()
            # A fresh database has no statistics yet: the planner would take each table for a row or
            # two and loop over every attempt for each student (minutes for one report page). The
            # demo fills every table at once, so it gathers them, as an import of a school's data would.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo program {PROGRAM_CODE} created. Sign in as director@, coordinator@, instructor@, student@ or "
                f"preceptor@{DEMO_DOMAIN} with password {DEMO_PASSWORD}."
            )
        )

    def person(self, email: str, first: str, last: str, language: str = "") -> User:
        user = User.objects.create(
            email=email, first_name=first, last_name=last, preferred_language=language, password=self.password
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        return user

    def seed(self) -> None:
        director = self.person(f"director@{DEMO_DOMAIN}", "Dana", "Whitfield")
        coordinator = self.person(f"coordinator@{DEMO_DOMAIN}", "Carlos", "Mendoza", "es")
        instructor = self.person(f"instructor@{DEMO_DOMAIN}", "Irene", "Okafor")
        second_instructor = self.person(f"instructor2@{DEMO_DOMAIN}", "Thomas", "Reyes")

        program = Program.objects.create(
            code=PROGRAM_CODE,
            name="Medical Assisting Diploma",
            accreditor=Accreditor.CAAHEP,
            time_zone="America/Chicago",
            practicum_hours=160,
        )
        self.today = program.today()
        self.now = timezone.now()
        StaffRole.objects.bulk_create(
            [
                StaffRole(program=program, user=director, role=StaffRole.Role.DIRECTOR),
                StaffRole(program=program, user=coordinator, role=StaffRole.Role.COORDINATOR),
                StaffRole(program=program, user=instructor, role=StaffRole.Role.INSTRUCTOR),
                StaffRole(program=program, user=second_instructor, role=StaffRole.Role.INSTRUCTOR),
            ]
        )
        courses = [
            Course.objects.create(program=program, code=code, title=title, clock_hours=hours)
            for code, title, hours in COURSES
        ]
        program.trigger_course = courses[0]
        program.save(update_fields=["trigger_course"])

        monday = self.today - timedelta(days=self.today.weekday())
        older = self.cohort(program, monday - timedelta(weeks=DAY_COHORT_WEEKS_AGO), DAY_PROGRAM_WEEKS, "Day", "")
        newer = self.cohort(
            program, monday - timedelta(weeks=EVENING_COHORT_WEEKS_AGO), EVENING_PROGRAM_WEEKS, "Evening", "-EVE"
        )
        older.instructors.add(instructor, second_instructor)
        newer.instructors.add(instructor)

        student = self.person(DEMO_STUDENT, "Maya", "Johnson")
        self.enroll(newer, 27, demo_student=student)
        self.enroll(older, 26, demo_student=None)

        for cohort in (older, newer):
            for index, (course, (starts, ends)) in enumerate(zip(courses, course_dates(cohort), strict=True)):
                offering = CourseOffering.objects.create(
                    course=course,
                    cohort=cohort,
                    instructor=second_instructor if (cohort == older and index % 3 == 2) else instructor,
                    starts_on=starts,
                    ends_on=ends,
                )
                self.coursework(offering, grader=offering.instructor or instructor)

        self.competencies(
            program, [(older, [instructor, second_instructor], DAY_LABS), (newer, [instructor], EVENING_LABS)], director
        )

        # Apps built on curriculum add their part of the demo (externships: sites, placements, hours).
        signals.demo_seeded.send(
            sender=self.__class__,
            program=program,
            cohorts=[older, newer],
            director=director,
            coordinator=coordinator,
            instructor=instructor,
            student=student,
            password=self.password,
            domain=DEMO_DOMAIN,
        )

    def cohort(self, program: Program, start: date, weeks: int, kind: str, suffix: str) -> Cohort:
        season = "SPRING" if start.month < 7 else "FALL"
        return Cohort.objects.create(
            program=program,
            code=f"{start.year}-{season}{suffix}",
            name=f"{kind} cohort, started {start:%B %Y}",
            start_on=start,
            expected_graduation_on=start + timedelta(weeks=weeks, days=-3),
        )

    # --- Skills: checklists and signed check-offs ---------------------------------------------------

    def competencies(
        self, program: Program, cohorts: list[tuple[Cohort, list[User], LabSchedule]], director: User
    ) -> None:
        """Every tracked competency gets a checklist, then each cohort's labs so far are written: the
        day cohort's all done, the evening cohort's first third. The demo student's latest pass is
        revoked through the service, so the demo shows how a correction looks."""
        if not CompetencyFramework.objects.filter(code="MAERB-2022").exists():
            frameworks.load_reference_frameworks()
        program.framework = CompetencyFramework.objects.get(code="MAERB-2022")
        program.save(update_fields=["framework"])
        frameworks.load_skill_checklists(program=program)
        competencies = list(progress.tracked_competencies(program).order_by("order", "code"))
        self.stand_in_checklists(program, competencies)
        steps: dict[int, list[ChecklistStep]] = {}
        for step in ChecklistStep.objects.filter(program=program).order_by("order"):
            steps.setdefault(step.competency_id, []).append(step)
        planned: list[PlannedAttempt] = []
        for cohort, evaluators, schedule in cohorts:
            planned += self.labs(cohort, competencies, steps, evaluators, schedule)
        write_checkoffs(program, planned)
        latest_pass = (
            Attempt.objects.standing()
            .filter(enrollment__student__email=DEMO_STUDENT, passed=True)
            .select_related("signature")
            .order_by("-performed_at")
            .first()
        )
        if latest_pass:
            services.revoke_signature(
                signature=latest_pass.signature,
                revoked_by=director,
                reason="Signed during another student's tablet session; to be repeated in the next lab.",
            )

    def stand_in_checklists(self, program: Program, competencies: list[Competency]) -> None:
        """The shipped checklists cover the common skills only; the rest get a short stand-in, in bulk
        as the shipped ones are loaded, so that every competency can be signed off."""
        have = set(ChecklistStep.objects.filter(program=program).values_list("competency_id", flat=True))
        ChecklistStep.objects.bulk_create(
            [
                ChecklistStep(
                    program=program, competency=competency, order=order, text=text, points=points, is_critical=critical
                )
                for competency in competencies
                if competency.pk not in have
                for order, (text, points, critical) in enumerate(_stand_in_steps(competency), start=1)
            ]
        )

    def labs(
        self,
        cohort: Cohort,
        competencies: list[Competency],
        steps: dict[int, list[ChecklistStep]],
        evaluators: list[User],
        schedule: LabSchedule,
    ) -> list[PlannedAttempt]:
        """The cohort's check-offs up to now. The skills are taught in the framework's order, spread
        over the labs from the third week to the last lab day before the externship term; a student
        is checked off on the day a skill is taught or at a later lab, and a failed attempt is tried
        again a week or two later. Students who missed a lab have not started that skill yet."""
        weekdays, first_hour, last_hour = schedule
        first_lab = cohort.start_on + timedelta(days=FIRST_LAB_DAYS)
        last_lab = externship_term_starts_on(cohort) - timedelta(days=3)  # the Friday labs end
        teaching_days = (last_lab - timedelta(days=7) - first_lab).days  # a week kept for make-up labs
        finished = last_lab < self.today  # every skill taught: whoever is not in remediation passed them all

        def lab_day(day: date) -> date:
            while day.weekday() not in weekdays:
                day += timedelta(days=1)
            return day

        def moment(day: date) -> datetime:
            at = time(self.random.randint(first_hour, last_hour), self.random.choice([0, 15, 30, 45]))
            return datetime.combine(day, at, tzinfo=cohort.program.zone)

        enrollments = list(
            cohort.enrollments.current().select_related("student", "cohort__program").order_by("student_number")
        )
        remediation = dict(zip((e.pk for e in reversed(enrollments)), REMEDIATION, strict=False)) if finished else {}
        planned: list[PlannedAttempt] = []
        for enrollment in enrollments:
            is_demo = enrollment.student.email == DEMO_STUDENT
            ability = 0.8 if is_demo else self.random.uniform(0.72, 0.95)  # the chance a first try passes
            # The skills this student still lacks after the labs: the last ones they failed twice.
            stuck = {competency.pk for competency in competencies[-12:][::4][: remediation.get(enrollment.pk, 0)]}
            reached: list[PlannedAttempt] = []
            for index, competency in enumerate(competencies):
                taught = lab_day(first_lab + timedelta(days=index * teaching_days // len(competencies)))
                if taught > self.today:
                    break
                if not finished and not is_demo and self.random.random() < 0.05:
                    continue  # absent that day: not started yet
                evaluator = evaluators[index % len(evaluators)]
                day = lab_day(taught + timedelta(days=self.random.choice([0, 0, 0, 0, 1, 7])))
                tries, previous = 0, None
                while day <= min(self.today, last_lab):
                    tries += 1
                    passes = self.random.random() < (ability if tries == 1 else 0.85) or (finished and tries == 3)
                    if competency.pk in stuck:
                        passes = False
                    at = moment(day) if previous is None else max(moment(day), previous + timedelta(hours=1))
                    if at > self.now:
                        break
                    previous = at
                    attempt = PlannedAttempt(
                        enrollment=enrollment,
                        competency=competency,
                        evaluator=evaluator,
                        performed_at=at,
                        setting=self.random.choice([Setting.LAB, Setting.LAB, Setting.LAB, Setting.SIMULATION]),
                        missed=set() if passes else _missed_steps(steps[competency.pk], self.random),
                        comment=REMEDIATION_COMMENT if competency.pk in stuck and tries == 2 else FAILED_COMMENT,
                    )
                    reached.append(attempt)
                    if passes or (competency.pk in stuck and tries == 2):
                        break
                    day = lab_day(day + timedelta(days=self.random.randint(6, 13)))
                    if finished:
                        day = min(day, last_lab)  # the make-up lab, before the externship term
            if is_demo:
                reached = self.demo_student_retests(reached, steps)
            planned += reached
        return planned

    def demo_student_retests(
        self, reached: list[PlannedAttempt], steps: dict[int, list[ChecklistStep]]
    ) -> list[PlannedAttempt]:
        """The demo student's two latest skills: failed at their first try, retest still to come."""
        latest = sorted(
            {item.competency.pk for item in reached},
            key=lambda pk: max(item.performed_at for item in reached if item.competency.pk == pk),
        )[-2:]
        kept = []
        for item in reached:
            if item.competency.pk not in latest:
                kept.append(item)
            elif not any(other.competency.pk == item.competency.pk for other in kept):
                item.missed = _missed_steps(steps[item.competency.pk], self.random)
                item.comment = FAILED_COMMENT
                kept.append(item)
        return kept

    # --- Students and coursework ------------------------------------------------------------------

    def enroll(self, cohort: Cohort, count: int, demo_student: User | None) -> None:
        people: list[User] = []
        used: set[str] = set()
        while len(people) < count:
            first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
            email = f"{first}.{last}".lower().translate(str.maketrans("áéíóú", "aeiou")) + f".{cohort.pk}@{DEMO_DOMAIN}"
            if email in used:
                continue
            used.add(email)
            language = "es" if last in {"Castillo", "Espinoza", "Quintero", "Zamora"} else ""
            people.append(self.person(email, first, last, language))
        if demo_student:
            people.insert(0, demo_student)
        _first_course_starts, trigger_done = course_dates(cohort)[0]  # the trigger course, MA101
        enrollments = []
        for number, person in enumerate(people, start=1):
            withdrawn = None
            if person is not demo_student and number % 11 == 0:
                withdrawn = cohort.start_on + timedelta(days=20 + number)  # before the trigger course ends
            enrollments.append(
                Enrollment(
                    student=person,
                    cohort=cohort,
                    student_number=f"{cohort.start_on:%y}{cohort.pk:02d}{number:03d}",
                    admitted_on=cohort.start_on,
                    trigger_course_completed_on=trigger_done if trigger_done <= self.today and not withdrawn else None,
                    withdrawn_on=withdrawn,
                )
            )
        Enrollment.objects.bulk_create(enrollments)

    def coursework(self, offering: CourseOffering, grader: User) -> None:
        """Six graded pieces per course, due through the course; those due two days ago or more are
        graded (a few missing, and the demo student's final exams not yet entered)."""
        zone = offering.cohort.program.zone
        length = (offering.ends_on - offering.starts_on).days
        assignments = []
        for index, (title, kind, points) in enumerate(ASSIGNMENTS):
            due_day = offering.starts_on + timedelta(days=(index + 1) * length // (len(ASSIGNMENTS) + 1))
            assignments.append(
                Assignment(
                    offering=offering,
                    title=title,
                    kind=kind,
                    points=points,
                    due_at=datetime.combine(due_day, time(23, 59), tzinfo=zone),
                    description="Submit on paper in class." if kind == Assignment.Kind.HOMEWORK else "",
                )
            )
        Assignment.objects.bulk_create(assignments)
        enrollments = list(offering.cohort.enrollments.filter(withdrawn_on__isnull=True).select_related("student"))
        grades = []
        for assignment in assignments:
            if assignment.due_at.astimezone(zone).date() >= self.today - timedelta(days=2):
                continue  # not due yet, or too recent to be graded
            graded_at = min(assignment.due_at + timedelta(days=2), self.now)
            for enrollment in enrollments:
                is_demo = enrollment.student.email == DEMO_STUDENT
                if not is_demo and self.random.random() < 0.06:
                    continue  # a few missing grades make the gradebook honest
                if is_demo and assignment == assignments[-1]:
                    continue
                share = Decimal(self.random.uniform(0.62, 1.0)).quantize(Decimal("0.01"))
                grades.append(
                    Grade(
                        assignment=assignment,
                        enrollment=enrollment,
                        points_earned=(assignment.points * share).quantize(Decimal("0.5")),
                        graded_by=grader,
                        graded_at=graded_at,
                    )
                )
        Grade.objects.bulk_create(grades)


def _missed_steps(checklist: list[ChecklistStep], rng: random.Random) -> set[int]:
    """Steps left out so the attempt fails: a critical one when the checklist has one, else half of them."""
    critical = [step.pk for step in checklist if step.is_critical]
    if critical:
        return {rng.choice(critical)}
    return {step.pk for step in checklist[: max(1, (len(checklist) + 1) // 2)]}


def _stand_in_steps(competency: Competency) -> list[tuple[str, int, bool]]:
    """A short checklist for a competency the shipped checklists do not cover: (text, points, critical).

    Enough for the demo's sign-offs; a program writes its own before using it."""
    name = f"{competency.code} {competency.title}"
    if competency.domain == Domain.AFFECTIVE:
        return [
            ("Introduce yourself and explain your role to the patient", 1, False),
            (f"Show the behaviour the competency names: {name}", 2, True),
            ("Check that the patient understood, and invite questions", 1, False),
        ]
    return [
        ("Prepare: gather what the task needs and review the order or instructions", 1, False),
        (f"Perform the skill as the competency states: {name}", 2, True),
        ("Document or report the result accurately", 1, False),
    ]
