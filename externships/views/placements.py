"""Placement pages: the program's list, planning, the placement page everyone involved shares,
starting through the gate, completing, withdrawing; the cohort's readiness list."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum import permissions as curriculum_permissions
from curriculum.models import Program
from curriculum.services import record_view
from curriculum.views.coursework import form_errors_to
from externships import permissions, readiness
from externships.forms.placements import PlacementForm, WithdrawForm
from externships.models import HoursEntry, Kind, Placement
from externships.services import evaluations as evaluation_services
from externships.services import hours as hours_services
from externships.services import placements as placement_services
from externships.views import managed_program

PAGE_SIZE = 25


def placement_for(request: AuthenticatedRequest, pk: int) -> Placement:
    return get_object_or_404(
        permissions.visible_placements(request.user).select_related(
            "enrollment__student", "enrollment__cohort__program", "site", "preceptor__user"
        ),
        pk=pk,
    )


def _managed_placement(request: AuthenticatedRequest, pk: int) -> Placement:
    placement = placement_for(request, pk)
    if not permissions.can_manage_placement(request.user, placement):
        raise PermissionDenied
    return placement


def _placements(program: Program) -> QuerySet[Placement]:
    return hours_services.with_hours(
        Placement.objects.filter(enrollment__cohort__program=program).select_related(
            "enrollment__student", "enrollment__cohort__program", "site", "preceptor__user"
        )
    )


@require_GET
def placement_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = managed_program(request, code)
    placements = _placements(program)
    state = request.GET.get("state", "open")
    if state == "open":
        placements = placements.filter(state__in=(Placement.State.PLANNED, Placement.State.ACTIVE))
    elif state in Placement.State.values:
        placements = placements.filter(state=state)
    cohort_id = request.GET.get("cohort", "")
    if cohort_id.isdigit():
        placements = placements.filter(enrollment__cohort=int(cohort_id))
    page = Paginator(placements.order_by("start_on", "enrollment__student__last_name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = program.today()
    rows = [(placement, hours_services.progress_of(placement, today=today)) for placement in page]
    counts = dict(
        Placement.objects.filter(enrollment__cohort__program=program)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return render(
        request,
        "externships/placement_list.html",
        {
            "program": program,
            "page": page,
            "rows": rows,
            "state": state,
            "states": [(value, label, counts.get(value, 0)) for value, label in Placement.State.choices],
            "cohorts": program.cohorts.order_by("-start_on"),
            "cohort_id": cohort_id,
        },
    )


@require_http_methods(["GET", "POST"])
def placement_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = managed_program(request, code)
    initial: dict[str, Any] = {}
    if (wanted := request.GET.get("enrollment", "")).isdigit():
        initial["enrollment"] = int(wanted)
    form = PlacementForm(request.POST or None, program=program, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            placement = placement_services.create_placement(
                enrollment=data["enrollment"],
                site=data["site"],
                preceptor=data["preceptor"],
                start_on=data["start_on"],
                end_on=data["end_on"],
                required_hours=data["required_hours"],
                created_by=request.user,
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Placement planned. Start it once the student is ready."))
            return redirect("externships:placement-detail", pk=placement.pk)
    return render(request, "externships/placement_form.html", {"form": form, "program": program})


@require_http_methods(["GET", "POST"])
def placement_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    placement = _managed_placement(request, pk)
    if not placement.is_open:
        raise PermissionDenied
    program = placement.enrollment.cohort.program
    form = PlacementForm(
        request.POST or None,
        program=program,
        editing=True,
        initial={
            "preceptor": placement.preceptor,
            "start_on": placement.start_on,
            "end_on": placement.end_on,
            "required_hours": placement.required_hours,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            placement_services.update_placement(
                placement,
                preceptor=data["preceptor"],
                start_on=data["start_on"],
                end_on=data["end_on"],
                required_hours=data["required_hours"] or program.practicum_hours,
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Placement saved."))
            return redirect("externships:placement-detail", pk=placement.pk)
    return render(
        request, "externships/placement_form.html", {"form": form, "program": program, "placement": placement}
    )


def _weeks(entries: list[HoursEntry]) -> list[dict[str, Any]]:
    """Entries grouped Monday to Sunday, newest week first, with each week's totals."""
    weeks: OrderedDict[date, dict[str, Any]] = OrderedDict()
    for entry in sorted(entries, key=lambda e: e.starts_at, reverse=True):
        monday, sunday = hours_services.week_of(entry.work_date)
        week = weeks.setdefault(monday, {"monday": monday, "sunday": sunday, "entries": [], "hours": 0.0, "waiting": 0})
        week["entries"].append(entry)
        week["hours"] += entry.hours
        week["waiting"] += entry.state == HoursEntry.State.SUBMITTED
    return list(weeks.values())


@require_GET
def placement_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The page the student, the preceptor and the program share, each seeing their own actions."""
    placement = placement_for(request, pk)
    user = request.user
    program = placement.enrollment.cohort.program
    entries = list(placement.hours.select_related("reviewed_by").order_by("-starts_at"))
    evaluations = {
        evaluation.kind: evaluation
        for evaluation in permissions.visible_evaluations(user).filter(placement=placement).select_related("evaluator")
    }
    is_manager = permissions.can_manage_placement(user, placement)
    evaluation_rows = []
    for kind in (Kind.MIDPOINT, Kind.FINAL, Kind.SITE):
        if kind == Kind.SITE and not (is_manager or permissions.is_placement_student(user, placement)):
            continue
        evaluation_rows.append(
            {
                "kind": kind,
                "label": Kind(kind).label,
                "evaluation": evaluations.get(kind),
                "can_submit": kind not in evaluations and permissions.can_evaluate(user, placement, kind),
                "not_open": evaluation_services.opening_problem(placement, kind) if kind not in evaluations else "",
            }
        )
    # Staff and the preceptor reading a student's placement and hours leave a trace for the student.
    if user.pk != placement.enrollment.student_id:
        record_view(
            viewer=user,
            student_id=placement.enrollment.student_id,
            what=f"placement {placement.pk}",
            request_meta=request.META,
        )
    return render(
        request,
        "externships/placement_detail.html",
        {
            "placement": placement,
            "program": program,
            "progress": hours_services.progress_of(placement),
            "weeks": _weeks(entries),
            "evaluation_rows": evaluation_rows,
            "problems": readiness.placement_problems(placement)
            if is_manager and placement.state == Placement.State.PLANNED
            else [],
            "completion_problems": placement_services.completion_problems(placement)
            if is_manager and placement.state == Placement.State.ACTIVE
            else [],
            "is_manager": is_manager,
            "is_student": permissions.is_placement_student(user, placement),
            "can_log": permissions.can_log_hours(user, placement),
            "can_review": permissions.can_review_hours(user, placement),
            "withdraw_form": WithdrawForm(),
        },
    )


def _transition(
    request: AuthenticatedRequest, pk: int, change: Callable[[Placement], object], refused: str, done: str
) -> HttpResponse:
    """Start, complete or withdraw through the service; its refusal is shown whole after `refused`."""
    placement = _managed_placement(request, pk)
    try:
        change(placement)
    except ValidationError as error:
        messages.error(request, refused + " " + " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("externships:placement-detail", pk=placement.pk)


@require_POST
def placement_activate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        lambda placement: placement_services.activate_placement(placement, by=request.user),
        _("The placement cannot start yet."),
        _("The placement has started: the student can log hours."),
    )


@require_POST
def placement_complete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        lambda placement: placement_services.complete_placement(placement, by=request.user),
        _("The placement cannot be completed yet."),
        _("Placement completed."),
    )


@require_POST
def placement_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _transition(
        request,
        pk,
        lambda placement: placement_services.withdraw_placement(placement, by=request.user, reason=reason),
        _("The placement cannot be withdrawn."),
        _("Placement withdrawn."),
    )


@require_GET
def cohort_readiness(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Who in the cohort may start a placement, and what each one lacks."""
    cohort = get_object_or_404(
        curriculum_permissions.visible_cohorts(request.user).select_related("program__framework"), pk=pk
    )
    if not permissions.can_manage_externships(request.user, cohort.program):
        raise PermissionDenied
    rows = readiness.cohort_readiness(cohort)
    ready_count, total_count = sum(row.ready for row in rows), len(rows)
    show = request.GET.get("show", "all")
    if show == "ready":
        rows = [row for row in rows if row.ready]
    elif show == "not_ready":
        rows = [row for row in rows if not row.ready]
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "externships/cohort_readiness.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "page": page,
            "show": show,
            "ready_count": ready_count,
            "total_count": total_count,
        },
    )


def open_placement_for_student(request: AuthenticatedRequest) -> Placement | None:
    return (
        Placement.objects.filter(enrollment__student=request.user)
        .filter(Q(state=Placement.State.ACTIVE) | Q(state=Placement.State.PLANNED))
        .order_by("state", "start_on")  # "active" sorts before "planned"
        .first()
    )


@require_GET
def my_externship(request: AuthenticatedRequest) -> HttpResponse:
    """The student's way in: their open placement, else the list of their placements."""
    current = open_placement_for_student(request)
    if current is not None:
        return redirect("externships:placement-detail", pk=current.pk)
    placements = (
        Placement.objects.filter(enrollment__student=request.user)
        .select_related("site", "preceptor__user")
        .order_by("-start_on")
    )
    return render(request, "externships/my_externship.html", {"placements": placements})
