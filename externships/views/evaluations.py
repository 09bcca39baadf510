"""Evaluation pages: fill and sign a form, read a submitted one, and the director's form editor.

Submitting signs. Someone with a password re-enters it first (allauth re-authentication, as for
check-offs). A preceptor who signs in by emailed code alone has no password to re-enter; for them
the code sign-in is the proof, and it must be recent: older than `EVALUATION_SIGNING_WINDOW`, they
sign in again with a new code before they can sign.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import presence_required
from accounts.http import AuthenticatedRequest
from curriculum.models import Program
from curriculum.services import record_view
from curriculum.views.coursework import form_errors_to
from externships import permissions
from externships.forms.placements import EvaluationForm, EvaluationItemFormSet
from externships.models import EvaluationItem, Kind, Rating
from externships.services import evaluations as evaluation_services
from externships.views import managed_program
from externships.views.placements import placement_for


def signing_is_fresh(request: AuthenticatedRequest) -> bool:
    """For code-only accounts: signed in within the window. Others re-authenticate through allauth."""
    if request.user.has_usable_password():
        return True
    records = get_authentication_records(request, request.user)
    return bool(records) and time.time() - records[-1]["at"] < settings.EVALUATION_SIGNING_WINDOW


@require_http_methods(["GET", "POST"])
@presence_required
def evaluation_new(request: AuthenticatedRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in Kind.values:
        raise Http404
    placement = placement_for(request, pk)
    if not permissions.can_evaluate(request.user, placement, kind):
        raise PermissionDenied
    existing = placement.evaluations.filter(kind=kind).first()
    if existing is not None:
        messages.info(request, _("This evaluation is submitted already."))
        return redirect("externships:evaluation-detail", pk=existing.pk)
    if not signing_is_fresh(request):
        return render(request, "externships/evaluation_stale.html", {"placement": placement}, status=403)
    items = evaluation_services.form_items(placement, kind)
    form = EvaluationForm(request.POST or None, items=items)
    not_open = evaluation_services.opening_problem(placement, kind)
    if request.method == "POST" and form.is_valid() and not not_open:
        try:
            evaluation = evaluation_services.submit_evaluation(
                placement=placement,
                kind=kind,
                evaluator=request.user,
                ratings=form.ratings(),
                comments=form.cleaned_data["comments"],
                request_meta=request.META,
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Evaluation submitted and signed. It can no longer change."))
            return redirect("externships:evaluation-detail", pk=evaluation.pk)
    return render(
        request,
        "externships/evaluation_form.html",
        {"form": form, "placement": placement, "kind": Kind(kind), "not_open": not_open, "ratings": Rating.choices},
        status=422 if request.method == "POST" else 200,
    )


@require_GET
def evaluation_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    evaluation = get_object_or_404(
        permissions.visible_evaluations(request.user).select_related(
            "placement__enrollment__student", "placement__site", "evaluator"
        ),
        pk=pk,
    )
    answers = list(evaluation.answers.all())
    record_view(
        viewer=request.user,
        student_id=evaluation.placement.enrollment.student_id,
        what=f"{evaluation.kind} evaluation of placement {evaluation.placement_id}",
        request_meta=request.META,
    )
    sections: dict[str, list[Any]] = {}
    for answer in answers:
        sections.setdefault(answer.section, []).append(answer)
    return render(
        request,
        "externships/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "placement": evaluation.placement,
            "sections": list(sections.items()),
            "intact": hmac.compare_digest(evaluation.compute_digest(answers), evaluation.digest),
        },
    )


@require_http_methods(["GET", "POST"])
def evaluation_items(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    """The program's form for one kind: edit, add, remove or reorder items. Submitted evaluations
    keep the items as they read when signed."""
    program: Program = managed_program(request, code)
    if kind not in Kind.values:
        raise Http404
    queryset = EvaluationItem.objects.filter(program=program, kind=kind)
    formset = EvaluationItemFormSet(request.POST or None, queryset=queryset, prefix="items")
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            for item in formset.save(commit=False):
                item.program, item.kind = program, kind
                item.save()
            for item in formset.deleted_objects:
                item.delete()
        messages.success(request, _("Form saved."))
        return redirect("externships:evaluation-items", code=program.code, kind=kind)
    return render(
        request,
        "externships/evaluation_items.html",
        {"formset": formset, "program": program, "kind": Kind(kind), "kinds": Kind.choices},
        status=422 if request.method == "POST" else 200,
    )
