"""The externship sections of each person's home page (registered with curriculum.home).

Each answers "what should I do now?" from the externship's own rules: the practicum gate
(`readiness`), hours progress (`services.hours`), and the days evaluations are due.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from curriculum.home import Audience, Home, Section, Task, Urgency
from curriculum.models import Enrollment, Program
from externships import permissions, readiness
from externships.models import ComplianceRecord, Evaluation, HoursEntry, Kind, Placement
from externships.services import hours as hours_services
from externships.services.hours import DURATION

OPEN = (Placement.State.PLANNED, Placement.State.ACTIVE)
# A planned placement this close to its start, whose student may not start it, is not on track.
STARTING_WITHIN_DAYS = 30
# Evaluations of a placement completed this long ago are no longer chased from the home page.
COMPLETED_WITHIN_DAYS = 30
# A preceptor's evaluation due this soon is on their list before it is late.
DUE_SOON_DAYS = 7
ROWS_SHOWN = 10


def _day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def evaluation_due_on(placement: Placement, kind: str) -> date:
    """When an evaluation of the placement is due (Kind.due_on, the day the reminders use), in the program's
    time zone."""
    completed_at = placement.completed_at
    return Kind(kind).due_on(
        start_on=placement.start_on,
        end_on=placement.end_on,
        completed_on=(
            completed_at.astimezone(placement.enrollment.cohort.program.zone).date() if completed_at else None
        ),
    )


def _with_evaluations(placements: Any) -> Any:
    """Annotate `has_midpoint`, `has_final` and `has_site`: which evaluations are in, no query per row."""
    return placements.annotate(
        **{
            f"has_{kind}": Exists(Evaluation.objects.filter(placement=OuterRef("pk"), kind=kind))
            for kind in (Kind.MIDPOINT, Kind.FINAL, Kind.SITE)
        }
    )


@dataclass(frozen=True)
class Due:
    """An evaluation not submitted yet, and when it is due."""

    placement: Placement
    kind: str
    due_on: date

    @property
    def label(self) -> str:
        return str(Kind(self.kind).label)


def _preceptor_evaluations_due(placement: Placement) -> list[Due]:
    """The preceptor's evaluations of an active placement not in yet: the final follows the midpoint."""
    if placement.state != Placement.State.ACTIVE:
        return []
    if not placement.has_midpoint:  # type: ignore[attr-defined]
        return [Due(placement, Kind.MIDPOINT, evaluation_due_on(placement, Kind.MIDPOINT))]
    if not placement.has_final:  # type: ignore[attr-defined]
        return [Due(placement, Kind.FINAL, evaluation_due_on(placement, Kind.FINAL))]
    return []


def _student_name(placement: Placement) -> str:
    student = placement.enrollment.student
    return student.full_name or student.email


# --- Preceptors ------------------------------------------------------------------------------


@dataclass
class Week:
    monday: date
    waiting: int = 0
    approved: int = 0
    hours: float = 0.0

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def anchor(self) -> str:
        return f"week-{self.monday.isoformat()}"


@dataclass
class PreceptorRow:
    placement: Placement
    progress: hours_services.Progress
    waiting_weeks: list[Week] = field(default_factory=list)
    approved_weeks: list[Week] = field(default_factory=list)
    evaluations: list[Due] = field(default_factory=list)

    @property
    def approved_hours(self) -> float:
        return sum(week.hours for week in self.approved_weeks)


def _weeks(placement_ids: list[int]) -> dict[int, list[Week]]:
    """Each placement's shifts by week (Monday to Sunday), newest first: waiting and approved shifts
    and the week's hours, in one query. Returned shifts are the student's to correct, not counted."""
    rows = (
        HoursEntry.objects.filter(
            placement__in=placement_ids, state__in=(HoursEntry.State.SUBMITTED, HoursEntry.State.APPROVED)
        )
        .annotate(monday=TruncWeek("work_date"))
        .order_by()
        .values("placement_id", "monday")
        .annotate(
            waiting=Count("pk", filter=Q(state=HoursEntry.State.SUBMITTED)),
            approved=Count("pk", filter=Q(state=HoursEntry.State.APPROVED)),
            worked=Sum(DURATION),
        )
    )
    weeks: dict[int, list[Week]] = defaultdict(list)
    for row in rows:
        monday = row["monday"].date() if hasattr(row["monday"], "date") else row["monday"]
        weeks[row["placement_id"]].append(
            Week(
                monday=monday,
                waiting=row["waiting"],
                approved=row["approved"],
                hours=round(row["worked"].total_seconds() / 3600, 2),
            )
        )
    for found in weeks.values():
        found.sort(key=lambda week: week.monday, reverse=True)
    return weeks


def preceptor_section(home: Home) -> Section | None:
    """A preceptor's students: the weeks with shifts waiting for them first, the weeks they approved
    folded away, and the evaluations due; three queries."""
    user = home.user
    if not permissions.is_preceptor(user):
        return None
    placements = list(
        _with_evaluations(
            hours_services.with_hours(
                Placement.objects.filter(
                    preceptor__user=user,
                    preceptor__is_active=True,
                    state__in=(*OPEN, Placement.State.COMPLETED),
                )
            )
        )
        .annotate(waiting=Count("hours", filter=Q(hours__state=HoursEntry.State.SUBMITTED)))
        .filter(Q(state__in=OPEN) | Q(waiting__gt=0))
        .select_related("enrollment__student", "enrollment__cohort__program", "site")
        .order_by("-waiting", "state", "end_on", "pk")
    )
    weeks = _weeks([placement.pk for placement in placements])
    rows = []
    for placement in placements:
        placement_weeks = weeks.get(placement.pk, [])
        rows.append(
            PreceptorRow(
                placement=placement,
                progress=hours_services.progress_of(placement),
                waiting_weeks=[week for week in placement_weeks if week.waiting],
                approved_weeks=[week for week in placement_weeks if not week.waiting],
                evaluations=_preceptor_evaluations_due(placement),
            )
        )
    return Section(
        "externships/home_preceptor.html",
        {"rows": rows, "today": home.today},
        audience=Audience.PRECEPTOR,
        tasks=tuple(_preceptor_tasks(rows, home.today)),
        checked=(_("shifts to approve"), _("evaluations due")),
    )


def _preceptor_tasks(rows: list[PreceptorRow], today: date) -> list[Task]:
    """Evaluations overdue, then the shifts waiting, then evaluations due within DUE_SOON_DAYS, soonest first."""
    overdue: list[Task] = []
    soon: list[tuple[date, Task]] = []
    for row in rows:
        for due in row.evaluations:
            if due.due_on > today + timedelta(days=DUE_SOON_DAYS):
                continue
            words = {"evaluation": due.label, "student": _student_name(row.placement), "day": _day(due.due_on)}
            url = reverse("externships:evaluation-new", args=[row.placement.pk, due.kind])
            if due.due_on < today:
                text = _("%(evaluation)s: %(student)s, overdue since %(day)s") % words
                overdue.append(Task(text=text, url=url, urgency=Urgency.OVERDUE))
            else:
                text = _("%(evaluation)s: %(student)s, due on %(day)s") % words
                soon.append((due.due_on, Task(text=text, url=url, urgency=Urgency.WAITING)))
    soon.sort(key=lambda pair: pair[0])
    tasks = overdue
    waiting = [row for row in rows if row.placement.waiting]  # type: ignore[attr-defined]
    if waiting:
        shifts = sum(row.placement.waiting for row in waiting)  # type: ignore[attr-defined]
        if len(waiting) == 1:
            first = waiting[0]
            anchor = f"#{first.waiting_weeks[-1].anchor}" if first.waiting_weeks else ""
            url = reverse("externships:placement-detail", args=[first.placement.pk]) + anchor
        else:
            url = "#precepting-heading"
        tasks.append(
            Task(
                text=ngettext(
                    "Approve %(shifts)s shift of %(students)s",
                    "Approve %(shifts)s shifts of %(students)s",
                    shifts,
                )
                % {
                    "shifts": shifts,
                    "students": _student_name(waiting[0].placement)
                    if len(waiting) == 1
                    else ngettext("%(count)s student", "%(count)s students", len(waiting)) % {"count": len(waiting)},
                },
                url=url,
                urgency=Urgency.WAITING,
            )
        )
    return tasks + [task for _day_due, task in soon]


# --- Students ---------------------------------------------------------------------------------


def student_section(home: Home) -> Section | None:
    """The student's placement and hours, and what they must do for it: correct returned shifts,
    upload documents, log hours, evaluate the site. Five queries."""
    if not home.studies:
        return None
    user = home.user
    placements = list(
        _with_evaluations(hours_services.with_hours(Placement.objects.filter(enrollment__student=user)))
        .filter(state__in=(*OPEN, Placement.State.COMPLETED))
        .annotate(returned=Count("hours", filter=Q(hours__state=HoursEntry.State.RETURNED)))
        .select_related("site", "preceptor__user", "enrollment__cohort__program")
        .order_by("state", "start_on", "pk")  # "active" sorts before "completed" and "planned"
    )
    placement = next((each for each in placements if each.state in OPEN), None)
    enrollment = next((each for each in home.enrollments if not each.withdrawn_on and not each.graduated_on), None)
    if placement is None and enrollment is None:
        return None
    program: Program = placement.enrollment.cohort.program if placement else enrollment.cohort.program  # type: ignore[union-attr]
    today = program.today()
    through = placement.end_on if placement else today
    requirements = readiness.required_requirements(program, placement.site if placement else None)
    statuses = readiness.compliance_statuses(user.pk, requirements, through)
    unmet = [status for status in statuses if not status.met]
    waiting_review = set(
        ComplianceRecord.objects.filter(
            student=user,
            requirement__in=[status.requirement.pk for status in unmet],
            state=ComplianceRecord.State.PENDING,
        ).values_list("requirement_id", flat=True)
    )
    to_upload = [status for status in unmet if status.requirement.pk not in waiting_review]
    progress = hours_services.progress_of(placement, today=today) if placement else None
    return Section(
        "externships/home_student.html",
        {
            "placement": placement,
            "progress": progress,
            "documents_met": len(statuses) - len(unmet),
            "documents_total": len(statuses),
        },
        audience=Audience.STUDENT,
        order=20,
        tasks=tuple(_student_tasks(placements, placement, progress, to_upload, today, home.checkoffs)),
        checked=(_("skills check-offs"), _("documents"), _("practicum hours")),
    )


def _student_tasks(
    placements: list[Placement],
    placement: Placement | None,
    progress: hours_services.Progress | None,
    to_upload: list[readiness.RequirementStatus],
    today: date,
    checkoffs: tuple[int, int],
) -> list[Task]:
    tasks = []
    for each in placements:
        if each.state not in (Placement.State.ACTIVE, Placement.State.COMPLETED) or each.has_site:  # type: ignore[attr-defined]
            continue
        due_on = evaluation_due_on(each, Kind.SITE)
        completed_long_ago = each.completed_at and each.completed_at < timezone.now() - timedelta(
            days=COMPLETED_WITHIN_DAYS
        )
        if due_on <= today and not completed_long_ago:
            tasks.append(
                Task(
                    text=_("Evaluate %(site)s: your evaluation of the site was due on %(day)s")
                    % {"site": each.site.name, "day": _day(due_on)},
                    url=reverse("externships:evaluation-new", args=[each.pk, Kind.SITE]),
                    urgency=Urgency.OVERDUE if due_on < today else Urgency.WAITING,
                )
            )
    if placement is not None and placement.returned:  # type: ignore[attr-defined]
        tasks.append(
            Task(
                text=ngettext(
                    "Correct %(count)s shift your preceptor returned",
                    "Correct %(count)s shifts your preceptor returned",
                    placement.returned,  # type: ignore[attr-defined]
                )
                % {"count": placement.returned},  # type: ignore[attr-defined]
                detail=_("Returned hours do not count until you correct them."),
                url=reverse("externships:placement-detail", args=[placement.pk]),
                urgency=Urgency.BLOCKING,
            )
        )
    achieved, total = checkoffs
    started = any(each.state != Placement.State.PLANNED for each in placements)
    if achieved < total and not started:
        # The practicum gate's first condition (readiness.gate_problems): every P and A competency achieved.
        tasks.append(
            Task(
                text=ngettext(
                    "Pass %(count)s more skills check-off before your practicum",
                    "Pass %(count)s more skills check-offs before your practicum",
                    total - achieved,
                )
                % {"count": total - achieved},
                detail=_("%(achieved)s of %(total)s achieved so far.") % {"achieved": achieved, "total": total},
                url=reverse("curriculum:my-competencies"),
                urgency=Urgency.BLOCKING,
            )
        )
    if to_upload:
        tasks.append(
            Task(
                text=ngettext(
                    "Upload %(count)s compliance document",
                    "Upload %(count)s compliance documents",
                    len(to_upload),
                )
                % {"count": len(to_upload)},
                detail=" ".join(status.problem for status in to_upload[:3]),
                url=reverse("externships:my-compliance"),
                urgency=Urgency.BLOCKING,
            )
        )
    if (
        placement is not None
        and progress is not None
        and placement.state == Placement.State.ACTIVE
        and not progress.done
    ):
        detail = (
            _("About %(pace)s hours a week finishes by %(day)s.")
            % {"pace": f"{progress.weekly_pace:g}", "day": _day(placement.end_on)}
            if progress.weekly_pace
            else ""
        )
        tasks.append(
            Task(
                text=_("Log your shifts: %(approved)s of %(required)s hours approved")
                % {"approved": f"{progress.approved:g}", "required": progress.required},
                detail=(_("You are behind pace.") + " " + detail).strip() if progress.behind else detail,
                url=reverse("externships:shift-log", args=[placement.pk]),
                urgency=Urgency.BLOCKING if progress.behind else Urgency.PLANNED,
            )
        )
    return tasks


# --- Directors and coordinators -----------------------------------------------------------------


def _evaluations_overdue(program: Program, today: date) -> list[Due]:
    """Evaluations past their day: the preceptor's of active placements, and the student's of the
    site for placements active or completed lately (one query)."""
    recently = timezone.now() - timedelta(days=COMPLETED_WITHIN_DAYS)
    placements = (
        _with_evaluations(
            Placement.objects.filter(
                Q(state=Placement.State.ACTIVE) | Q(state=Placement.State.COMPLETED, completed_at__gte=recently),
                enrollment__cohort__program=program,
                enrollment__withdrawn_on__isnull=True,
                start_on__lt=today,
            )
        )
        .filter(Q(has_midpoint=False) | Q(has_final=False) | Q(has_site=False))
        .select_related("enrollment__student", "enrollment__cohort__program", "site", "preceptor__user")
        .order_by("start_on", "pk")
    )
    found = []
    for placement in placements:
        late = [due for due in _preceptor_evaluations_due(placement) if due.due_on < today]
        if not placement.has_site:
            due_on = evaluation_due_on(placement, Kind.SITE)
            if due_on < today:
                late.append(Due(placement, Kind.SITE, due_on))
        found += late
    return sorted(found, key=lambda due: (due.due_on, due.placement.pk))


def _program_readiness(program: Program, today: date) -> list[readiness.StudentReadiness]:
    """The practicum gate for the program's students with an active placement, or a planned one
    starting within STARTING_WITHIN_DAYS, judged by `readiness.students_readiness` in a fixed
    number of queries."""
    placed = Placement.objects.filter(
        Q(state=Placement.State.ACTIVE)
        | Q(state=Placement.State.PLANNED, start_on__lte=today + timedelta(days=STARTING_WITHIN_DAYS)),
        enrollment__cohort__program=program,
    ).values("enrollment")
    return readiness.students_readiness(program, Enrollment.objects.current().filter(pk__in=placed))


def staff_section(home: Home) -> Section | None:
    """For directors and coordinators, in the program in focus: students who may not start their
    placement on time, documents that expire before a placement ends, evaluations overdue, documents
    waiting for review. A fixed number of queries however many students."""
    program = home.program
    if program is None or not permissions.can_manage_externships(home.user, program):
        return None
    today = program.today()
    students = _program_readiness(program, today)
    not_ready = [
        student
        for student in students
        if student.placement and student.placement.state == Placement.State.PLANNED and not student.ready
    ]
    expiring = [
        student
        for student in students
        if student.placement and student.placement.state == Placement.State.ACTIVE and student.compliance_missing
    ]
    overdue = _evaluations_overdue(program, today)
    documents_waiting = ComplianceRecord.objects.filter(
        requirement__program=program, state=ComplianceRecord.State.PENDING
    ).count()
    active = Placement.objects.filter(enrollment__cohort__program=program, state=Placement.State.ACTIVE).count()
    return Section(
        "externships/home_staff.html",
        {
            "program": program,
            "not_ready": not_ready[:ROWS_SHOWN],
            "not_ready_total": len(not_ready),
            "expiring": expiring[:ROWS_SHOWN],
            "expiring_total": len(expiring),
            "overdue": overdue[:ROWS_SHOWN],
            "overdue_total": len(overdue),
            "documents_waiting": documents_waiting,
            "active": active,
            "starting_by": today + timedelta(days=STARTING_WITHIN_DAYS),
        },
        audience=Audience.STAFF,
        order=20,
        tasks=tuple(_staff_tasks(program, not_ready, expiring, overdue, documents_waiting)),
        checked=(
            _("practicum readiness"),
            _("documents valid through each placement"),
            _("overdue evaluations"),
            _("documents to review"),
        ),
    )


def _staff_tasks(
    program: Program,
    not_ready: list[readiness.StudentReadiness],
    expiring: list[readiness.StudentReadiness],
    overdue: list[Due],
    documents_waiting: int,
) -> list[Task]:
    tasks = []
    if overdue:
        tasks.append(
            Task(
                text=ngettext("%(count)s evaluation is overdue", "%(count)s evaluations are overdue", len(overdue))
                % {"count": len(overdue)},
                url="#evaluations-overdue-heading",
                urgency=Urgency.OVERDUE,
            )
        )
    if not_ready:
        tasks.append(
            Task(
                text=ngettext(
                    "%(count)s student may not start their placement on time",
                    "%(count)s students may not start their placement on time",
                    len(not_ready),
                )
                % {"count": len(not_ready)},
                detail=_("Competencies, documents or the site's agreement are missing."),
                url="#not-ready-heading",
                urgency=Urgency.BLOCKING,
            )
        )
    if expiring:
        tasks.append(
            Task(
                text=ngettext(
                    "%(count)s student on placement lacks documents valid until it ends",
                    "%(count)s students on placement lack documents valid until their placement ends",
                    len(expiring),
                )
                % {"count": len(expiring)},
                url="#expiring-heading",
                urgency=Urgency.BLOCKING,
            )
        )
    if documents_waiting:
        tasks.append(
            Task(
                text=ngettext(
                    "Review %(count)s compliance document",
                    "Review %(count)s compliance documents",
                    documents_waiting,
                )
                % {"count": documents_waiting},
                url=reverse("externships:compliance-review", args=[program.code]),
                urgency=Urgency.WAITING,
            )
        )
    return tasks
