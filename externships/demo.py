"""The externship part of the demo program: two sites, the demo preceptor, documents in every review
state and placements in every state.

Curriculum's `seed_demo` imports every app's demo.py (by autodiscovery: curriculum never names
externships, and no other process loads this module) and sends `curriculum.signals.demo_seeded`;
`seed_demo_externships` answers, inside the same transaction: the demo exists whole
or not at all, and a second `seed_demo` finds the program and adds nothing. Whatever a rule governs
goes through the services, so the demo obeys the rules real data obeys: documents pass the content
check and are reviewed by the coordinator, the demo student's placement starts through the gate,
shifts are logged by the student and approved by the preceptor, evaluations are signed on submit.
Dates are relative to today, like the rest of the demo.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.dispatch import receiver

from accounts.models import User
from curriculum import progress
from curriculum import services as curriculum_services
from curriculum.models import ChecklistStep, Cohort, Competency, Domain, Enrollment, Program, Setting
from curriculum.signals import demo_seeded
from externships import readiness
from externships.models import (
    Category,
    ComplianceRecord,
    ComplianceRequirement,
    Kind,
    Placement,
    Preceptor,
    Site,
)
from externships.services import compliance, evaluations, hours, placements, sites

PRECEPTOR_LOCAL_PART = "preceptor"  # preceptor@<demo domain>, the demo account the README lists
WEEK = timedelta(days=7)
REJECTED_IMMUNIZATION = "Only one dose is shown. Upload the record with both doses, or a titer result."

# The demo student's week at the site: (weekday, start, end, what they did).
ACTIVE_SHIFTS = (
    (0, time(8), time(16), "Roomed patients, took vital signs and updated medication lists"),
    (2, time(8), time(16), "Gave injections and ran point-of-care tests with my preceptor"),
    (4, time(7, 30), time(13, 30), "Front desk: scheduling, check-in and insurance verification"),
)
# Two eight-hour days a week for ten weeks: the program's 160 hours.
COMPLETED_SHIFTS = (
    (1, time(8), time(16), "Vital signs, rooming and charting in the EHR"),
    (3, time(8), time(16), "Phlebotomy, specimen processing and patient instructions"),
)


@receiver(demo_seeded, dispatch_uid="externships-demo")
def seed_demo_externships(
    sender: Any,
    *,
    program: Program,
    cohorts: list[Cohort],
    coordinator: User,
    instructor: User,
    student: User,
    password: str,
    domain: str,
    **kwargs: Any,
) -> None:
    """Receiver of `curriculum.signals.demo_seeded`."""
    _Demo(
        program=program,
        cohorts=cohorts,
        coordinator=coordinator,
        instructor=instructor,
        student=student,
        password=password,
        domain=domain,
    ).seed()


class _Demo:
    def __init__(
        self,
        *,
        program: Program,
        cohorts: list[Cohort],
        coordinator: User,
        instructor: User,
        student: User,
        password: str,
        domain: str,
    ) -> None:
        self.program = program
        self.older, self.newer = cohorts[0], cohorts[-1]
        self.coordinator = coordinator
        self.instructor = instructor
        self.student = student
        self.password = password
        self.domain = domain
        self.random = random.Random(160)  # noqa: S311  (made-up demo data, the same every time)
        self.today = program.today()
        self.monday = self.today - timedelta(days=self.today.weekday())
        self.steps: dict[int, set[int]] = {}
        self.requirements: list[ComplianceRequirement] = []

    def seed(self) -> None:
        self.steps = self.checklists()
        self.requirements = readiness.required_requirements(self.program)
        main, riverside = self.sites()
        grace = self.preceptor(main)
        omar = sites.add_preceptor(
            site=riverside,
            email=f"omar.haddad@{self.domain}",
            first_name="Omar",
            last_name="Haddad",
            title="RMA (AMT), lead medical assistant",
            phone="(847) 555-0189",
            added_by=self.coordinator,
        )

        demo = Enrollment.objects.select_related("student", "cohort").get(student=self.student, cohort=self.newer)
        older = list(
            Enrollment.objects.current()
            .filter(cohort=self.older)
            .select_related("student", "cohort")
            .order_by("student_number")
        )
        newer = list(
            Enrollment.objects.current()
            .filter(cohort=self.newer)
            .exclude(pk=demo.pk)
            .select_related("student", "cohort")
            .order_by("student_number")
        )
        self.active_placement(demo, main, grace)
        self.completed_placement(older[0], main, grace)
        self.planned_placement(older[1], riverside, omar)
        self.withdrawn_placement(older[2], main, grace)
        self.early_documents(newer[:4])

    # --- Sites and people -----------------------------------------------------------------------

    def sites(self) -> tuple[Site, Site]:
        main = sites.create_site(
            program=self.program,
            site=Site(
                name="Lakeside Family Medicine",
                address="2150 S Lakeside Drive, Suite 300\nChicago, IL 60616",
                phone="(312) 555-0142",
                specialties=["family medicine", "pediatrics", "women's health"],
                capacity=3,
                agreement_expires_on=self.today + timedelta(days=2 * 365),
                notes="Students check in at the front desk at 7:45; parking in the Ellis Avenue garage.",
            ),
        )
        # An agreement that runs out in the coming weeks: the site pages flag it, and the gate stops a
        # placement that would outlast it.
        riverside = sites.create_site(
            program=self.program,
            site=Site(
                name="Riverside Pediatrics",
                address="48 River Road\nEvanston, IL 60201",
                phone="(847) 555-0188",
                specialties=["pediatrics"],
                capacity=2,
                agreement_expires_on=self.today + timedelta(days=45),
                notes="Renewal sent to the practice manager; waiting for her signature.",
            ),
        )
        return main, riverside

    def preceptor(self, site: Site) -> Preceptor:
        """The demo preceptor. Real preceptors sign in by emailed code; this one may also use the demo
        password, like every demo account."""
        email = f"{PRECEPTOR_LOCAL_PART}@{self.domain}"
        user = User.objects.create(email=email, first_name="Grace", last_name="Liu", password=self.password)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        return sites.add_preceptor(
            site=site,
            email=email,
            first_name=user.first_name,
            last_name=user.last_name,
            title="CMA (AAMA), clinical supervisor",
            phone="(312) 555-0143",
            added_by=self.coordinator,
        )

    # --- Readiness: competencies and documents -----------------------------------------------------

    def checklists(self) -> dict[int, set[int]]:
        """Every tracked competency gets a checklist, so that each can be signed off: the shipped ones
        cover the common skills only. Returns competency id → its step ids."""
        have = set(ChecklistStep.objects.filter(program=self.program).values_list("competency_id", flat=True))
        for competency in progress.tracked_competencies(self.program).order_by("order"):
            if competency.pk in have:
                continue
            for text, points, critical in _stand_in_steps(competency):
                curriculum_services.add_checklist_step(
                    program=self.program, competency=competency, text=text, points=points, is_critical=critical
                )
        steps: dict[int, set[int]] = defaultdict(set)
        for step_id, competency_id in ChecklistStep.objects.filter(program=self.program).values_list(
            "pk", "competency_id"
        ):
            steps[competency_id].add(step_id)
        return steps

    def achieve(self, enrollment: Enrollment, *, before: date, leave_out: int = 0) -> None:
        """Pass and sign every P and A competency the student lacks (but the last `leave_out`), in
        labs between the cohort's third week and `before`."""
        missing = readiness.missing_competencies(enrollment)
        first = enrollment.cohort.start_on + timedelta(days=14)
        span = max(1, (before - first).days)
        for competency in missing[: len(missing) - leave_out]:
            day = first + timedelta(days=self.random.randrange(span))
            attempt = curriculum_services.record_attempt(
                enrollment=enrollment,
                competency=competency,
                evaluator=self.instructor,
                performed_step_ids=self.steps[competency.pk],
                setting=self.random.choice([Setting.LAB, Setting.LAB, Setting.SIMULATION]),
                performed_at=self.at(day, time(self.random.randint(9, 15), self.random.choice([0, 15, 30, 45]))),
            )
            curriculum_services.sign_attempt(attempt=attempt, signer=self.instructor)

    def upload(
        self, student: User, requirement: ComplianceRequirement, *, completed_on: date, review: str = "approve"
    ) -> ComplianceRecord:
        """The student uploads a document (through the content check); the coordinator approves it, or
        rejects it with `review` as the reason, or (with `review` empty) it waits for review."""
        record = compliance.upload_record(
            student=student,
            requirement=requirement,
            file=_document(student, requirement, completed_on),
            completed_on=completed_on,
        )
        if review == "approve":
            return compliance.approve_record(record=record, by=self.coordinator)
        if review:
            return compliance.reject_record(record=record, by=self.coordinator, reason=review)
        return record

    def documents(self, student: User, *, before: date, except_for: tuple[str, ...] = ()) -> None:
        """An approved document for each required requirement, completed before `before` (weeks before
        the placement starts), so each is valid through the placement's end."""
        for requirement in self.requirements:
            if requirement.name in except_for:
                continue
            # Documents that expire are recent; the rest (a vaccine series, a background check) older.
            days_before = self.random.randint(10, 60) if requirement.validity_months else self.random.randint(90, 700)
            self.upload(student, requirement, completed_on=before - timedelta(days=days_before))

    def required(self, category: str, *, other_than: list[ComplianceRequirement]) -> ComplianceRequirement:
        """The first required requirement of the category, else the last one left."""
        left = [r for r in self.requirements if r not in other_than]
        return next((r for r in left if r.category == category), left[-1])

    # --- Placements in each state ------------------------------------------------------------------

    def active_placement(self, enrollment: Enrollment, site: Site, preceptor: Preceptor) -> Placement:
        """The demo student, half-way: started five weeks ago through the gate, hours approved up to
        the week before last, last week's and this week's waiting (one returned), a midpoint evaluation."""
        start_on = self.monday - 5 * WEEK
        self.achieve(enrollment, before=start_on)
        self.documents(enrollment.student, before=start_on)
        # An optional document, still waiting: the student's page shows a review in progress.
        optional = ComplianceRequirement.objects.filter(program=self.program, site=None, is_required=False)
        if extra := optional.filter(category=Category.CERTIFICATION).first() or optional.first():
            self.upload(enrollment.student, extra, completed_on=self.today - timedelta(days=3), review="")
        end_on = start_on + 12 * WEEK - timedelta(days=3)
        placement = self.started(enrollment, site, preceptor, start_on=start_on, end_on=end_on)
        self.shifts(placement, ACTIVE_SHIFTS, until=self.today)
        last_monday = self.monday - WEEK
        for week in _mondays(start_on, last_monday - WEEK):
            hours.approve_week(placement=placement, by=preceptor.user, week_start=week)
        returned = placement.hours.filter(work_date__gte=last_monday).order_by("work_date").first()
        if returned is not None:
            hours.return_entry(
                entry=returned,
                by=preceptor.user,
                reason="The sign-in sheet shows you arrived at 8:15. Correct the start time and send it again.",
            )
        self.evaluate(placement, Kind.MIDPOINT, preceptor.user)
        return placement

    def completed_placement(self, enrollment: Enrollment, site: Site, preceptor: Preceptor) -> Placement:
        """Ten weeks that ended two months ago: every hour approved, both evaluations, the student's
        evaluation of the site, then completed by the coordinator."""
        start_on = self.monday - 18 * WEEK
        end_on = start_on + 10 * WEEK - timedelta(days=3)
        self.achieve(enrollment, before=start_on)
        self.documents(enrollment.student, before=start_on)
        placement = self.started(enrollment, site, preceptor, start_on=start_on, end_on=end_on)
        self.shifts(placement, COMPLETED_SHIFTS, until=end_on + timedelta(days=1))
        for week in _mondays(start_on, end_on):
            hours.approve_week(placement=placement, by=preceptor.user, week_start=week)
        self.evaluate(placement, Kind.MIDPOINT, preceptor.user)
        self.evaluate(placement, Kind.FINAL, preceptor.user)
        self.evaluate(placement, Kind.SITE, enrollment.student)
        return placements.complete_placement(placement, by=self.coordinator)

    def planned_placement(self, enrollment: Enrollment, site: Site, preceptor: Preceptor) -> Placement:
        """Starting in three weeks at the site whose agreement runs out first, for a student the gate
        still stops: two competencies to go, a flu shot that expires before the end, a rejected
        physical and a training certificate waiting for review."""
        start_on = self.monday + 3 * WEEK
        self.achieve(enrollment, before=self.today - WEEK, leave_out=2)
        # The shortest-lived document (the flu shot, 12 months), completed so that it lapses in a month.
        flu = min((r for r in self.requirements if r.validity_months), key=lambda r: r.validity_months or 0)
        physical = self.required(Category.HEALTH, other_than=[flu])
        training = self.required(Category.TRAINING, other_than=[flu, physical])
        self.documents(
            enrollment.student, before=self.today - WEEK, except_for=(flu.name, physical.name, training.name)
        )
        expiring = compliance.add_months(self.today, -(flu.validity_months or 1)) + timedelta(days=30)
        self.upload(enrollment.student, flu, completed_on=expiring)
        self.upload(
            enrollment.student,
            physical,
            completed_on=self.today - timedelta(days=12),
            review="The form is not signed by the provider. Upload the page with the signature and date.",
        )
        self.upload(enrollment.student, training, completed_on=self.today - timedelta(days=2), review="")
        return placements.create_placement(
            enrollment=enrollment,
            site=site,
            preceptor=preceptor,
            start_on=start_on,
            end_on=start_on + 10 * WEEK - timedelta(days=3),
            created_by=self.coordinator,
        )

    def withdrawn_placement(self, enrollment: Enrollment, site: Site, preceptor: Preceptor) -> Placement:
        placement = placements.create_placement(
            enrollment=enrollment,
            site=site,
            preceptor=preceptor,
            start_on=self.monday - 2 * WEEK,
            end_on=self.monday + 8 * WEEK - timedelta(days=3),
            created_by=self.coordinator,
        )
        return placements.withdraw_placement(
            placement,
            by=self.coordinator,
            reason="Moved out of the area before the start; the program is finding a site near the new address.",
        )

    def early_documents(self, enrollments: list[Enrollment]) -> None:
        """Classmates of the demo student starting on their documents: a review queue for the coordinator."""
        immunizations = [r for r in self.requirements if r.category == Category.IMMUNIZATION]
        for number, enrollment in enumerate(enrollments):
            for requirement in immunizations[number % 2 :: 2]:
                self.upload(
                    enrollment.student,
                    requirement,
                    completed_on=self.today - timedelta(days=self.random.randint(1, 40)),
                    review=REJECTED_IMMUNIZATION if number == 1 and requirement == immunizations[1] else "",
                )

    # --- Helpers ----------------------------------------------------------------------------------

    def started(
        self, enrollment: Enrollment, site: Site, preceptor: Preceptor, *, start_on: date, end_on: date
    ) -> Placement:
        """Planned, then started through the gate, as a coordinator would."""
        planned = placements.create_placement(
            enrollment=enrollment,
            site=site,
            preceptor=preceptor,
            start_on=start_on,
            end_on=end_on,
            created_by=self.coordinator,
        )
        return placements.activate_placement(planned, by=self.coordinator)

    def shifts(self, placement: Placement, pattern: tuple[tuple[int, time, time, str], ...], *, until: date) -> None:
        """The student logs each shift of the pattern from the start up to (not including) `until`."""
        student = placement.enrollment.student
        for week in _mondays(placement.start_on, placement.end_on):
            for weekday, start, end, activity in pattern:
                day = week + timedelta(days=weekday)
                if placement.start_on <= day <= placement.end_on and day < until:
                    hours.log_shift(
                        placement=placement, student=student, work_date=day, start=start, end=end, activity=activity
                    )

    def evaluate(self, placement: Placement, kind: str, evaluator: User) -> None:
        items = evaluations.form_items(placement, kind)
        ratings = {item.pk: self.random.choice([3, 4, 4, 4, 5, 5]) for item in items}
        first_name = placement.enrollment.student.first_name
        comments = {
            Kind.MIDPOINT: f"{first_name} is punctual and careful with patients. Next: speed up rooming on busy "
            "mornings and take the lead on insurance verification.",
            Kind.FINAL: f"{first_name} works as a member of the team now: ready for a first job as a medical "
            "assistant. We would gladly take another student from the program.",
            Kind.SITE: "A busy clinic where I practised nearly every skill; my preceptor made time for "
            "feedback every day.",
        }[Kind(kind)]
        evaluations.submit_evaluation(
            placement=placement, kind=kind, evaluator=evaluator, ratings=ratings, comments=comments
        )

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.program.zone)


def _mondays(first: date, last: date) -> list[date]:
    """The Mondays of the weeks from `first`'s to `last`'s."""
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += WEEK
    return weeks


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


# --- Small but real documents --------------------------------------------------------------------


def _document(student: User, requirement: ComplianceRequirement, completed_on: date) -> ContentFile[bytes]:
    """A photo of a card for certifications (PNG), a one-page PDF for the rest."""
    slug = "".join(c if c.isalnum() else "-" for c in requirement.name.lower()).strip("-")[:40]
    if requirement.category == Category.CERTIFICATION:
        return ContentFile(_png_card(), name=f"{slug}-card.png")
    lines = [
        f"{requirement.name}",
        f"Student: {student.full_name}",
        f"Completed on {completed_on:%B %d, %Y}",
        "Demo document made by manage.py seed_demo. Not a real health record.",
    ]
    return ContentFile(_pdf(lines), name=f"{slug}.pdf")


def _pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF with a few lines of Helvetica, its cross-reference table computed."""

    def literal(text: str) -> bytes:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("cp1252", errors="replace") + b")"

    # The first line shown where the text starts, each further one on the next line (the ' operator).
    stream = (
        b"BT /F1 14 Tf 18 TL 72 720 Td\n"
        + literal(lines[0])
        + b" Tj\n"
        + b"".join(literal(line) + b" '\n" for line in lines[1:])
        + b"ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png_card(width: int = 320, height: int = 200) -> bytes:
    """A valid PNG of a wallet card: a red band, grey lines for the printed text, white elsewhere."""
    rows = []
    for y in range(height):
        if y < 48:
            pixel = b"\xc8\x10\x2e"
        elif y in range(80, 92) or y in range(110, 122) or y in range(140, 152):
            pixel = b"\x90\x90\x90"
        else:
            pixel = b"\xff\xff\xff"
        rows.append(b"\x00" + pixel * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
