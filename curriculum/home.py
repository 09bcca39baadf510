"""The home page: "What to do now" first, then each role's panels, without curriculum importing other apps.

An app registers a function in its AppConfig.ready(); the function gets a `Home` (the request, and
for directors and coordinators the program in focus) and returns a `Section`, or None when the
person has nothing there. A section is a panel (a template and its context) for one audience, and
the `tasks` it adds to "What to do now": one sentence each, with its count and a link to where the
person acts. Apps depend on curriculum, never the other way round (README.md, "Layout"), so the
home page asks this registry.

Curriculum's own sections are below the registry: the instructor's grading queue, re-tests and
courses; the student's work and courses; the program office's failed reminders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum, StrEnum
from functools import cached_property
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.http import AuthenticatedRequest
from accounts.models import User
from config import data_version
from curriculum import permissions, progress
from curriculum.models import Assignment, Cohort, Competency, CourseOffering, Enrollment, Grade, Program
from notifications.kinds import kinds
from notifications.models import Message


class Audience(StrEnum):
    """Whose panels a section holds; the page shows them in this order."""

    STAFF = "staff"
    INSTRUCTOR = "instructor"
    PRECEPTOR = "preceptor"
    STUDENT = "student"


AUDIENCE_ORDER = list(Audience)


class Urgency(IntEnum):
    """How soon a task needs the person: "What to do now" lists the most urgent first."""

    OVERDUE = 0  # past its date: late work, an evaluation overdue, a reminder that failed
    BLOCKING = 1  # holds something back: a placement that may not start, a document that expires
    WAITING = 2  # someone waits on this person: work to grade, shifts to approve, a re-test
    PLANNED = 3  # to keep in view: an outcome below its threshold, hours to log, an exam


@dataclass(frozen=True)
class Task:
    """One line of "What to do now": a sentence with its count, and the link to where to act."""

    text: str
    url: str
    urgency: Urgency
    detail: str = ""

    @property
    def overdue(self) -> bool:
        return self.urgency == Urgency.OVERDUE


@dataclass(frozen=True)
class Section:
    """A panel of the home page, and the tasks it adds to "What to do now".

    `checked` names, in a few words each, what the section looked at: with no task anywhere the
    page says "Nothing needs you today" and what it checked, so an empty list is an honest one."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    audience: Audience = Audience.STUDENT
    order: int = 0
    tasks: tuple[Task, ...] = ()
    checked: tuple[str, ...] = ()


class Home:
    """What every section may ask: who is looking, and, for people who run programs, which program.

    A director or coordinator sees one program at a time (`?program=CODE`, else the first by name):
    the program's panels cost the same few queries however many programs the person runs."""

    def __init__(self, request: AuthenticatedRequest) -> None:
        self.request = request
        self.user = request.user

    @cached_property
    def programs(self) -> list[Program]:
        """The programs the person directs or coordinates, by name, each with its number of cohorts
        (`cohort_count`) and of current students (`current_students`): one query."""
        current = Q(cohorts__enrollments__withdrawn_on__isnull=True, cohorts__enrollments__graduated_on__isnull=True)
        return list(
            permissions.administered_programs(self.user)
            .annotate(
                cohort_count=Count("cohorts", distinct=True),
                current_students=Count("cohorts__enrollments", filter=current, distinct=True),
            )
            .order_by("name", "pk")
        )

    @cached_property
    def program(self) -> Program | None:
        """The program in focus: the one asked for among the person's own, else the first."""
        asked = self.request.GET.get("program", "")
        return next((program for program in self.programs if program.code == asked), None) or next(
            iter(self.programs), None
        )

    @cached_property
    def _roles(self) -> tuple[bool, bool]:
        """Whether the person teaches and whether they study, in one query: a section for a role the
        person does not hold costs nothing."""
        found = (
            User.objects.filter(pk=self.user.pk)
            .annotate(
                teaches=Exists(Cohort.objects.filter(pk__in=permissions.taught_cohort_ids(self.user))),
                studies=Exists(Enrollment.objects.filter(student=OuterRef("pk"))),
            )
            .values_list("teaches", "studies")
            .get()
        )
        return found[0], found[1]

    @property
    def teaches(self) -> bool:
        """An instructor of a cohort, or of one of its course offerings."""
        return self._roles[0]

    @property
    def studies(self) -> bool:
        """Enrolled in a cohort, now or before."""
        return self._roles[1]

    @cached_property
    def enrollments(self) -> list[Enrollment]:
        """The person's enrollments with their cohort and program, the latest admitted first."""
        if not self.studies:
            return []
        return list(
            Enrollment.objects.filter(student=self.user).select_related("cohort__program").order_by("-admitted_on")
        )

    @cached_property
    def checkoffs(self) -> tuple[int, int]:
        """(achieved, total) skills check-offs of the person's main enrollment (one query; (0, 0) if none)."""
        main = progress.main_enrollment(self.enrollments)
        return progress.summary(main) if main else (0, 0)

    @cached_property
    def today(self) -> date:
        """The person's own date (the time zone middleware activated theirs)."""
        return timezone.localdate()


# A home is kept in the cache under the data version it was computed at (config/data_version.py): any
# write to the records moves the version, and the next request computes it afresh. It also expires on its
# own, for what changes with the clock alone (an assignment falls overdue at its hour).
CACHE_SECONDS = 300


def cache_key(request: AuthenticatedRequest) -> str:
    """The person, the language and time zone the page is in, the program asked for, today, and the data
    version, read before anything is computed (a write during the computation moves it past this one)."""
    asked = request.GET.get("program", "")[:64]
    zone = timezone.get_current_timezone_name()
    day = timezone.localdate().isoformat()
    return f"home:{request.user.pk}:{translation.get_language()}:{zone}:{day}:{asked}:{data_version.current()}"


SectionFunction = Callable[[Home], "Section | None"]
_registered: list[SectionFunction] = []


def register(function: SectionFunction) -> SectionFunction:
    if function not in _registered:
        _registered.append(function)
    return function


def sections(home: Home) -> list[Section]:
    """The person's sections, by audience and then by each section's order."""
    found = [section for function in _registered if (section := function(home)) is not None]
    return sorted(found, key=lambda section: (AUDIENCE_ORDER.index(section.audience), section.order))


def tasks(found: list[Section]) -> list[Task]:
    """Every section's tasks, the most urgent first; among equals, in the order of the page."""
    every = [task for section in found for task in section.tasks]
    return sorted(every, key=lambda task: task.urgency)  # stable: the page's order among equals


# --- Instructors: grading queue, re-tests, courses, cohorts ------------------------------------

QUEUE_SHOWN = 10
RETESTS_SHOWN = 10
PAST_COURSES_SHOWN = 10


def _current_students_of_cohort(cohort: Any) -> Coalesce:
    """A subquery: the current students (neither withdrawn nor graduated) of the cohort given."""
    counted = (
        Enrollment.objects.current()
        .filter(cohort=cohort)
        .order_by()
        .values("cohort")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def grading_queue(user: Any, now: Any) -> list[Assignment]:
    """Assignments past their due date, in the offerings the person grades, that some current
    student has no grade for yet: oldest first, each with `students`, `graded` and `missing` (one query)."""
    graded = (
        Grade.objects.filter(
            assignment=OuterRef("pk"), enrollment__withdrawn_on__isnull=True, enrollment__graduated_on__isnull=True
        )
        .order_by()
        .values("assignment")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        Assignment.objects.filter(offering__instructor=user, due_at__lt=now)
        .annotate(
            students=_current_students_of_cohort(OuterRef("offering__cohort")),
            graded=Coalesce(Subquery(graded, output_field=IntegerField()), Value(0)),
        )
        .annotate(missing=F("students") - F("graded"))
        .filter(missing__gt=0)
        .select_related("offering__course", "offering__cohort")
        .order_by("due_at", "pk")
    )


@dataclass(frozen=True)
class Retest:
    enrollment: Enrollment
    competency: Competency
    cell: progress.Cell


def retests(user: Any) -> list[Retest]:
    """Competencies the current students of the person's cohorts attempted and have not passed yet
    (the rule of `progress.cells`): longest waiting first, in three queries."""
    taught = permissions.taught_cohort_ids(user)
    enrollments = {
        enrollment.pk: enrollment
        for enrollment in Enrollment.objects.current().filter(cohort__in=taught).select_related("student", "cohort")
    }
    if not enrollments:
        return []
    competencies = {
        competency.pk: competency
        for competency in Competency.objects.signed_off().filter(framework__programs__cohorts__in=taught).distinct()
    }
    found = [
        Retest(enrollments[enrollment_id], competencies[competency_id], cell)
        for (enrollment_id, competency_id), cell in progress.cells(enrollments, competencies).items()
        if cell.status == progress.Status.ATTEMPTED
    ]
    return sorted(found, key=lambda retest: (retest.cell.last_performed_at or timezone.now(), retest.enrollment.pk))


def _teaching(user: Any) -> QuerySet[CourseOffering]:
    return (
        CourseOffering.objects.filter(Q(instructor=user) | Q(cohort__instructors=user))
        .distinct()
        .select_related("course", "cohort")
        .annotate(
            student_count=Count(
                "cohort__enrollments",
                filter=Q(
                    cohort__enrollments__withdrawn_on__isnull=True, cohort__enrollments__graduated_on__isnull=True
                ),
                distinct=True,
            ),
            assignment_count=Count("assignments", distinct=True),
        )
    )


def _grading_task(queue: list[Assignment]) -> Task:
    missing = sum(assignment.missing for assignment in queue)  # type: ignore[attr-defined]
    url = reverse("curriculum:gradebook", args=[queue[0].offering_id]) if len(queue) == 1 else "#grading-heading"
    return Task(
        text=ngettext(
            "Grade %(count)s assignment past its due date",
            "Grade %(count)s assignments past their due date",
            len(queue),
        )
        % {"count": len(queue)},
        detail=ngettext("%(count)s grade missing.", "%(count)s grades missing.", missing) % {"count": missing},
        url=url,
        urgency=Urgency.WAITING,
    )


def _retest_task(found: list[Retest]) -> Task:
    if len(found) == 1:
        url = reverse("curriculum:checkoff-new", args=[found[0].enrollment.pk, found[0].competency.pk])
    else:
        url = "#retests-heading"
    return Task(
        text=ngettext(
            "%(count)s check-off to repeat: attempted, not passed yet",
            "%(count)s check-offs to repeat: attempted, not passed yet",
            len(found),
        )
        % {"count": len(found)},
        url=url,
        urgency=Urgency.WAITING,
    )


def instructor_section(home: Home) -> Section | None:
    """What an instructor acts on: work to grade, check-offs to repeat, then their courses and cohorts."""
    if not home.teaches:
        return None
    user = home.user
    cohorts = list(
        Cohort.objects.filter(pk__in=permissions.taught_cohort_ids(user))
        .select_related("program")
        .annotate(current_students=progress.current_students())
        .order_by("-start_on", "pk")[:20]
    )
    today = home.today
    running = list(_teaching(user).filter(ends_on__gte=today).order_by("starts_on", "pk"))
    past = list(_teaching(user).filter(ends_on__lt=today).order_by("-ends_on", "-pk")[:PAST_COURSES_SHOWN])
    if not cohorts and not running and not past:
        return None
    queue = grading_queue(user, timezone.now())
    found = retests(user)
    tasks = []
    if queue:
        tasks.append(_grading_task(queue))
    if found:
        tasks.append(_retest_task(found))
    return Section(
        "curriculum/home_instructor.html",
        {
            "cohorts": cohorts,
            "current": [offering for offering in running if offering.starts_on <= today],
            "upcoming": [offering for offering in running if offering.starts_on > today],
            "past": past,
            "queue": queue[:QUEUE_SHOWN],
            "queue_total": len(queue),
            "retests": found[:RETESTS_SHOWN],
            "retests_total": len(found),
            "retest_cohorts": sorted({retest.enrollment.cohort for retest in found}, key=lambda cohort: cohort.pk),
        },
        audience=Audience.INSTRUCTOR,
        tasks=tuple(tasks),
        checked=(_("work to grade"), _("check-offs to repeat")),
    )


# --- Students: what is due, skills check-offs, courses -----------------------------------------

UPCOMING_SHOWN = 10


def _student_course_progress(student: Any, cohort_ids: list[int]) -> list[CourseOffering]:
    """The student's offerings with their points so far, in one query."""
    mine = Q(assignments__grades__enrollment__student=student)
    return list(
        CourseOffering.objects.filter(cohort__in=cohort_ids)
        .select_related("course", "instructor", "cohort")
        .annotate(
            assignment_count=Count("assignments", distinct=True),
            graded_count=Count("assignments__grades", filter=mine, distinct=True),
            points_earned=Sum("assignments__grades__points_earned", filter=mine),
            points_graded=Sum("assignments__points", filter=mine),
        )
        .order_by("starts_on", "course__code")
    )


def student_section(home: Home) -> Section | None:
    """The student's work: overdue and coming up, and how many skills check-offs are achieved."""
    enrollments = home.enrollments
    if not enrollments:
        return None
    user = home.user
    now = timezone.now()
    cohort_ids = [enrollment.cohort_id for enrollment in enrollments]
    unmarked = Assignment.objects.filter(offering__cohort__in=cohort_ids).exclude(grades__enrollment__student=user)
    upcoming = list(unmarked.select_related("offering__course").order_by("due_at", "pk")[:UPCOMING_SHOWN])
    overdue = unmarked.filter(due_at__lt=now).count()
    achieved, total = home.checkoffs
    tasks = []
    if overdue:
        tasks.append(
            Task(
                text=ngettext(
                    "%(count)s assignment is overdue",
                    "%(count)s assignments are overdue",
                    overdue,
                )
                % {"count": overdue},
                detail=_("Hand it in, or ask your instructor what to do."),
                url="#due-heading",
                urgency=Urgency.OVERDUE,
            )
        )
    return Section(
        "curriculum/home_student.html",
        {
            "upcoming": upcoming,
            "now": now,
            "checkoffs": {"achieved": achieved, "total": total},
        },
        audience=Audience.STUDENT,
        order=10,
        tasks=tuple(tasks),
        checked=(_("overdue work"),),
    )


def student_courses_section(home: Home) -> Section | None:
    """The student's courses and their grades so far, after the externship and certification panels."""
    enrollments = home.enrollments
    if not enrollments:
        return None
    return Section(
        "curriculum/home_student_courses.html",
        {
            "enrollments": enrollments,
            "offerings": _student_course_progress(home.user, [enrollment.cohort_id for enrollment in enrollments]),
        },
        audience=Audience.STUDENT,
        order=40,
    )


# --- Directors and coordinators: reminders that failed -----------------------------------------

FAILED_SHOWN = 5


def failed_reminders_section(home: Home) -> Section | None:
    """Messages of the program in focus that failed and were not sent again: two queries."""
    program = home.program
    if program is None or not permissions.can_view_outbox(home.user, program):
        return None
    failed = (
        Message.objects.for_program(program.pk)
        .filter(state=Message.State.FAILED)
        .exclude(Exists(Message.objects.filter(resent_from=OuterRef("pk"))))
    )
    count = failed.count()
    known = kinds()
    latest = [
        (message, known.get(message.kind))
        for message in (failed.select_related("recipient").order_by("-due_at", "-pk")[:FAILED_SHOWN] if count else [])
    ]
    outbox = reverse("curriculum:outbox", args=[program.code]) + "?state=failed"
    tasks: tuple[Task, ...] = ()
    if count:
        tasks = (
            Task(
                text=ngettext(
                    "%(count)s reminder failed and was not sent again",
                    "%(count)s reminders failed and were not sent again",
                    count,
                )
                % {"count": count},
                detail=_("Check the address or the mail server, then send it again from the outbox."),
                url=outbox,
                urgency=Urgency.OVERDUE,
            ),
        )
    return Section(
        "curriculum/home_reminders.html",
        {"program": program, "count": count, "latest": latest, "outbox": outbox},
        audience=Audience.STAFF,
        order=90,
        tasks=tasks,
        checked=(_("failed reminders"),),
    )
