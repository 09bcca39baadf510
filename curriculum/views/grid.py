"""Competency progress: a cohort's grid, the program across cohorts, and one student's progress.

Every page reads a fixed number of queries whatever the cohort's size: students are paginated
first, then the page's attempts are aggregated in one query (curriculum/progress.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from curriculum import permissions, progress, services
from curriculum.models import Attempt, Cohort, Competency, ContentArea, Enrollment, Program, Signature, StepResult

GRID_PAGE_SIZE = 25
COHORT_PAGE_SIZE = 25

STATUS_FILTER_CHOICES = [
    ("", _("Every status")),
    ("not_achieved", _("Not achieved yet")),
    ("attempted", _("Attempted, not passed yet")),
    ("not_started", _("Not started")),
    ("achieved", _("Achieved")),
]


def _ordered_competencies(program: Program) -> list[Competency]:
    return list(
        progress.tracked_competencies(program)
        .select_related("content_area", "parent")
        .order_by("content_area__order", "content_area__code", "order", "code")
    )


def _areas_of(competencies: list[Competency]) -> list[tuple[ContentArea, list[Competency]]]:
    """Competencies grouped by content area, in framework order (they arrive sorted by area)."""
    groups: dict[int, tuple[ContentArea, list[Competency]]] = {}
    for competency in competencies:
        groups.setdefault(competency.content_area_id, (competency.content_area, []))[1].append(competency)
    return list(groups.values())


def _percent(part: int, whole: int) -> int | None:
    return round(part * 100 / whole) if whole else None


# --- The cohort grid ----------------------------------------------------------------------

ENROLLMENT_MARK, COMPETENCY_MARK = 900000001, 900000002


@dataclass
class GridCell:
    """One cell, ready to print: a page holds thousands, so the template only copies fields out."""

    status: str
    url: str
    symbol: str
    label: str
    title: str
    shown: bool

    @classmethod
    def of(cls, cell: progress.Cell, *, url: str, shown: bool) -> GridCell:
        if cell.status == progress.Status.ACHIEVED:
            symbol, label = "✓", cell.label
        elif cell.status == progress.Status.ATTEMPTED:
            attempts = ngettext("%(count)s attempt", "%(count)s attempts", cell.attempts) % {"count": cell.attempts}
            symbol, label = f"✗\u00a0{cell.attempts}", f"{cell.label}, {attempts}"
        else:
            symbol, label = "○", cell.label
        title = date_format(localtime(cell.last_performed_at), "SHORT_DATE_FORMAT") if cell.last_performed_at else ""
        return cls(status=cell.status, url=url, symbol=symbol, label=label, title=title, shown=shown)

    @property
    def html(self) -> SafeString:
        """The cell's markup, escaped by format_html. Built here rather than in the template because
        a page holds thousands of cells and template rendering was most of the page's time."""
        if not self.shown:
            return mark_safe('<td class="grid-td grid-filtered"></td>')
        return format_html(
            '<td class="grid-td"><a class="grid-cell grid-{}" href="{}"{}><span aria-hidden="true">{}</span>'
            '<span class="visually-hidden">{}</span></a></td>',
            self.status,
            self.url,
            format_html(' title="{}"', self.title) if self.title else "",
            self.symbol,
            self.label,
        )


@dataclass
class GridRow:
    enrollment: Enrollment
    cells: list[GridCell]
    achieved: int

    @property
    def cells_html(self) -> SafeString:
        return mark_safe("".join(cell.html for cell in self.cells))  # noqa: S308 (each cell built by format_html)


@require_GET
def competency_grid(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Students × signed-off competencies, 25 students a page, in a fixed number of queries.

    Looking at the grid is not looking at one student's record: nothing is logged here. Opening a
    student's progress, or the attempts behind a cell, is logged."""
    cohort = get_object_or_404(
        permissions.visible_cohorts(request.user)
        .select_related("program")
        .annotate(current_students=progress.current_students()),
        pk=pk,
    )
    program = cohort.program
    areas = _areas_of(_ordered_competencies(program))
    area = next((candidate for candidate, _group in areas if str(candidate.pk) == request.GET.get("area")), None)
    columns = [
        competency
        for each_area, competencies in areas
        if area is None or each_area == area
        for competency in competencies
    ]
    column_ids = [competency.pk for competency in columns]
    status_filter = request.GET.get("status", "")
    if status_filter not in progress.STATUS_FILTERS:
        status_filter = ""

    current = cohort.enrollments.current()
    enrollments = progress.filter_by_status(
        progress.with_progress(current.select_related("student"), column_ids), status_filter, len(column_ids)
    ).order_by("student__last_name", "student__first_name", "pk")
    page = Paginator(enrollments, GRID_PAGE_SIZE).get_page(request.GET.get("page"))
    by_pair = progress.cells([enrollment.pk for enrollment in page], column_ids) if column_ids else {}
    achievers = progress.achievers_per_competency(current, column_ids) if column_ids else {}

    # Instructors of the cohort go straight to the checklist; directors and coordinators who do
    # not teach it see the attempts instead.
    cell_view = (
        "curriculum:checkoff-new"
        if permissions.teaches_cohort(request.user, cohort)
        else "curriculum:competency-attempts"
    )
    shown = progress.STATUS_FILTERS.get(status_filter)
    # One reverse() for the page, not one per cell: the ids are swapped into a pattern.
    url_pattern = reverse(cell_view, args=[ENROLLMENT_MARK, COMPETENCY_MARK])
    rows = []
    for enrollment in page:
        row_url = url_pattern.replace(str(ENROLLMENT_MARK), str(enrollment.pk))
        cells = []
        for competency in columns:
            cell = by_pair.get((enrollment.pk, competency.pk), progress.NOT_STARTED)
            cells.append(
                GridCell.of(
                    cell,
                    url=row_url.replace(str(COMPETENCY_MARK), str(competency.pk)),
                    shown=shown is None or cell.status in shown,
                )
            )
        rows.append(GridRow(enrollment=enrollment, cells=cells, achieved=getattr(enrollment, "achieved", 0)))
    return render(
        request,
        "curriculum/competency_grid.html",
        {
            "cohort": cohort,
            "program": program,
            "areas": areas,
            "area": area,
            "area_columns": [
                (each_area, len(competencies)) for each_area, competencies in areas if area in (None, each_area)
            ],
            "columns": [(competency, achievers.get(competency.pk, 0)) for competency in columns],
            "rows": rows,
            "page": page,
            "status": status_filter,
            "status_choices": STATUS_FILTER_CHOICES,
            "statuses": progress.Status,
            "is_program_admin": permissions.is_program_admin(request.user, program),
            "can_check_off": cell_view == "curriculum:checkoff-new",
        },
    )


# --- The program across cohorts -----------------------------------------------------------


@dataclass
class AreaShare:
    area: ContentArea
    achieved: int
    possible: int

    @property
    def percent(self) -> int | None:
        return _percent(self.achieved, self.possible)


@dataclass
class CohortProgress:
    cohort: Cohort
    areas: list[AreaShare] = field(default_factory=list)

    @property
    def percent(self) -> int | None:
        return _percent(sum(share.achieved for share in self.areas), sum(share.possible for share in self.areas))


@require_GET
def program_competencies(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Per cohort: how many current students have achieved every P and A competency, and the share
    of each content area achieved. Aggregated in SQL, a page of cohorts at a time."""
    program = get_object_or_404(permissions.visible_programs(request.user), code=code)
    if not permissions.is_program_admin(request.user, program):
        raise PermissionDenied
    areas = _areas_of(_ordered_competencies(program))
    competency_ids = [competency.pk for _area, competencies in areas for competency in competencies]
    # Subqueries, not joins: the page's count stays a plain count of cohorts.
    cohorts = program.cohorts.annotate(
        current_students=progress.current_students(), ready=progress.ready_students(competency_ids)
    )
    page: Page[Any] = Paginator(cohorts.order_by("-start_on", "name"), COHORT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    achievers = (
        progress.achievers_per_cohort_and_competency([cohort.pk for cohort in page], competency_ids)
        if competency_ids
        else {}
    )
    rows = [
        CohortProgress(
            cohort=cohort,
            areas=[
                AreaShare(
                    area=area,
                    achieved=sum(achievers.get((cohort.pk, competency.pk), 0) for competency in competencies),
                    possible=cohort.current_students * len(competencies),
                )
                for area, competencies in areas
            ],
        )
        for cohort in page
    ]
    return render(
        request,
        "curriculum/program_competencies.html",
        {
            "program": program,
            "areas": [(area, len(competencies)) for area, competencies in areas],
            "competency_count": len(competency_ids),
            "rows": rows,
            "page": page,
        },
    )


# --- One student's progress ---------------------------------------------------------------


@dataclass
class CompetencyProgress:
    competency: Competency
    attempts: list[Attempt]

    @cached_property
    def status(self) -> progress.Status:
        """A pass whose signature does not verify counts for nothing here: it is not shown as signed."""
        return progress.status_of(
            passes=sum(
                1
                for attempt in self.attempts
                if attempt.passed and progress.is_standing(attempt) and attempt.signature.verified
            ),
            attempts=sum(1 for attempt in self.attempts if progress.is_signed(attempt)),
        )

    @property
    def status_label(self) -> str:
        return str(self.status.label)


@dataclass
class AreaProgress:
    area: ContentArea
    items: list[CompetencyProgress]

    @property
    def achieved(self) -> int:
        return sum(1 for item in self.items if item.status == progress.Status.ACHIEVED)


def _attempts_with_everything() -> Any:
    return Attempt.objects.select_related(
        "evaluator", "signature__signer", "signature__revocation__revoked_by"
    ).prefetch_related(Prefetch("step_results", queryset=StepResult.objects.order_by("order")))


def _check_signatures(attempts: list[Attempt], enrollment: Enrollment, competencies: dict[int, Competency]) -> None:
    """Verify the signatures shown (digest and chain link) from the rows in hand, in one more query:
    each attempt gets the enrollment and competency already read rather than a query of its own."""
    for attempt in attempts:
        attempt.enrollment = enrollment
        attempt.competency = competencies[attempt.competency_id]
    Signature.check_all([attempt.signature for attempt in attempts if progress.is_signed(attempt)])


def _enrollment_for(request: AuthenticatedRequest, pk: int) -> Enrollment:
    enrollment = get_object_or_404(
        permissions.visible_enrollments(request.user).select_related("student", "cohort__program"), pk=pk
    )
    if not permissions.can_view_competency_record(request.user, enrollment):
        raise PermissionDenied
    return enrollment


def _student_progress(
    request: AuthenticatedRequest, enrollment: Enrollment, other_enrollments: list[Enrollment]
) -> HttpResponse:
    competencies = _ordered_competencies(enrollment.cohort.program)
    attempts_of: dict[int, list[Attempt]] = {competency.pk: [] for competency in competencies}
    for attempt in (
        _attempts_with_everything()
        .filter(enrollment=enrollment, competency__in=list(attempts_of))
        .order_by("-performed_at", "-pk")
    ):
        attempts_of[attempt.competency_id].append(attempt)
    _check_signatures(
        [attempt for attempts in attempts_of.values() for attempt in attempts],
        enrollment,
        {competency.pk: competency for competency in competencies},
    )
    areas = [
        AreaProgress(
            area=area,
            items=[
                CompetencyProgress(competency=competency, attempts=attempts_of[competency.pk]) for competency in group
            ],
        )
        for area, group in _areas_of(competencies)
    ]
    items = [item for area in areas for item in area.items]
    remaining = [item for item in items if item.status != progress.Status.ACHIEVED]
    attempted = sum(1 for item in remaining if item.status == progress.Status.ATTEMPTED)
    is_own = enrollment.student_id == request.user.pk
    return render(
        request,
        "curriculum/student_competencies.html",
        {
            "enrollment": enrollment,
            "student": enrollment.student,
            "program": enrollment.cohort.program,
            "areas": areas,
            "total": len(items),
            "achieved": len(items) - len(remaining),
            "attempted": attempted,
            "not_started": len(remaining) - attempted,
            "remaining": remaining,
            "is_own": is_own,
            "can_evaluate": not is_own and permissions.can_evaluate(request.user, enrollment),
            "can_download": permissions.can_download_master_checklist(request.user, enrollment),
            "other_enrollments": other_enrollments,
            "statuses": progress.Status,
        },
    )


@require_GET
def my_competencies(request: AuthenticatedRequest) -> HttpResponse:
    """The signed-in student's own progress: nothing is logged when a student reads their own."""
    enrollments = list(
        Enrollment.objects.for_student(request.user)
        .select_related("student", "cohort__program")
        .order_by("-admitted_on")
    )
    enrollment = progress.main_enrollment(enrollments)
    if enrollment is None:
        raise Http404
    return _student_progress(request, enrollment, [other for other in enrollments if other != enrollment])


@require_GET
def student_competencies(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One student's record as staff see it; the student can read who looked (the access log)."""
    enrollment = _enrollment_for(request, pk)
    services.record_view(
        viewer=request.user,
        student_id=enrollment.student_id,
        what=f"competency progress, {enrollment.cohort.code}",
        request_meta=request.META,
    )
    return _student_progress(request, enrollment, [])


@require_GET
def competency_attempts(request: AuthenticatedRequest, pk: int, competency_pk: int) -> HttpResponse:
    """Every attempt of one student on one competency: where a grid cell leads staff who do not evaluate."""
    enrollment = _enrollment_for(request, pk)
    competency = get_object_or_404(
        progress.tracked_competencies(enrollment.cohort.program).select_related("parent", "content_area"),
        pk=competency_pk,
    )
    services.record_view(
        viewer=request.user,
        student_id=enrollment.student_id,
        what=f"{competency.code} attempts",
        request_meta=request.META,
    )
    attempts = list(
        _attempts_with_everything()
        .filter(enrollment=enrollment, competency=competency)
        .order_by("-performed_at", "-pk")
    )
    _check_signatures(attempts, enrollment, {competency.pk: competency})
    item = CompetencyProgress(competency=competency, attempts=attempts)
    is_own = enrollment.student_id == request.user.pk
    return render(
        request,
        "curriculum/competency_attempts.html",
        {
            "enrollment": enrollment,
            "item": item,
            "is_own": is_own,
            "can_evaluate": not is_own and permissions.can_evaluate(request.user, enrollment),
            "statuses": progress.Status,
        },
    )
