"""Hours pages: the student logs and corrects shifts; the preceptor approves or returns them,
one by one or a week at once. Forms post here and come back to the placement page."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum.views.coursework import form_errors_to
from externships import permissions
from externships.forms.placements import ReturnForm, ShiftForm
from externships.models import HoursEntry, Placement
from externships.services import hours as hours_services
from externships.views.placements import placement_for


def _entry_for(request: AuthenticatedRequest, pk: int) -> HoursEntry:
    return get_object_or_404(
        permissions.visible_hours(request.user).select_related(
            "placement__enrollment__cohort__program", "placement__preceptor__user", "placement__site"
        ),
        pk=pk,
    )


def _back(placement: Placement) -> HttpResponse:
    return redirect("externships:placement-detail", pk=placement.pk)


@require_http_methods(["GET", "POST"])
def shift_log(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    placement = placement_for(request, pk)
    if not permissions.can_log_hours(request.user, placement):
        raise PermissionDenied
    program = placement.enrollment.cohort.program
    form = ShiftForm(request.POST or None, initial={"work_date": program.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hours_services.log_shift(
                placement=placement,
                student=request.user,
                work_date=data["work_date"],
                start=data["start"],
                end=data["end"],
                activity=data["activity"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Shift logged. Your preceptor will approve it."))
            return _back(placement)
    status = 422 if request.method == "POST" else 200
    return render(request, "externships/shift_form.html", {"form": form, "placement": placement}, status=status)


@require_http_methods(["GET", "POST"])
def shift_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    if not permissions.can_edit_hours(request.user, entry):
        raise PermissionDenied
    zone = entry.placement.enrollment.cohort.program.zone
    form = ShiftForm(
        request.POST or None,
        initial={
            "work_date": entry.work_date,
            "start": entry.starts_at.astimezone(zone).time(),
            "end": entry.ends_at.astimezone(zone).time(),
            "activity": entry.activity,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hours_services.correct_shift(
                entry=entry,
                by=request.user,
                work_date=data["work_date"],
                start=data["start"],
                end=data["end"],
                activity=data["activity"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Shift corrected and sent for approval again."))
            return _back(entry.placement)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "externships/shift_form.html",
        {"form": form, "placement": entry.placement, "entry": entry},
        status=status,
    )


@require_POST
def shift_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    if not permissions.can_edit_hours(request.user, entry):
        raise PermissionDenied
    try:
        hours_services.withdraw_shift(entry=entry, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Shift removed."))
    return _back(entry.placement)


@require_POST
def shift_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    if not permissions.can_review_hours(request.user, entry.placement):
        raise PermissionDenied
    try:
        approved = hours_services.approve_entries(
            placement=entry.placement, by=request.user, entries=HoursEntry.objects.filter(pk=entry.pk)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if approved:
            messages.success(request, _("Shift approved."))
        else:
            messages.info(request, _("This shift was not waiting for approval."))
    return _back(entry.placement)


@require_POST
def shift_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    if not permissions.can_review_hours(request.user, entry.placement):
        raise PermissionDenied
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what the student should correct."))
        return _back(entry.placement)
    try:
        hours_services.return_entry(entry=entry, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Shift returned to the student."))
    return _back(entry.placement)


@require_POST
def week_approve(request: AuthenticatedRequest, pk: int, monday: str) -> HttpResponse:
    placement = placement_for(request, pk)
    if not permissions.can_review_hours(request.user, placement):
        raise PermissionDenied
    try:
        week_start = date.fromisoformat(monday)
    except ValueError as error:
        raise Http404 from error
    try:
        approved = hours_services.approve_week(placement=placement, by=request.user, week_start=week_start)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s shift of the week of %(monday)s approved.",
                "%(count)s shifts of the week of %(monday)s approved.",
                approved,
            )
            % {"count": approved, "monday": date_format(hours_services.week_of(week_start)[0])},
        )
    return _back(placement)
