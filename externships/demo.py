"""The externship part of the demo program: four sites and their preceptors, the day cohort's
externship term in full swing, and the evening cohort starting on its documents.

Curriculum's `seed_demo` imports every app's demo.py (by autodiscovery: curriculum never names
externships, and no other process loads this module) and sends `curriculum.signals.demo_seeded`;
`seed_demo_externships` answers, inside the same transaction: the demo exists whole
or not at all, and a second `seed_demo` finds the program and adds nothing. Whatever a rule governs
goes through the services, so the demo obeys the rules real data obeys: documents pass the content
check and are reviewed by the coordinator, placements start through the gate, shifts are logged by
the student and approved by the preceptor, evaluations are signed on submit.

The day cohort's courses and labs ended six weeks ago (see seed_demo), and its externship term began
on the Monday after; the students graduate six weeks from now. Each needs 160 hours:
- four went full time and finished in four weeks: every hour approved, both evaluations and their own
  evaluation of the site, then completed by the coordinator;
- one started a week later, four days a week, and finished last Friday: last week's shifts and the
  final evaluation wait;
- five go three days a week and finish this week: hours approved up to the week before last, last
  week's waiting (one shift returned), the midpoint evaluations signed, but one;
- five started two weeks ago, four days a week: their midpoint evaluations are due this week;
- five start next Monday (two still with a document waiting for review), and one's placement was
  withdrawn before it began;
- the three in remediation lack competencies: one has a placement planned that the gate refuses (and
  at the site whose agreement runs out first), the other two have none yet.
The evening cohort (the demo student's) is months from its externship: a few have sent documents.
Documents are dated as a student gathers them (vaccines years ago, the background check in the weeks
before the placement) and every date is relative to today, like the rest of the demo. When a document
was sent and reviewed, a placement planned and started, a shift logged, is dated as it would have
happened; approved hours and evaluations carry the moment the demo was seeded, which their services
stamp and chain.
"""

from __future__ import annotations

import random
import struct
import zlib
from datetime import date, datetime, time, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import User
from curriculum import progress
from curriculum.management.commands.seed_demo import externship_term_starts_on
from curriculum.models import Cohort, Enrollment, Program
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
from externships.reminders import DOCUMENT_APPROVED, DOCUMENT_REJECTED
from externships.services import compliance, evaluations, hours, placements, sites
from notifications.models import Message, Notification

PRECEPTOR_LOCAL_PART = "preceptor"  # preceptor@<demo domain>, the demo account the README lists
WEEK = timedelta(days=7)
SHIFT = (time(8), time(16))
REJECTED_IMMUNIZATION = "Only one dose is shown. Upload the record with both doses, or a titer result."
RETURNED_SHIFT = "The sign-in sheet shows you arrived at 8:15. Correct the start time and send it again."
# What a student did on each weekday at the site (Monday first).
ACTIVITIES = (
    "Roomed patients, took vital signs and updated medication lists",
    "Vital signs, rooming and charting in the EHR",
    "Gave injections and ran point-of-care tests with my preceptor",
    "Phlebotomy, specimen processing and patient instructions",
    "Front desk: scheduling, check-in and insurance verification",
)
# The weekdays a student works, and the weeks the placement runs: 160 hours at eight hours a day
# fill them exactly, or with a spare week (the coordinator's slack for a missed day).
FULL_TIME = ((0, 1, 2, 3, 4), 4)
FOUR_DAYS = ((0, 1, 2, 3), 5)
FOUR_DAYS_WITH_A_SPARE_WEEK = ((0, 1, 2, 3), 6)
THREE_DAYS = ((0, 2, 4), 7)
Pattern = tuple[tuple[int, ...], int]


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
        student: User,
        password: str,
        domain: str,
    ) -> None:
        self.program = program
        self.final_term, self.early = cohorts[0], cohorts[-1]
        self.coordinator = coordinator
        self.student = student
        self.password = password
        self.domain = domain
        self.random = random.Random(160)  # noqa: S311  (made-up demo data, the same every time)
        self.today = program.today()
        self.now = timezone.now()
        self.monday = self.today - timedelta(days=self.today.weekday())
        self.requirements: list[ComplianceRequirement] = []
        # When each document was sent and reviewed: the services stamp the moment they run.
        self.sent: list[tuple[ComplianceRecord, datetime, datetime | None]] = []

    def seed(self) -> None:
        self.requirements = readiness.required_requirements(self.program)
        lakeside, riverside, south_loop, bridgeport = self.sites()
        term = externship_term_starts_on(self.final_term)  # a Monday, six weeks ago
        competencies = list(progress.tracked_competencies(self.program).values_list("pk", flat=True))
        final_term = list(
            progress.with_progress(Enrollment.objects.current().filter(cohort=self.final_term), competencies)
            .select_related("student", "cohort__program")
            .order_by("student_number")
        )
        # 21 students have every skill (seed_demo enrolls 26: two withdrew, three are in remediation).
        ready = iter([e for e in final_term if e.achieved == len(competencies)])  # type: ignore[attr-defined]
        remediation = sorted(
            (e for e in final_term if e.achieved < len(competencies)),  # type: ignore[attr-defined]
            key=lambda e: e.achieved,  # type: ignore[attr-defined]
        )

        for where in (lakeside, riverside, south_loop, bridgeport):
            self.completed(next(ready), where, start_on=term)
        self.finishing(next(ready), lakeside, start_on=term + WEEK)
        for number, where in enumerate((lakeside, riverside, south_loop, south_loop, bridgeport)):
            self.nearly_done(next(ready), where, start_on=term, returned=number == 0, midpoint=number < 4)
        for where in (lakeside, south_loop, south_loop, bridgeport, bridgeport):
            self.second_wave(next(ready), where, start_on=self.monday - 2 * WEEK)
        for number, where in enumerate((lakeside, south_loop, south_loop, bridgeport, bridgeport)):
            self.starting(next(ready), where, start_on=self.monday + WEEK, waiting=number in (1, 3))
        self.withdrawn(next(ready), lakeside, start_on=self.monday + WEEK)
        if remediation:
            self.refused(remediation[0], riverside, start_on=self.monday + WEEK)
        life_support = self.required(Category.CERTIFICATION, other_than=[])
        for number, enrollment in enumerate(remediation[1:]):
            self.documents(enrollment, before=self.today, except_for=(life_support.name,) if number == 0 else ())

        demo = Enrollment.objects.select_related("student", "cohort").get(student=self.student, cohort=self.early)
        classmates = list(
            Enrollment.objects.current()
            .filter(cohort=self.early)
            .exclude(pk=demo.pk)
            .select_related("student", "cohort")
            .order_by("student_number")
        )
        self.demo_student_documents(demo)
        self.early_documents(classmates[:4])
        ComplianceRecord.objects.bulk_update(
            [record for record, _sent, _reviewed in self.sent], ["uploaded_at", "reviewed_at"]
        )
        self.settle_past_notices()

    # --- Sites and people -----------------------------------------------------------------------

    def sites(self) -> tuple[tuple[Site, Preceptor], ...]:
        """Four sites, each with a preceptor: the demo preceptor at the main one."""
        lakeside = self.site(
            name="Lakeside Family Medicine",
            address="2150 S Lakeside Drive, Suite 300\nChicago, IL 60616",
            phone="(312) 555-0142",
            specialties=["family medicine", "pediatrics", "women's health"],
            capacity=3,
            agreement_expires_on=self.today + timedelta(days=2 * 365),
            notes="Students check in at the front desk at 7:45; parking in the Ellis Avenue garage.",
        )
        # An agreement that runs out in three weeks: the site pages flag it, and the gate stops a
        # placement that would outlast it.
        riverside = self.site(
            name="Riverside Pediatrics",
            address="48 River Road\nEvanston, IL 60201",
            phone="(847) 555-0188",
            specialties=["pediatrics"],
            capacity=2,
            agreement_expires_on=self.today + timedelta(days=21),
            notes="Renewal sent to the practice manager; waiting for her signature.",
        )
        south_loop = self.site(
            name="South Loop Internal Medicine",
            address="1300 S Michigan Avenue, 4th floor\nChicago, IL 60605",
            phone="(312) 555-0171",
            specialties=["internal medicine", "cardiology"],
            capacity=4,
            agreement_expires_on=self.today + timedelta(days=400),
            notes="Scrubs in navy or black. Students shadow the lab on their first day.",
        )
        bridgeport = self.site(
            name="Bridgeport Community Health Center",
            address="3201 S Halsted Street\nChicago, IL 60608",
            phone="(773) 555-0126",
            specialties=["family medicine", "community health"],
            capacity=4,
            agreement_expires_on=self.today + timedelta(days=600),
            notes="Spanish-speaking students are especially welcome; many patients prefer Spanish.",
        )
        return (
            (lakeside, self.demo_preceptor(lakeside)),
            (riverside, self.preceptor(riverside, "Omar", "Haddad", "RMA (AMT), lead medical assistant", "0189")),
            (south_loop, self.preceptor(south_loop, "Angela", "Brooks", "CMA (AAMA), clinical lead", "0172")),
            (bridgeport, self.preceptor(bridgeport, "Luis", "Ortega", "RMA (AMT), MA supervisor", "0127")),
        )

    def site(self, **facts: Any) -> Site:
        return sites.create_site(program=self.program, site=Site(**facts))

    def preceptor(self, site: Site, first_name: str, last_name: str, title: str, extension: str) -> Preceptor:
        """A preceptor as the coordinator adds one: they sign in with a code emailed to them."""
        return sites.add_preceptor(
            site=site,
            email=f"{first_name}.{last_name}@{self.domain}".lower(),
            first_name=first_name,
            last_name=last_name,
            title=title,
            phone=f"{site.phone[:10]}{extension}",  # the site's exchange, their own line
            added_by=self.coordinator,
        )

    def demo_preceptor(self, site: Site) -> Preceptor:
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

    # --- Documents ------------------------------------------------------------------------------

    def upload(
        self,
        enrollment: Enrollment,
        requirement: ComplianceRequirement,
        *,
        completed_on: date,
        sent_on: date,
        review: str = "approve",
    ) -> ComplianceRecord:
        """The student uploads a document (through the content check) on `sent_on`; the next working
        day the coordinator approves it, or rejects it with `review` as the reason, or (with `review`
        empty) it still waits for review."""
        student = enrollment.student
        record = compliance.upload_record(
            student=student,
            requirement=requirement,
            file=_document(student, requirement, completed_on),
            completed_on=completed_on,
        )
        sent = min(self.at(sent_on, time(19, 30)), self.now)
        reviewed = min(self.at(sent_on + timedelta(days=1), time(10, 15)), self.now) if review else None
        if review == "approve":
            record = compliance.approve_record(record=record, by=self.coordinator)
        elif review:
            record = compliance.reject_record(record=record, by=self.coordinator, reason=review)
        record.uploaded_at, record.reviewed_at = sent, reviewed
        self.sent.append((record, sent, reviewed))
        return record

    def completed_on(self, requirement: ComplianceRequirement, enrollment: Enrollment, before: date) -> date:
        """When a student would have done it: vaccines years ago, the screening checks in the weeks
        before the placement, what expires within two years during the program."""
        if requirement.validity_months is None:
            if requirement.category == Category.IMMUNIZATION:
                return before - timedelta(days=self.random.randint(400, 4000))
            return before - timedelta(days=self.random.randint(14, 45))
        if requirement.validity_months > 24:
            return before - timedelta(days=self.random.randint(365, 2500))
        first = enrollment.cohort.start_on + timedelta(days=14)
        return first + timedelta(days=self.random.randint(0, max(0, (before - first).days - 10)))

    def documents(self, enrollment: Enrollment, *, before: date, except_for: tuple[str, ...] = ()) -> None:
        """An approved document for each required requirement, each done and sent before `before`
        (the placement's start, or today), so each is valid through the placement's end."""
        last_sent = min(before, self.today) - timedelta(days=3)
        for requirement in self.requirements:
            if requirement.name in except_for:
                continue
            completed_on = self.completed_on(requirement, enrollment, before)
            earliest = max(completed_on, enrollment.cohort.start_on + timedelta(days=7))
            sent_on = min(earliest + timedelta(days=self.random.randint(1, 12)), last_sent)
            self.upload(enrollment, requirement, completed_on=completed_on, sent_on=max(sent_on, completed_on))

    def required(self, category: str, *, other_than: list[ComplianceRequirement]) -> ComplianceRequirement:
        """The first required requirement of the category, else the last one left."""
        left = [r for r in self.requirements if r not in other_than]
        return next((r for r in left if r.category == category), left[-1])

    def demo_student_documents(self, enrollment: Enrollment) -> None:
        """Month four: the childhood vaccines approved, the hepatitis B series just finished and waiting
        for review, the rest still to gather before the externship."""
        immunizations = [r for r in self.requirements if r.category == Category.IMMUNIZATION and not r.validity_months]
        for requirement in immunizations[:2]:
            self.upload(
                enrollment,
                requirement,
                completed_on=self.today - timedelta(days=self.random.randint(3000, 6000)),
                sent_on=enrollment.cohort.start_on + timedelta(days=9),
            )
        for requirement in immunizations[2:3]:
            self.upload(
                enrollment,
                requirement,
                completed_on=self.today - timedelta(days=5),
                sent_on=self.today - timedelta(days=3),
                review="",
            )

    def early_documents(self, enrollments: list[Enrollment]) -> None:
        """Classmates of the demo student starting on their documents: a review queue for the coordinator."""
        immunizations = [r for r in self.requirements if r.category == Category.IMMUNIZATION]
        for number, enrollment in enumerate(enrollments):
            for requirement in immunizations[number % 2 :: 2]:
                completed_on = self.today - timedelta(days=self.random.randint(4, 40))
                self.upload(
                    enrollment,
                    requirement,
                    completed_on=completed_on,
                    sent_on=completed_on + timedelta(days=self.random.randint(1, 3)),
                    review=REJECTED_IMMUNIZATION if number == 1 and requirement == immunizations[1] else "",
                )

    def settle_past_notices(self) -> None:
        """The reviews the story places more than two days ago told their students then: each notice is
        marked sent at its review, and read in the app a few hours later. Left waiting, hundreds of
        weeks-old "document approved" emails would fill the demo mailbox when `make run` starts; the
        last two days' still go out then."""
        reviewed = {
            f"compliance-record:{record.pk}": at
            for record, _sent, at in self.sent
            if at is not None and at < self.now - timedelta(days=2)
        }
        notices = list(
            Message.objects.filter(
                kind__in=(DOCUMENT_APPROVED, DOCUMENT_REJECTED), subject__in=reviewed, state=Message.State.PENDING
            )
        )
        in_the_app = []
        for notice in notices:
            at = reviewed[notice.subject]
            notice.state, notice.channel, notice.sent_at = Message.State.SENT, Message.Channel.EMAIL, at
            notice.created_at = notice.due_at = notice.next_attempt_at = at
            in_the_app.append(
                Notification(
                    recipient_id=notice.recipient_id,
                    message=notice,
                    kind=notice.kind,
                    context=notice.context,
                    url=notice.url,
                    created_at=at,
                    read_at=at + timedelta(hours=4),
                )
            )
        Message.objects.bulk_update(notices, ["state", "channel", "sent_at", "created_at", "due_at", "next_attempt_at"])
        Notification.objects.bulk_create(in_the_app)

    # --- Placements in each state ------------------------------------------------------------------

    def completed(self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date) -> Placement:
        """Full time for four weeks from the start of the term: every hour approved, both evaluations,
        the student's evaluation of the site, then completed by the coordinator."""
        placement = self.started(enrollment, where, start_on=start_on, pattern=FULL_TIME)
        self.shifts(placement, FULL_TIME)
        self.approve(placement, through=placement.end_on)
        self.evaluate(placement, Kind.MIDPOINT)
        self.evaluate(placement, Kind.FINAL)
        self.evaluate(placement, Kind.SITE)
        placement = placements.complete_placement(placement, by=self.coordinator)
        completed_at = min(self.at(placement.end_on + timedelta(days=3), time(11)), self.now)
        Placement.objects.filter(pk=placement.pk).update(completed_at=completed_at)
        return placement

    def finishing(self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date) -> Placement:
        """Four days a week from the term's second week (a document came late), done last Friday: last
        week's shifts wait for approval, and the final evaluation (due on the end date) is late."""
        placement = self.started(enrollment, where, start_on=start_on, pattern=FOUR_DAYS)
        self.shifts(placement, FOUR_DAYS)
        self.approve(placement, through=self.monday - 2 * WEEK)
        self.evaluate(placement, Kind.MIDPOINT)
        return placement

    def nearly_done(
        self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date, returned: bool, midpoint: bool
    ) -> Placement:
        """Three days a week, ending this week: approved up to the week before last, last week's shifts
        waiting (the first one returned for a correction, on the demo preceptor's), a midpoint evaluation."""
        placement = self.started(enrollment, where, start_on=start_on, pattern=THREE_DAYS)
        self.shifts(placement, THREE_DAYS)
        self.approve(placement, through=self.monday - 2 * WEEK)
        last_week = placement.hours.filter(work_date__gte=self.monday - WEEK).order_by("work_date").first()
        if returned and last_week is not None:
            hours.return_entry(entry=last_week, by=placement.preceptor.user, reason=RETURNED_SHIFT)
        if midpoint:
            self.evaluate(placement, Kind.MIDPOINT)
        return placement

    def second_wave(self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date) -> Placement:
        """Started two weeks ago, four days a week with a spare week: the first week approved, last
        week's waiting, the midpoint evaluation due this week."""
        placement = self.started(enrollment, where, start_on=start_on, pattern=FOUR_DAYS_WITH_A_SPARE_WEEK)
        self.shifts(placement, FOUR_DAYS_WITH_A_SPARE_WEEK)
        self.approve(placement, through=start_on)
        return placement

    def starting(
        self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date, waiting: bool
    ) -> Placement:
        """Planned for next Monday, full time. Its documents are in; with `waiting`, the drug screen's
        result came in two days ago and waits for review, so the gate still has one thing to say."""
        screen = self.required(Category.BACKGROUND, other_than=[]) if waiting else None
        self.documents(enrollment, before=start_on, except_for=(screen.name,) if screen else ())
        if screen is not None:
            self.upload(
                enrollment,
                screen,
                completed_on=self.today - timedelta(days=4),
                sent_on=self.today - timedelta(days=2),
                review="",
            )
        return self.plan(enrollment, where, start_on=start_on, pattern=FULL_TIME)

    def refused(self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date) -> Placement:
        """Planned for next Monday at the site whose agreement runs out first, for a student the gate
        still stops: competencies in remediation, a flu shot that lapses before the end, a rejected
        physical and a training certificate waiting for review."""
        # The shortest-lived document (the flu shot, 12 months), from last season: it lapses ten days
        # before the placement would end.
        flu = min((r for r in self.requirements if r.validity_months), key=lambda r: r.validity_months or 0)
        physical = self.required(Category.HEALTH, other_than=[flu])
        training = self.required(Category.TRAINING, other_than=[flu, physical])
        self.documents(enrollment, before=self.today, except_for=(flu.name, physical.name, training.name))
        _days, weeks = FULL_TIME
        lapses_on = start_on + weeks * WEEK - timedelta(days=13)
        flu_shot = compliance.add_months(lapses_on, -(flu.validity_months or 1))
        self.upload(enrollment, flu, completed_on=flu_shot, sent_on=self.today - timedelta(days=20))
        self.upload(
            enrollment,
            physical,
            completed_on=self.today - timedelta(days=12),
            sent_on=self.today - timedelta(days=10),
            review="The form is not signed by the provider. Upload the page with the signature and date.",
        )
        self.upload(
            enrollment,
            training,
            completed_on=self.today - timedelta(days=3),
            sent_on=self.today - timedelta(days=2),
            review="",
        )
        return self.plan(enrollment, where, start_on=start_on, pattern=FULL_TIME)

    def withdrawn(self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date) -> Placement:
        self.documents(enrollment, before=start_on)
        placement = self.plan(enrollment, where, start_on=start_on, pattern=FULL_TIME)
        return placements.withdraw_placement(
            placement,
            by=self.coordinator,
            reason="Moved out of the area before the start; the program is finding a site near the new address.",
        )

    # --- Helpers ----------------------------------------------------------------------------------

    def plan(
        self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date, pattern: Pattern
    ) -> Placement:
        """Planned by the coordinator three weeks before it starts (or as the term began, if later)."""
        site, preceptor = where
        _days, weeks = pattern
        placement = placements.create_placement(
            enrollment=enrollment,
            site=site,
            preceptor=preceptor,
            start_on=start_on,
            end_on=start_on + weeks * WEEK - timedelta(days=3),  # a Friday
            created_by=self.coordinator,
        )
        planned_on = max(start_on - 3 * WEEK, externship_term_starts_on(enrollment.cohort) - 4 * WEEK)
        Placement.objects.filter(pk=placement.pk).update(
            created_at=min(self.at(planned_on, time(14)), self.now - timedelta(hours=1))
        )
        return placement

    def started(
        self, enrollment: Enrollment, where: tuple[Site, Preceptor], *, start_on: date, pattern: Pattern
    ) -> Placement:
        """Documents in, planned, then started through the gate on the Friday before its first day."""
        self.documents(enrollment, before=start_on)
        placement = placements.activate_placement(
            self.plan(enrollment, where, start_on=start_on, pattern=pattern), by=self.coordinator
        )
        Placement.objects.filter(pk=placement.pk).update(activated_at=self.at(start_on - timedelta(days=3), time(15)))
        return placement

    def shifts(self, placement: Placement, pattern: Pattern) -> None:
        """The student logs each working day's shift of the pattern, once it is over (up to yesterday),
        until the required hours are reached; each was logged the evening it was worked."""
        student = placement.enrollment.student
        days, _weeks = pattern
        logged = 0.0
        for week in _mondays(placement.start_on, placement.end_on):
            for weekday in days:
                day = week + timedelta(days=weekday)
                if day > placement.end_on or day >= self.today or logged >= placement.required_hours:
                    continue
                hours.log_shift(
                    placement=placement,
                    student=student,
                    work_date=day,
                    start=SHIFT[0],
                    end=SHIFT[1],
                    activity=ACTIVITIES[weekday],
                )
                logged += 8
        placement.hours.update(created_at=F("ends_at") + timedelta(hours=3))

    def approve(self, placement: Placement, *, through: date) -> None:
        """The preceptor approves the placement's weeks up to the one holding `through`."""
        for week in _mondays(placement.start_on, min(through, placement.end_on)):
            hours.approve_week(placement=placement, by=placement.preceptor.user, week_start=week)

    def evaluate(self, placement: Placement, kind: str) -> None:
        evaluator = placement.enrollment.student if kind == Kind.SITE else placement.preceptor.user
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
