"""A program's outbox (every message sent to whom, what failed, resend) and its reminder timings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum.forms_reminders import TimingForm
from curriculum.permissions import can_resend_reminder, can_view_outbox
from curriculum.views import program_for
from curriculum.views.coursework import form_errors_to
from notifications import planner
from notifications import services as notifications
from notifications.kinds import kinds, timed_kinds
from notifications.models import Message

PAGE_SIZE = 50


@require_GET
def outbox(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Every message of the program (reminders, notices, invitations, welcomes), newest due first,
    filtered by state and kind; a page costs the same queries however long the outbox grows."""
    program = program_for(request, code, can_view_outbox)
    known = kinds()
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    rows = Message.objects.for_program(program.pk).select_related("recipient").order_by("-due_at", "-pk")
    if state in Message.State.values:
        rows = rows.filter(state=state)
    if kind in known:
        rows = rows.filter(kind=kind)
    counts = dict(Message.objects.for_program(program.pk).order_by().values_list("state").annotate(n=Count("pk")))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(message, known.get(message.kind)) for message in page]
    return render(
        request,
        "curriculum/outbox.html",
        {
            "program": program,
            "page": page,
            "items": items,
            "states": [(value, label, counts.get(value, 0)) for value, label in Message.State.choices],
            "kinds": list(known.values()),
            "state": state,
            "kind": kind,
            "can_resend": can_resend_reminder(request.user, program),
        },
    )


@require_POST
def outbox_resend(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    program = program_for(request, code, can_view_outbox)
    message = get_object_or_404(Message.objects.for_program(program.pk), pk=pk)
    if not can_resend_reminder(request.user, program):
        raise PermissionDenied
    try:
        notifications.resend(message=message, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The message is on its way again to %(person)s.") % {"person": message.recipient})
    return redirect("curriculum:outbox", code=program.code)


@require_http_methods(["GET", "POST"])
def reminder_timings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """When each kind of reminder goes out for this program: the days, the local hour, on or off."""
    program = program_for(request, code, can_resend_reminder)
    plan_window = planner.window()
    known = timed_kinds()
    if request.method == "POST":
        forms = [TimingForm(request.POST, kind=kind) for kind in known.values()]
        valid = [form.is_valid() for form in forms]  # every row checked, so every problem shows
        if all(valid):
            saving = forms[0]
            try:
                with transaction.atomic():  # every row or none
                    for saving in forms:
                        notifications.set_timing(
                            program_id=program.pk,
                            kind=saving.kind.key,
                            offsets=saving.cleaned_data["offsets"],
                            send_at=saving.cleaned_data["send_at"],
                            enabled=saving.cleaned_data["enabled"],
                            by=request.user,
                        )
            except ValidationError as error:
                form_errors_to(saving, error)
            else:
                messages.success(request, _("Reminder timings saved."))
                return redirect("curriculum:reminder-timings", code=program.code)
        messages.error(request, _("Nothing was saved: correct the rows marked below."))
    else:
        forms = [
            TimingForm(initial=TimingForm.initial_for(plan_window.timing(program.pk, kind.key)), kind=kind)
            for kind in known.values()
        ]
    return render(
        request,
        "curriculum/reminder_timings.html",
        {"program": program, "forms": forms},
    )
