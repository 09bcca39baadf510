"""Competency progress: a cohort's grid, the program across cohorts, and one student's progress.

A cohort's grid has four views, one address (`?view=`): who needs attention before the practicum
(the default), one student (their record), one competency across the cohort, and the full matrix.
Every view reads a fixed number of queries whatever the cohort's size: students are counted and
paginated in SQL, then the page's attempts are aggregated in one query (curriculum/progress.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from curriculum import permissions, progress, services
from curriculum.models import Attempt, Cohort, Competency, ContentArea, Enrollment, Program, Signature, StepResult

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A page of the matrix holds up to GRID_PAGE_SIZE + GRID_ORPHANS students: a cohort of 26, or of 40,
# is one page, never a full page and a second one holding a student or two.
GRID_PAGE_SIZE = 30
GRID_ORPHANS = 10
COHORT_PAGE_SIZE = 25
# Missing competencies listed openly under a student who needs attention; the rest fold away, so a
# student missing a hundred does not put a hundred links in the way of the next student.
ATTENTION_SHOWN = 5
STUDENT_ORDER = ("student__last_name", "student__first_name", "pk")

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


def _chosen(options: list[Any], value: str | None) -> Any:
    """The option whose pk the query string names, compared as text: a malformed or foreign value
    (a NUL, forty digits) finds nothing rather than reaching the database."""
    return next((option for option in options if str(option.pk) == value), None) if value else None


# --- The cohort grid ----------------------------------------------------------------------

ENROLLMENT_MARK, COMPETENCY_MARK = 900000001, 900000002


@dataclass(frozen=True)
class GridView:
    slug: str
    label: StrOrPromise


GRID_VIEWS = [
    GridView("attention", _("Needs attention")),
    GridView("student", _("By student")),
    GridView("competency", _("By competency")),
    GridView("all", _("All competencies")),
]
DEFAULT_VIEW = "attention"


class CellLinks:
    """Where a student × competency leads, for a page of thousands: one reverse() per target, the ids
    swapped into a pattern. Instructors of the cohort go straight to the checklist; directors and
    coordinators who do not teach it see the attempts instead."""

    def __init__(self, *, can_check_off: bool) -> None:
        self.can_check_off = can_check_off
        self.checkoff = reverse("curriculum:checkoff-new", args=[ENROLLMENT_MARK, COMPETENCY_MARK])
        self.attempts = reverse("curriculum:competency-attempts", args=[ENROLLMENT_MARK, COMPETENCY_MARK])

    def for_row(self, enrollment_id: int, *, achieved: bool = False) -> str:
        """The pattern for one student; an achieved competency leads to its attempts in the lists."""
        pattern = self.checkoff if self.can_check_off and not achieved else self.attempts
        return pattern.replace(str(ENROLLMENT_MARK), str(enrollment_id))

    @staticmethod
    def for_cell(row_pattern: str, competency_id: int) -> str:
        return row_pattern.replace(str(COMPETENCY_MARK), str(competency_id))

    def url(self, enrollment_id: int, competency_id: int, *, achieved: bool = False) -> str:
        return self.for_cell(self.for_row(enrollment_id, achieved=achieved), competency_id)


def _cell_words(cell: progress.Cell) -> str:
    """A status in words, with the number of attempts when there were some and no pass."""
    if cell.status == progress.Status.ATTEMPTED:
        attempts = ngettext("%(count)s attempt", "%(count)s attempts", cell.attempts) % {"count": cell.attempts}
        return f"{cell.label}, {attempts}"
    return cell.label


@dataclass
class GridCell:
    """One cell, ready to print: a page holds thousands, so the template only copies fields out."""

    status: str
    url: str
    symbol: str
    label: str
    shown: bool

    @classmethod
    def of(cls, cell: progress.Cell, *, url: str, shown: bool) -> GridCell:
        if cell.status == progress.Status.ACHIEVED:
            symbol = "✓"
        elif cell.status == progress.Status.ATTEMPTED:
            symbol = f"✗\u00a0{cell.attempts}"
        else:
            symbol = "○"
        return cls(status=cell.status, url=url, symbol=symbol, label=_cell_words(cell), shown=shown)

    @property
    def html(self) -> SafeString:
        """The cell's markup, escaped by format_html. The status is in words for a screen reader, and in
        the key for everyone: no meaning rests on a hover."""
        if not self.shown:
            return mark_safe(FILTERED_CELL)  # noqa: S308 (a constant)
        return format_html(CELL, self.status, self.url, self.symbol, self.label)


CELL = (
    '<td class="grid-td"><a class="grid-cell grid-{}" href="{}"><span aria-hidden="true">{}</span>'
    '<span class="visually-hidden">{}</span></a></td>'
)
FILTERED_CELL = '<td class="grid-td grid-filtered"></td>'
COLUMN_HEADER = (
    '<th scope="col" class="text-center text-nowrap grid-code"><a href="{}">{}<span class="visually-hidden"> {}</span>'
    '</a><div class="small fw-normal text-body-secondary"><span aria-hidden="true">{}</span>'
    '<span class="visually-hidden">{}</span></div></th>'
)


class CellPrinter:
    """The matrix's cells as markup, for a page of thousands: each kind of cell (a status, and for an
    attempted one its number of attempts) is escaped and translated once, then only the link, made of
    numbers, changes from cell to cell. Building each cell with format_html was most of the page's time."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, int], tuple[str, str]] = {}

    def _kind(self, cell: progress.Cell) -> tuple[str, str]:
        key = (cell.status, cell.attempts if cell.status == progress.Status.ATTEMPTED else 0)
        if key not in self._kinds:
            example = GridCell.of(cell, url="\x00", shown=True).html
            before, after = example.split("\x00")  # format_html leaves a NUL as it is
            self._kinds[key] = (before, after)
        return self._kinds[key]

    def cell(self, cell: progress.Cell, url: str, *, shown: bool) -> str:
        if not shown:
            return FILTERED_CELL
        before, after = self._kind(cell)
        return before + url + after


@dataclass
class GridRow:
    enrollment: Enrollment
    cells_html: SafeString
    achieved: int


@require_GET
def competency_grid(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A cohort's competencies, in the view the query string names (who needs attention by default).

    Looking at the grid is not looking at one student's record: nothing is logged here. Opening a
    student's record, or the attempts behind a cell, is logged."""
    cohort = get_object_or_404(
        permissions.visible_cohorts(request.user)
        .select_related("program")
        .annotate(current_students=progress.current_students()),
        pk=pk,
    )
    program = cohort.program
    view = request.GET.get("view", DEFAULT_VIEW)
    if view not in {grid_view.slug for grid_view in GRID_VIEWS}:
        view = DEFAULT_VIEW
    competencies = _ordered_competencies(program)
    can_check_off = permissions.teaches_cohort(request.user, cohort)
    grid_url = reverse("curriculum:competency-grid", args=[cohort.pk])
    context: dict[str, Any] = {
        "cohort": cohort,
        "program": program,
        "view": view,
        "views": [
            (grid_view, grid_url if grid_view.slug == DEFAULT_VIEW else f"{grid_url}?view={grid_view.slug}")
            for grid_view in GRID_VIEWS
        ],
        "grid_url": grid_url,
        "areas": _areas_of(competencies),
        "statuses": progress.Status,
        "is_program_admin": permissions.is_program_admin(request.user, program),
        "can_check_off": can_check_off,
    }
    if not competencies:
        return render(request, "curriculum/competency_grid.html", context)
    links = CellLinks(can_check_off=can_check_off)
    if view == "student":
        # The student's own record is the per-student view: it is grouped by content area already, and
        # opening it is logged for the student to see. Here: choose whom, or follow a name.
        enrollments = list(
            progress.with_progress(
                cohort.enrollments.current().select_related("student"), [competency.pk for competency in competencies]
            ).order_by(*STUDENT_ORDER)
        )
        if enrollment := _chosen(enrollments, request.GET.get("enrollment")):
            return redirect("curriculum:student-competencies", pk=enrollment.pk)
        context.update(enrollments=enrollments, total=len(competencies), not_found="enrollment" in request.GET)
        return render(request, "curriculum/competency_grid_student.html", context)
    if view == "competency":
        context.update(_by_competency(cohort, competencies, request.GET.get("competency"), links))
        return render(request, "curriculum/competency_grid_competency.html", context)
    if view == "all":
        context.update(_matrix(request, cohort, context["areas"], links))
        return render(request, "curriculum/competency_grid_all.html", context)
    context.update(_needing_attention(request, cohort, competencies, links))
    return render(request, "curriculum/competency_grid_attention.html", context)


# --- Needs attention: who is missing what before their practicum


BADGES = {
    progress.Status.ACHIEVED: ("text-bg-success", "✓"),
    progress.Status.ATTEMPTED: ("text-bg-warning", "✗"),
    progress.Status.NOT_STARTED: ("text-bg-light border", "○"),
}
MISSING_ITEM = (
    '<li class="list-group-item d-flex flex-wrap justify-content-between align-items-center column-gap-2 row-gap-1">'
    '<a href="{}"><span class="fw-semibold">{}</span> {}</a>{}</li>'
)


@functools.lru_cache(maxsize=256)
def _badge(status: str, attempts: int, language: str | None) -> SafeString:
    """A status as a badge, in words: the same few for a whole page, so each is built once."""
    tint, symbol = BADGES[progress.Status(status)]
    words = _cell_words(progress.Cell(progress.Status(status), attempts=attempts))
    return format_html('<span class="badge {}"><span aria-hidden="true">{}</span> {}</span>', tint, symbol, words)


@dataclass
class MissingCompetency:
    competency: Competency
    cell: progress.Cell
    url: str

    @property
    def words(self) -> str:
        return _cell_words(self.cell)

    @property
    def html(self) -> SafeString:
        """The item's markup, escaped by format_html: a page lists up to a few thousand, and printing
        each through a template was most of the page's time."""
        badge = _badge(self.cell.status, self.cell.attempts, get_language())
        return format_html(MISSING_ITEM, self.url, self.competency.code, self.competency.label, badge)


@dataclass
class StudentAttention:
    """A student yet to achieve every competency, with what is missing, in framework order."""

    enrollment: Enrollment
    total: int
    missing: list[MissingCompetency]

    @property
    def practicum_starts_on(self) -> date | None:
        return getattr(self.enrollment, "practicum_starts_on", None)

    @property
    def achieved(self) -> int:
        return self.total - len(self.missing)

    @property
    def shown(self) -> list[MissingCompetency]:
        """The first few listed openly; with one more left, it is listed too rather than folded away."""
        return self.missing if len(self.missing) <= ATTENTION_SHOWN + 1 else self.missing[:ATTENTION_SHOWN]

    @property
    def folded(self) -> list[MissingCompetency]:
        return self.missing[len(self.shown) :]


def _needing_attention(
    request: AuthenticatedRequest, cohort: Cohort, competencies: list[Competency], links: CellLinks
) -> dict[str, Any]:
    """The students missing a competency required before the practicum (every P and A one), the most
    urgent first; each with what is missing. Sorted and paginated in SQL; the page's cells in one query."""
    competency_ids = [competency.pk for competency in competencies]
    enrollments = progress.needing_attention(cohort.enrollments.current().select_related("student"), competency_ids)
    page = Paginator(enrollments, GRID_PAGE_SIZE, orphans=GRID_ORPHANS).get_page(request.GET.get("page"))
    by_pair = progress.cells([enrollment.pk for enrollment in page], competency_ids, with_last=False)
    students = []
    for enrollment in page:
        row_url = links.for_row(enrollment.pk)
        missing = []
        for competency in competencies:
            cell = by_pair.get((enrollment.pk, competency.pk), progress.NOT_STARTED)
            if cell.status != progress.Status.ACHIEVED:
                missing.append(MissingCompetency(competency, cell, links.for_cell(row_url, competency.pk)))
        students.append(StudentAttention(enrollment=enrollment, total=len(competencies), missing=missing))
    return {"page": page, "students": students, "today": cohort.program.today()}


# --- One competency across the cohort


@dataclass
class StudentStatus:
    enrollment: Enrollment
    cell: progress.Cell
    url: str

    @property
    def achieved(self) -> bool:
        return self.cell.status == progress.Status.ACHIEVED


def _by_competency(
    cohort: Cohort, competencies: list[Competency], chosen: str | None, links: CellLinks
) -> dict[str, Any]:
    """Every current student's status on the competency chosen, grouped by status: who needs a retry,
    who has not started, who is done. No pagination: one line a student, a cohort fits."""
    competency = _chosen(competencies, chosen)
    if competency is None:
        return {"competency": None, "not_found": chosen is not None, "groups": []}
    enrollments = list(cohort.enrollments.current().select_related("student").order_by(*STUDENT_ORDER))
    by_pair = progress.cells([enrollment.pk for enrollment in enrollments], [competency.pk])
    rows: dict[progress.Status, list[StudentStatus]] = {status: [] for status in progress.Status}
    for enrollment in enrollments:
        cell = by_pair.get((enrollment.pk, competency.pk), progress.NOT_STARTED)
        achieved = cell.status == progress.Status.ACHIEVED
        rows[cell.status].append(
            StudentStatus(enrollment, cell, links.url(enrollment.pk, competency.pk, achieved=achieved))
        )
    order = (progress.Status.ATTEMPTED, progress.Status.NOT_STARTED, progress.Status.ACHIEVED)
    return {
        "competency": competency,
        "not_found": False,
        "groups": [(status, rows[status]) for status in order],
        "achieved_count": len(rows[progress.Status.ACHIEVED]),
        "student_count": len(enrollments),
    }


# --- The full matrix


def _matrix(
    request: AuthenticatedRequest,
    cohort: Cohort,
    areas: list[tuple[ContentArea, list[Competency]]],
    links: CellLinks,
) -> dict[str, Any]:
    """Students × competencies, a page of students at a time, with the area and status filters."""
    area = _chosen([each_area for each_area, _group in areas], request.GET.get("area"))
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
    enrollments: QuerySet[Enrollment] = current.select_related("student")
    if status_filter:
        # Only a filter needs each student's counts in SQL, to page the students it keeps.
        enrollments = progress.filter_by_status(
            progress.with_progress(enrollments, column_ids), status_filter, len(column_ids)
        )
    page = Paginator(enrollments.order_by(*STUDENT_ORDER), GRID_PAGE_SIZE, orphans=GRID_ORPHANS).get_page(
        request.GET.get("page")
    )
    by_pair = progress.cells([enrollment.pk for enrollment in page], column_ids, with_last=False)
    achievers = progress.achievers_per_competency(current, column_ids)

    shown = progress.STATUS_FILTERS.get(status_filter)
    printer = CellPrinter()
    rows = []
    for enrollment in page:
        row_url = links.for_row(enrollment.pk)
        markup = []
        achieved = 0
        for competency_id in column_ids:
            cell = by_pair.get((enrollment.pk, competency_id), progress.NOT_STARTED)
            achieved += cell.status == progress.Status.ACHIEVED
            markup.append(
                printer.cell(cell, links.for_cell(row_url, competency_id), shown=shown is None or cell.status in shown)
            )
        # Each piece is escaped markup from CellPrinter, joined with links made of numbers.
        rows.append(GridRow(enrollment=enrollment, cells_html=mark_safe("".join(markup)), achieved=achieved))  # noqa: S308
    competency_url = f"{reverse('curriculum:competency-grid', args=[cohort.pk])}?view=competency&competency="
    total = cohort.current_students  # type: ignore[attr-defined]  # annotated by the view
    headers = [
        format_html(
            COLUMN_HEADER,
            f"{competency_url}{competency.pk}",
            competency.code,
            competency.label,
            f"{achievers.get(competency.pk, 0)}/{total}",
            gettext("%(achievers)s of %(total)s achieved")
            % {"achievers": achievers.get(competency.pk, 0), "total": total},
        )
        for competency in columns
    ]
    return {
        "area": area,
        "area_columns": [(each_area, competencies) for each_area, competencies in areas if area in (None, each_area)],
        "columns": columns,
        # Each header escaped by format_html; printed in the template, 150 of them were a third of its time.
        "column_headers_html": mark_safe("".join(headers)),  # noqa: S308
        "competency_url": competency_url,
        "rows": rows,
        "page": page,
        "status": status_filter,
        "status_choices": STATUS_FILTER_CHOICES,
    }


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
