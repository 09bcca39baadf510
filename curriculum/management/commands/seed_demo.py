"""A believable demo program for `make run`: two cohorts, courses, coursework and grades.

Only with DEBUG on: the demo accounts share a published password. Dates are relative to today so
the demo always has work that is overdue, due soon and graded.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from accounts.models import User
from curriculum import frameworks, services, signals
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
    Enrollment,
    Grade,
    Program,
    StaffRole,
)

DEMO_PASSWORD = "checkoff-demo"
DEMO_DOMAIN = "demo.checkoff.test"
PROGRAM_CODE = "MA-DIPLOMA"

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
        today = date.today()
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

        # An older cohort well into its year, and a newer one a few months in.
        older_start = today - timedelta(days=300)
        newer_start = today - timedelta(days=90)
        older = Cohort.objects.create(
            program=program,
            code=f"{older_start.year}-{'SPRING' if older_start.month < 7 else 'FALL'}",
            name=f"Day cohort, started {older_start:%B %Y}",
            start_on=older_start,
            expected_graduation_on=older_start + timedelta(days=365),
        )
        newer = Cohort.objects.create(
            program=program,
            code=f"{newer_start.year}-{'SPRING' if newer_start.month < 7 else 'FALL'}-EVE",
            name=f"Evening cohort, started {newer_start:%B %Y}",
            start_on=newer_start,
            expected_graduation_on=newer_start + timedelta(days=420),
        )
        older.instructors.add(instructor, second_instructor)
        newer.instructors.add(instructor)

        student = self.person(f"student@{DEMO_DOMAIN}", "Maya", "Johnson")
        self.enroll(newer, 27, demo_student=student)
        self.enroll(older, 30, demo_student=None)

        self.competencies(program, {older: instructor, newer: instructor}, director)

        for cohort in (older, newer):
            span = (cohort.expected_graduation_on - cohort.start_on).days
            for index, course in enumerate(courses):
                starts = cohort.start_on + timedelta(days=index * span // 8)
                offering = CourseOffering.objects.create(
                    course=course,
                    cohort=cohort,
                    instructor=second_instructor if (cohort == older and index % 3 == 2) else instructor,
                    starts_on=starts,
                    ends_on=starts + timedelta(days=span // 4),
                )
                self.coursework(offering, grader=offering.instructor or instructor, today=today)

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

    def competencies(self, program: Program, evaluators: dict[Cohort, User], director: User) -> None:
        """Attempts that make the grid look lived-in: the older cohort nearly done, the newer one started."""
        if not CompetencyFramework.objects.filter(code="MAERB-2022").exists():
            frameworks.load_reference_frameworks()
        program.framework = CompetencyFramework.objects.get(code="MAERB-2022")
        program.save(update_fields=["framework"])
        frameworks.load_skill_checklists(program=program)
        competencies = list(
            Competency.objects.filter(framework=program.framework, steps__program=program).distinct().order_by("order")
        )
        steps = {
            competency.pk: list(ChecklistStep.objects.filter(program=program, competency=competency).order_by("order"))
            for competency in competencies
        }
        now = timezone.now()
        for cohort, evaluator in evaluators.items():
            started = (date.today() - cohort.start_on).days
            share = 0.9 if started > 200 else 0.45  # how far through the skills each cohort is
            for enrollment in cohort.enrollments.filter(withdrawn_on__isnull=True).select_related("student"):
                is_demo = enrollment.student.email == f"student@{DEMO_DOMAIN}"
                for index, competency in enumerate(competencies):
                    if index >= len(competencies) * share and not (is_demo and index < 6):
                        break
                    when = now - timedelta(
                        days=self.random.randint(2, max(3, started - 5)), hours=self.random.randint(0, 6)
                    )
                    first_try_passes = self.random.random() > (0.5 if is_demo and index % 3 == 1 else 0.18)
                    tries = [first_try_passes] if first_try_passes else [False, self.random.random() > 0.3]
                    for number, passes in enumerate(tries):
                        performed = {step.pk for step in steps[competency.pk]}
                        if not passes:
                            critical = [step.pk for step in steps[competency.pk] if step.is_critical]
                            performed -= {self.random.choice(critical)} if critical else set(list(performed)[:3])
                        attempt = services.record_attempt(
                            enrollment=enrollment,
                            competency=competency,
                            evaluator=evaluator,
                            performed_step_ids=performed,
                            setting=self.random.choice(["lab", "lab", "simulation"]),
                            performed_at=min(when + timedelta(days=number * 7), now),
                            comment="" if passes else "Missed a critical step; practise it and try again next lab.",
                        )
                        services.sign_attempt(attempt=attempt, signer=evaluator)
        # One revoked signature, so the demo shows how a correction looks: a new row, the original kept.
        demo_attempt = (
            Attempt.objects.standing()
            .filter(enrollment__student__email=f"student@{DEMO_DOMAIN}", passed=True)
            .select_related("signature")
            .order_by("competency__order")
            .first()
        )
        if demo_attempt:
            services.revoke_signature(
                signature=demo_attempt.signature,
                revoked_by=director,
                reason="Signed during another student's tablet session; to be repeated in the next lab.",
            )

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
        trigger_done = cohort.start_on + timedelta(days=45)
        enrollments = []
        for number, person in enumerate(people, start=1):
            withdrawn = None
            if person is not demo_student and number % 11 == 0:
                withdrawn = cohort.start_on + timedelta(days=20 + number)
            enrollments.append(
                Enrollment(
                    student=person,
                    cohort=cohort,
                    student_number=f"{cohort.start_on:%y}{cohort.pk:02d}{number:03d}",
                    admitted_on=cohort.start_on,
                    trigger_course_completed_on=trigger_done
                    if trigger_done <= date.today() and not withdrawn
                    else None,
                    withdrawn_on=withdrawn,
                )
            )
        Enrollment.objects.bulk_create(enrollments)

    def coursework(self, offering: CourseOffering, grader: User, today: date) -> None:
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
            if assignment.due_at.date() >= today - timedelta(days=2):
                continue  # not due yet, or too recent to be graded
            for enrollment in enrollments:
                is_demo = enrollment.student.email == f"student@{DEMO_DOMAIN}"
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
                    )
                )
        Grade.objects.bulk_create(grades)
