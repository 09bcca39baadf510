"""The certification part of the demo program: five years of graduates, their exams, credentials and
jobs, so the outcome reports have trends to show.

Curriculum's `seed_demo` imports every app's demo.py (only it does: a server never loads demo code)
and sends `curriculum.signals.demo_seeded`; `seed_demo_certifications` answers inside the same
transaction (see externships/demo.py, which does the same). The alumni cohorts and their students
are written in bulk (plain rows, no rule governs them); exam results, credentials and job placements
go through the services, so the demo obeys the retake waits and attempt limits real data obeys.
Each year follows a plan of counts rather than chance, so the trends the reports show are the same
every time: first-attempt passes rising year on year, and one year's job placement below MAERB's
60% threshold. Dates are relative to today, like the rest of the demo:
the latest class graduated about two months ago, each earlier one a year before the next.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.dispatch import receiver

from accounts.models import User
from certifications import services
from certifications.models import CertificationTrack, ExamAttempt, PlacementStatus, TargetTrack
from curriculum.management.commands.seed_demo import FIRST_NAMES, LAST_NAMES
from curriculum.models import Cohort, Enrollment, Program
from curriculum.signals import demo_seeded

YEARS_OF_GRADUATES = 5
PROGRAM_DAYS = 330  # start to expected graduation of an alumni (day) cohort
TRIGGER_DAYS = 45  # start to the end of the trigger course (MA101)
LATEST_GRADUATION_DAYS_AGO = 60

# What a graduate's exam history looks like: the results of their sittings in order.
STORIES: dict[str, tuple[str, ...]] = {
    "first": ("pass",),
    "retake": ("fail", "pass"),
    "twice": ("fail", "fail", "pass"),
    "thrice": ("fail", "fail", "fail"),  # CMA: no more attempts; CCMA: a year's wait
    "no_show": ("no_show", "pass"),
    "administrative": ("pass",),  # CMAA only: not a medical assisting credentialing exam
    "booked": (),  # the first sitting is booked, still to come
    "none": (),  # never tested
}


@dataclass(frozen=True)
class YearPlan:
    """One graduating class, oldest first. Counts, so each year's figures come out as planned."""

    enrolled: int
    withdrawn_before_trigger: int
    withdrawn_after_trigger: int
    late_graduates: int  # finished a few weeks after the class (a make-up externship)
    placements: dict[str, int]  # status → graduates; graduates beyond these have no record yet
    stories: dict[str, int]  # story → graduates; must add up to the graduates

    @property
    def graduates(self) -> int:
        return self.enrolled - self.withdrawn_before_trigger - self.withdrawn_after_trigger


IN, RELATED, NOT_EMPLOYED = PlacementStatus.IN_FIELD, PlacementStatus.RELATED_FIELD, PlacementStatus.NOT_EMPLOYED
UNAVAILABLE, STUDYING = PlacementStatus.UNAVAILABLE, PlacementStatus.CONTINUING_EDUCATION
MILITARY = PlacementStatus.MILITARY_SERVICE
# Every cohort has more than 25 enrollments: the roster paginates (the curriculum demo test asks).
PLANS = (
    YearPlan(
        enrolled=28,
        withdrawn_before_trigger=2,
        withdrawn_after_trigger=5,
        late_graduates=1,
        placements={IN: 12, RELATED: 3, STUDYING: 1, NOT_EMPLOYED: 4, UNAVAILABLE: 1},
        stories={"first": 11, "retake": 3, "twice": 1, "thrice": 2, "no_show": 1, "administrative": 1, "none": 2},
    ),
    # The year the local clinics stopped hiring: placement falls below the threshold.
    YearPlan(
        enrolled=27,
        withdrawn_before_trigger=3,
        withdrawn_after_trigger=4,
        late_graduates=2,
        placements={IN: 7, RELATED: 3, STUDYING: 1, NOT_EMPLOYED: 8, UNAVAILABLE: 1},
        stories={"first": 12, "retake": 3, "twice": 1, "thrice": 1, "administrative": 1, "none": 2},
    ),
    YearPlan(
        enrolled=30,
        withdrawn_before_trigger=2,
        withdrawn_after_trigger=4,
        late_graduates=1,
        placements={IN: 14, RELATED: 3, STUDYING: 2, NOT_EMPLOYED: 4, UNAVAILABLE: 1},
        stories={"first": 16, "retake": 3, "twice": 1, "thrice": 1, "no_show": 1, "administrative": 1, "none": 1},
    ),
    YearPlan(
        enrolled=29,
        withdrawn_before_trigger=2,
        withdrawn_after_trigger=3,
        late_graduates=1,
        placements={IN: 16, RELATED: 3, STUDYING: 1, MILITARY: 1, NOT_EMPLOYED: 2, UNAVAILABLE: 1},
        stories={"first": 18, "retake": 2, "thrice": 1, "no_show": 1, "administrative": 1, "none": 1},
    ),
    # The latest class: two months out, some still looking for work, two still to sit their exam.
    YearPlan(
        enrolled=28,
        withdrawn_before_trigger=1,
        withdrawn_after_trigger=3,
        late_graduates=1,
        placements={IN: 15, RELATED: 2, STUDYING: 1, NOT_EMPLOYED: 4, UNAVAILABLE: 1},
        stories={"first": 17, "retake": 2, "no_show": 1, "administrative": 1, "booked": 2, "none": 1},
    ),
)
# The medical assisting exams graduates choose, and how often (CMAA is the administrative story's).
TRACK_WEIGHTS = {"CMA": 50, "CCMA": 32, "RMA": 18}
LOCATIONS = {
    "CMA": "Prometric test center, Chicago Loop",
    "RMA": "Pearson VUE test center, Oak Brook",
    "CCMA": "On campus, NHA proctored, room 204",
    "CMAA": "On campus, NHA proctored, room 204",
    "NCMA": "PSI test center, Schaumburg",
}
NUMBER_DIGITS = {"CMA": 7, "RMA": 6, "CCMA": 8, "CMAA": 8, "NCMA": 6}
CLINICS = [
    "Lakeside Family Medicine",
    "Riverside Pediatrics",
    "South Loop Internal Medicine",
    "Bridgeport Community Health Center",
    "Lincoln Park Dermatology",
    "Oak Lawn Orthopedic Group",
    "Pilsen Family Clinic",
    "Hyde Park Cardiology Associates",
    "West Town Urgent Care",
    "Evanston Women's Health",
]
CLINICAL_POSITIONS = ["Medical assistant", "Clinical medical assistant", "Medical assistant, float pool"]
RELATED_JOBS = [
    ("Midwest Diagnostic Laboratories", "Phlebotomist"),
    ("Mercy Lakeshore Hospital", "Patient care technician"),
    ("Heartland Cardiology Imaging", "EKG technician"),
    ("Corner Drug Pharmacy", "Pharmacy technician"),
    ("Northside Dental Partners", "Dental front office coordinator"),
]
STUDIES = [
    ("Malcolm X College", "Practical nursing (LPN) program"),
    ("Harold Washington College", "Associate degree in nursing, prerequisites"),
]
UNAVAILABLE_REASONS = [
    "Recovering from surgery; not able to work until the spring.",
    "Caring full time for a family member after a stroke.",
    "On medical leave, not able to work for now.",
    "Moved abroad with family; not seeking work.",
    "Pregnant, on doctor's orders not to work until after the birth.",
]


@receiver(demo_seeded, dispatch_uid="certifications-demo")
def seed_demo_certifications(
    sender: Any,
    *,
    program: Program,
    cohorts: list[Cohort],
    director: User,
    coordinator: User,
    student: User,
    password: str,
    domain: str,
    **kwargs: Any,
) -> None:
    """Receiver of `curriculum.signals.demo_seeded`. Does nothing when the program has graduates already."""
    if Enrollment.objects.filter(cohort__program=program, graduated_on__isnull=False).exists():
        return
    _Demo(
        program=program,
        cohorts=cohorts,
        director=director,
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
        director: User,
        coordinator: User,
        student: User,
        password: str,
        domain: str,
    ) -> None:
        self.program = program
        self.current = cohorts
        self.director = director
        self.coordinator = coordinator
        self.student = student
        self.password = password
        self.domain = domain
        self.random = random.Random(5)  # noqa: S311  (made-up demo data, the same every time)
        self.today = program.today()
        self.booked_first_sittings = 0
        self.tracks = {track.code: track for track in CertificationTrack.objects.filter(program=program)}
        self.numbers: set[tuple[str, str]] = set()

    def seed(self) -> None:
        classes = self.alumni()
        for year, (plan, graduates) in enumerate(classes):
            self.exams(graduates, plan, imported=year < 3)
            self.placements(graduates, plan)
        self.current_students()

    # --- Alumni: cohorts, students, dates --------------------------------------------------------

    def alumni(self) -> list[tuple[YearPlan, list[Enrollment]]]:
        """The five graduated classes (oldest first), written in bulk. Returns each plan and its graduates."""
        latest = self.today - timedelta(days=LATEST_GRADUATION_DAYS_AGO)
        cohorts = []
        for years_ago in range(YEARS_OF_GRADUATES - 1, -1, -1):
            graduation = _weekday(latest - timedelta(days=365 * years_ago), 4)  # a Friday
            start = _weekday(graduation - timedelta(days=PROGRAM_DAYS), 0)  # a Monday
            cohorts.append(
                Cohort(
                    program=self.program,
                    code=f"{start.year}-{'SPRING' if start.month < 7 else 'FALL'}-DAY",
                    name=f"Day cohort, started {start:%B %Y}",
                    start_on=start,
                    expected_graduation_on=graduation,
                )
            )
        cohorts = Cohort.objects.bulk_create(cohorts)
        people = self.people(sum(plan.enrolled for plan in PLANS) - 1)  # one enrolls twice
        rows: list[Enrollment] = []
        graduates_by_year: list[list[Enrollment]] = []
        returning: User | None = None  # one student leaves a class and comes back the next year
        for year, (cohort, plan) in enumerate(zip(cohorts, PLANS, strict=True)):
            start, trigger = cohort.start_on, cohort.start_on + timedelta(days=TRIGGER_DAYS)
            outcomes = (
                ["before"] * plan.withdrawn_before_trigger
                + ["after"] * plan.withdrawn_after_trigger
                + ["late"] * plan.late_graduates
                + ["graduate"] * (plan.graduates - plan.late_graduates)
            )
            self.random.shuffle(outcomes)
            graduates = []
            # The returning student takes the place of one of this class's graduates.
            students = [people.pop() for _outcome in outcomes[1:]]
            students.insert(outcomes.index("graduate"), returning or people.pop())
            returning = None
            for number, (person, outcome) in enumerate(zip(students, outcomes, strict=True), start=1):
                enrollment = Enrollment(
                    student=person,
                    cohort=cohort,
                    student_number=f"{start:%y}{cohort.pk:02d}{number:03d}",
                    admitted_on=start,
                )
                if outcome == "before":
                    enrollment.withdrawn_on = start + timedelta(days=self.random.randint(8, TRIGGER_DAYS - 5))
                else:
                    enrollment.trigger_course_completed_on = trigger
                if outcome == "after":
                    enrollment.withdrawn_on = start + timedelta(days=self.random.randint(60, PROGRAM_DAYS - 40))
                    if year == 1 and returning is None:
                        returning = person
                elif outcome == "graduate":
                    enrollment.graduated_on = cohort.expected_graduation_on
                elif outcome == "late":
                    enrollment.graduated_on = cohort.expected_graduation_on + timedelta(
                        days=self.random.randint(14, 35)
                    )
                rows.append(enrollment)
                if enrollment.graduated_on:
                    graduates.append(enrollment)
            graduates_by_year.append(graduates)
        assert not people, f"{len(people)} people made and not enrolled"
        Enrollment.objects.bulk_create(rows)
        return list(zip(PLANS, graduates_by_year, strict=True))

    def people(self, count: int) -> list[User]:
        """Made-up former students with the demo's names and password, written in bulk."""
        used: set[str] = set()
        people: list[User] = []
        while len(people) < count:
            first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
            local = f"{first}.{last}".lower().translate(str.maketrans("áéíóú", "aeiou"))
            email = f"{local}.alumni{len(people) + 1}@{self.domain}"
            if local in used:
                continue
            used.add(local)
            language = "es" if last in {"Castillo", "Espinoza", "Quintero", "Zamora"} else ""
            people.append(
                User(email=email, first_name=first, last_name=last, preferred_language=language, password=self.password)
            )
        people = User.objects.bulk_create(people)
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=person, email=person.email, primary=True, verified=True) for person in people]
        )
        return people

    # --- Exams and credentials ------------------------------------------------------------------

    def exams(self, graduates: list[Enrollment], plan: YearPlan, *, imported: bool) -> None:
        """Each graduate's sittings as the plan's stories say. The older years came in the awarding
        bodies' result files; later ones were booked and recorded by the director."""
        stories = [story for story, count in plan.stories.items() for _count in range(count)]
        assert len(stories) == len(graduates), f"{len(stories)} stories for {len(graduates)} graduates"
        self.random.shuffle(stories)
        codes, weights = list(TRACK_WEIGHTS), list(TRACK_WEIGHTS.values())
        chosen = [
            self.tracks["CMAA" if story == "administrative" else self.random.choices(codes, weights)[0]]
            for story in stories
        ]
        # Their targets, chosen while they studied: plain rows in bulk (the tracks are the program's and
        # offered, all the service would check), since a choice long past has no rule left to apply.
        TargetTrack.objects.bulk_create(
            [
                TargetTrack(enrollment=enrollment, track=track)
                for enrollment, track in zip(graduates, chosen, strict=True)
            ]
        )
        for enrollment, story, track in zip(graduates, stories, chosen, strict=True):
            code = track.code
            if story == "none":
                continue
            assert enrollment.graduated_on is not None
            if story == "booked":
                # In 6 and 7 days: whatever the hour `make run` starts, one exam's 7-day reminder is due
                # (the one in 7 days, once today's 9:00 has passed; before it, the one in 6 days, whose
                # reminder was yesterday at 9:00, less than a day late), so the demo mails one.
                self.booked_first_sittings += 1
                self.book(enrollment, track, self.today + timedelta(days=5 + self.booked_first_sittings))
                continue
            if code == "CMA" and self.random.random() < 0.3:
                day = enrollment.graduated_on - timedelta(days=self.random.randint(5, 25))  # CMA: 30 days early
            else:
                day = enrollment.graduated_on + timedelta(days=self.random.randint(7, 35))
            for result in STORIES[story]:
                day = _weekday(day, self.random.choice([1, 2, 3, 5]))
                if day >= self.today:
                    self.book(enrollment, track, day)  # the retake is still to come
                    break
                self.sit(enrollment, track, day, result, imported=imported)
                wait = (track.retake_wait_days or 0) if result == ExamAttempt.Result.FAIL else 0
                day += timedelta(days=max(wait, 14) + self.random.randint(3, 40))

    def book(self, enrollment: Enrollment, track: CertificationTrack, day: date) -> ExamAttempt:
        return services.schedule_exam(
            enrollment=enrollment, track=track, scheduled_on=day, location=LOCATIONS[track.code], by=self.director
        )

    def sit(self, enrollment: Enrollment, track: CertificationTrack, day: date, result: str, *, imported: bool) -> None:
        score = None if result == ExamAttempt.Result.NO_SHOW else self.score(track, passed=result == "pass")
        if imported and result != ExamAttempt.Result.NO_SHOW:
            attempt, _changed = services.record_exam_result(
                enrollment=enrollment,
                track=track,
                taken_on=day,
                result=result,
                score=score,
                by=self.director,
                source=ExamAttempt.Source.IMPORT,
            )
        else:
            attempt = services.record_result(
                attempt=self.book(enrollment, track, day),
                result=result,
                taken_on=None if result == ExamAttempt.Result.NO_SHOW else day,
                score=score,
                by=self.director,
            )
        if result == ExamAttempt.Result.PASS and (imported or self.random.random() < 0.9):
            # The awarding body's number; a few recent ones have not been typed in yet.
            services.set_credential_number(credential=attempt.credential, number=self.number(track.code))

    def score(self, track: CertificationTrack, *, passed: bool) -> Decimal | None:
        """A believable scaled score on the track's scale: at or above its passing score for a pass."""
        if track.passing_score is None:
            return None
        low, _dash, high = track.score_scale.partition("-")
        lowest, highest = (int(low), int(high)) if low.isdigit() and high.isdigit() else (0, 2 * track.passing_score)
        passing = track.passing_score
        if passed:
            return Decimal(self.random.randint(passing, passing + (highest - passing) * 6 // 10))
        return Decimal(self.random.randint(lowest + (passing - lowest) * 55 // 100, passing - 1))

    def number(self, code: str) -> str:
        digits = NUMBER_DIGITS.get(code, 7)
        while True:
            number = str(self.random.randrange(10 ** (digits - 1), 10**digits))
            if (code, number) not in self.numbers:
                self.numbers.add((code, number))
                return number

    # --- Job placement ------------------------------------------------------------------------

    def placements(self, graduates: list[Enrollment], plan: YearPlan) -> None:
        """Where each graduate stood at the survey, by the plan's counts, entered by the coordinator."""
        statuses = [status for status, count in plan.placements.items() for _count in range(count)]
        assert len(statuses) <= len(graduates), "more placements planned than graduates"
        order = list(graduates)
        self.random.shuffle(order)
        for enrollment, status in zip(order, statuses, strict=False):
            assert enrollment.graduated_on is not None
            started = min(enrollment.graduated_on + timedelta(days=self.random.randint(10, 80)), self.today)
            values: dict[str, Any] = {}
            if status == IN:
                values = {
                    "employed_on": started,
                    "employer": self.random.choice(CLINICS),
                    "position": self.random.choice(CLINICAL_POSITIONS),
                }
            elif status == RELATED:
                employer, position = self.random.choice(RELATED_JOBS)
                values = {"employed_on": started, "employer": employer, "position": position}
            elif status == STUDYING:
                school, studies = self.random.choice(STUDIES)
                values = {"employer": school, "position": studies}
            elif status == UNAVAILABLE:
                values = {"unavailable_reason": self.random.choice(UNAVAILABLE_REASONS)}
            services.record_job_placement(enrollment=enrollment, status=status, by=self.coordinator, **values)

    # --- Current students ---------------------------------------------------------------------

    def current_students(self) -> None:
        """Targets for the current cohorts, bookings for the class about to finish (after its expected
        graduation), and the demo student (Maya), months from finishing, aiming at the CMA: nothing to
        book yet, her eligibility checklist says what stands between her and the exam."""
        codes, weights = list(TRACK_WEIGHTS), list(TRACK_WEIGHTS.values())
        enrollments = (
            Enrollment.objects.current()
            .filter(cohort__in=self.current)
            .select_related("cohort__program", "student")
            .order_by("cohort__start_on", "student_number")
        )
        for enrollment in enrollments:
            cohort = enrollment.cohort
            if enrollment.student_id == self.student.pk:
                services.choose_target_track(enrollment=enrollment, track=self.tracks["CMA"])
                continue
            if self.random.random() < 0.2:
                continue  # not chosen yet
            track = self.tracks[self.random.choices(codes, weights)[0]]
            services.choose_target_track(enrollment=enrollment, track=track)
            finishing = (cohort.expected_graduation_on - self.today).days < 120
            if finishing and self.random.random() < 0.3:
                after = timedelta(days=self.random.randint(7, 28))
                self.book(
                    enrollment, track, _weekday(cohort.expected_graduation_on + after, self.random.choice([1, 3]))
                )


def _weekday(day: date, weekday: int) -> date:
    """The first day on or after `day` that falls on `weekday` (Monday 0)."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)
