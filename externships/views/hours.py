"""Hours pages: the student logs and corrects shifts; the preceptor approves or returns them,
one by one or a week at once. Forms post here and come back to the placement page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
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


def _shift_page(
    request: AuthenticatedRequest,
    placement: Placement,
    initial: dict[str, Any],
    save: Callable[..., HoursEntry],
    saved: str,
    entry: HoursEntry | None = None,
) -> HttpResponse:
    """Logging and correcting share one page: a valid shift goes to the service, whose refusal
    lands on the field it concerns; a refused POST answers 422 with the form as typed."""
    form = ShiftForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            save(**form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, saved)
            return _back(placement)
    return render(
        request,
        "externships/shift_form.html",
        {"form": form, "placement": placement, "entry": entry},
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def shift_log(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    placement = placement_for(request, pk)
    if not permissions.can_log_hours(request.user, placement):
        raise PermissionDenied
    return _shift_page(
        request,
        placement,
        initial={"work_date": placement.enrollment.cohort.program.today()},
        save=partial(hours_services.log_shift, placement=placement, student=request.user),
        saved=_("Shift logged. Your preceptor will approve it."),
    )


@require_http_methods(["GET", "POST"])
def shift_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    if not permissions.can_edit_hours(request.user, entry):
        raise PermissionDenied
    zone = entry.placement.enrollment.cohort.program.zone
    return _shift_page(
        request,
        entry.placement,
        initial={
            "work_date": entry.work_date,
            "start": entry.starts_at.astimezone(zone).time(),
            "end": entry.ends_at.astimezone(zone).time(),
            "activity": entry.activity,
        },
        save=partial(hours_services.correct_shift, entry=entry, by=request.user),
        saved=_("Shift corrected and sent for approval again."),
        entry=entry,
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
def week_approve(request: AuthenticatedRequest, pk: int, monday: date) -> HttpResponse:
    placement = placement_for(request, pk)
    if not permissions.can_review_hours(request.user, placement):
        raise PermissionDenied
    try:
        approved = hours_services.approve_week(placement=placement, by=request.user, week_start=monday)
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
            % {"count": approved, "monday": date_format(hours_services.week_of(monday)[0])},
        )
    return _back(placement)
