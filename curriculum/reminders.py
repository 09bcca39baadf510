"""What curriculum reminds of: an assignment due tomorrow, and instructors' weekly check-off digest.

Checkoff records no hand-ins: coursework is marked by a grade, so an assignment a student has no
grade for is, as far as the app knows, not handed in. That is the rule for `assignment_due`.

The digest counts what `curriculum/progress.py` calls achieved and attempted, with one difference
the digest needs: only standing attempts (signed, signature not revoked) count at all, so a
competency whose only pass was revoked is "not yet attempted" again, the thing to do next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from curriculum.models import (
    Assignment,
    Attempt,
    Cohort,
    Competency,
    CourseOffering,
    Domain,
    Enrollment,
    Grade,
    Program,
)
from notifications.kinds import Due, Kind, Window

ASSIGNMENT = "assignment_due"
DIGEST = "instructor_digest"

KINDS = [
    Kind(
        key=ASSIGNMENT,
        audience=_("Students"),
        label=_("An assignment due tomorrow"),
        title=ngettext_lazy("“%(assignment)s” is due tomorrow", "“%(assignment)s” is due in %(days)s days", "days"),
        body=_(
            "%(assignment)s in %(course)s is due on %(due_on)s at %(due_time)s. It has no grade yet: "
            "hand it in before the deadline."
        ),
        action=_("See your course"),
        offsets=(1,),
        offsets_mean=_("days before the assignment is due"),
    ),
    Kind(
        key=DIGEST,
        audience=_("Instructors"),
        label=_("A weekly digest of your students' check-offs"),
        title=_("Your students' check-offs, week of %(week_on)s"),
        body=ngettext_lazy(
            "Your %(students)s current student in %(cohorts)s. Check-offs failed and not passed since: "
            "%(pending)s. Check-offs not attempted yet: %(not_attempted)s.",
            "Your %(students)s current students in %(cohorts)s. Check-offs failed and not passed since: "
            "%(pending)s. Check-offs not attempted yet: %(not_attempted)s.",
            "students",
        ),
        action=_("See the competency grid"),
        offsets=(0,),
        offsets_mean=_("weekdays (0 is Monday)"),
        weekly=True,
    ),
]


# --- Assignments ----------------------------------------------------------------------------


def assignments(window: Window) -> Iterator[Due]:
    """Each current student of the offering's cohort with no grade for an assignment: the days
    before its local due date, at the program's hour, and never once it is already due."""
    first = window.now - timedelta(days=1)  # a moment is after now less a day, and before the work is due
    last = window.horizon + timedelta(days=window.longest(ASSIGNMENT) + 2)
    graded = Grade.objects.filter(assignment=OuterRef("pk"), enrollment=OuterRef("enrollment_id"))
    # One filter() call: the three conditions hold for the same enrollment row of the join.
    owed = (
        Assignment.objects.filter(due_at__range=(first, last))
        .filter(
            offering__cohort__enrollments__withdrawn_on__isnull=True,
            offering__cohort__enrollments__graduated_on__isnull=True,
            offering__cohort__enrollments__student__is_active=True,
        )
        .annotate(enrollment_id=F("offering__cohort__enrollments__pk"))
        .filter(~Exists(graded))
        .order_by()
        .values(
            "pk",
            "title",
            "due_at",
            "offering_id",
            course=F("offering__course__title"),
            student_id=F("offering__cohort__enrollments__student_id"),
            program_id=F("offering__cohort__program_id"),
            zone=F("offering__cohort__program__time_zone"),
        )
    )
    zones: dict[str, ZoneInfo] = {}
    urls: dict[int, str] = {}
    for row in owed:
        zone = zones.setdefault(row["zone"], ZoneInfo(row["zone"]))
        due_at = row["due_at"].astimezone(zone)
        due_on = due_at.date()
        for offset, moment in window.offset_days(
            event_on=due_on, zone=zone, program_id=row["program_id"], kind=ASSIGNMENT
        ):
            if moment >= due_at:  # an offset of 0 at 9:00 for work due at 8:00
                continue
            offering_id = row["offering_id"]
            if offering_id not in urls:
                urls[offering_id] = reverse("curriculum:offering-detail", args=[offering_id])
            yield Due(
                recipient_id=row["student_id"],
                kind=ASSIGNMENT,
                subject=f"assignment:{row['pk']}",
                occasion=f"{due_on.isoformat()}/{offset}",
                due_at=moment,
                program_id=row["program_id"],
                url=urls[offering_id],
                context={
                    "assignment": row["title"],
                    "course": row["course"],
                    "due_on": due_on.isoformat(),
                    "due_time": due_at.strftime("%H:%M"),
                    "days": offset,
                },
            )


# --- The instructors' weekly digest ---------------------------------------------------------


def _standing_competencies_per_enrollment(*, passes_only: bool) -> Coalesce:
    """A subquery for an Enrollment queryset: distinct tracked competencies of the student's
    program with a standing attempt (a standing pass, with `passes_only`)."""
    attempts = Attempt.objects.standing().filter(
        enrollment=OuterRef("pk"),
        competency__domain__in=[Domain.PSYCHOMOTOR, Domain.AFFECTIVE],
        competency__is_tracked=True,
        competency__framework_id=OuterRef("cohort__program__framework_id"),
    )
    attempts = attempts.filter(
        Q(competency__program__isnull=True) | Q(competency__program_id=OuterRef("cohort__program_id"))
    )
    if passes_only:
        attempts = attempts.filter(passed=True)
    counted = (
        attempts.order_by().values("enrollment").annotate(count=Count("competency", distinct=True)).values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _tracked_per_program(programs: dict[int, int]) -> dict[int, int]:
    """Program → its tracked P and A competencies (its framework's and its own), in one query.

    `programs`: program id → framework id."""
    rows = (
        Competency.objects.signed_off()
        .filter(framework_id__in=set(programs.values()))
        .order_by()
        .values("framework_id", "program_id")
        .annotate(count=Count("pk"))
    )
    counts: dict[tuple[int, int | None], int] = {(row["framework_id"], row["program_id"]): row["count"] for row in rows}
    return {
        program_id: counts.get((framework_id, None), 0) + counts.get((framework_id, program_id), 0)
        for program_id, framework_id in programs.items()
    }


@dataclass
class _Digest:
    """One instructor's digest in one program, summed over the cohorts they teach there."""

    moments: list[tuple[date, datetime]]
    cohorts: list[int] = field(default_factory=list)
    students: int = 0
    pending: int = 0
    not_attempted: int = 0


def digests(window: Window) -> Iterator[Due]:
    """Each instructor of a cohort (the cohort's own, or an offering's), per program: their current
    students' check-offs failed and not passed since, and those not attempted yet, each a student
    on a competency. Skipped when both are zero. In four queries, whatever the number of students."""
    programs = list(
        Program.objects.filter(framework__isnull=False).order_by().values("pk", "time_zone", "framework_id")
    )
    moments = {
        program["pk"]: weekly
        for program in programs
        if (weekly := list(window.weekdays(ZoneInfo(program["time_zone"]), program["pk"], DIGEST)))
    }
    if not moments:
        return
    frameworks = {program["pk"]: program["framework_id"] for program in programs if program["pk"] in moments}
    tracked = _tracked_per_program(frameworks)
    per_cohort = (
        Enrollment.objects.current()
        .filter(cohort__program_id__in=list(moments))
        .order_by()
        .values("cohort_id", "cohort__name", "cohort__program_id")
        .annotate(
            students=Count("pk"),
            attempted=Sum(_standing_competencies_per_enrollment(passes_only=False)),
            passes=Sum(_standing_competencies_per_enrollment(passes_only=True)),
        )
    )
    cohorts = {row["cohort_id"]: row for row in per_cohort}
    taught = (
        Cohort.instructors.through.objects.filter(cohort__program_id__in=list(moments), user__is_active=True)
        .order_by()
        .values_list("cohort_id", "user_id")
        .union(
            CourseOffering.objects.filter(
                cohort__program_id__in=list(moments), instructor__isnull=False, instructor__is_active=True
            )
            .order_by()
            .values_list("cohort_id", "instructor_id")
        )
    )
    found: dict[tuple[int, int], _Digest] = {}
    for cohort_id, instructor_id in taught:
        row = cohorts.get(cohort_id)
        if row is None:  # no current students
            continue
        program_id = row["cohort__program_id"]
        digest = found.setdefault((instructor_id, program_id), _Digest(moments[program_id]))
        digest.cohorts.append(cohort_id)
        digest.students += row["students"]
        digest.pending += row["attempted"] - row["passes"]
        digest.not_attempted += row["students"] * tracked[program_id] - row["attempted"]
    home = reverse("home")
    for (instructor_id, program_id), digest in found.items():
        if not digest.pending and not digest.not_attempted:
            continue
        names = sorted(cohorts[cohort_id]["cohort__name"] for cohort_id in digest.cohorts)
        # One cohort: its grid. Several: the home page, which lists each taught cohort with its grid.
        url = reverse("curriculum:competency-grid", args=[digest.cohorts[0]]) if len(digest.cohorts) == 1 else home
        for day, moment in digest.moments:
            year, week, _weekday = day.isocalendar()
            yield Due(
                recipient_id=instructor_id,
                kind=DIGEST,
                subject=f"program:{program_id}",
                occasion=f"{year}-W{week:02d}",
                due_at=moment,
                program_id=program_id,
                url=url,
                context={
                    "week_on": (day - timedelta(days=day.weekday())).isoformat(),
                    "cohorts": ", ".join(names),
                    "students": digest.students,
                    "pending": digest.pending,
                    "not_attempted": digest.not_attempted,
                },
            )


def due(window: Window) -> Iterator[Due]:
    yield from assignments(window)
    yield from digests(window)
