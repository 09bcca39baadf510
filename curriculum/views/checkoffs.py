"""Performing a check-off on a tablet, signing it after re-authentication, and revoking a signature."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Min, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import presence_required
from accounts.http import AuthenticatedRequest
from curriculum import permissions, services
from curriculum.forms import CheckoffForm, CheckoffPickForm, RevocationForm
from curriculum.models import Attempt, ChecklistStep, Competency, Revocation, Signature
from curriculum.views.coursework import form_errors_to


def checkoff_competencies(program_id: int, framework_id: int | None) -> list[Competency]:
    """The program's competencies that are signed off and have a checklist, in framework order."""
    with_steps = ChecklistStep.objects.filter(program_id=program_id).values("competency_id")
    return list(
        Competency.objects.filter(framework_id=framework_id, pk__in=with_steps)
        .signed_off()
        .select_related("content_area", "parent")
        .order_by("content_area__order", "order")
    )


@require_GET
def checkoff_pick(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Choose a student of the cohort and a competency, then open the checklist."""
    cohort = get_object_or_404(permissions.visible_cohorts(request.user).select_related("program"), pk=pk)
    if not permissions.teaches_cohort(request.user, cohort):
        raise PermissionDenied
    form = CheckoffPickForm(
        request.GET or None,
        enrollments=cohort.enrollments.current().select_related("student").order_by("student__last_name"),
        competencies=checkoff_competencies(cohort.program_id, cohort.program.framework_id),
    )
    if request.GET and form.is_valid():
        return redirect(
            "curriculum:checkoff-new",
            pk=form.cleaned_data["enrollment"].pk,
            competency_pk=form.cleaned_data["competency"].pk,
        )
    return render(request, "curriculum/checkoff_pick.html", {"cohort": cohort, "form": form})


# The query string of the link that starts a new attempt at a competency the student has achieved.
START_NEW_ATTEMPT = "attempt=new"


def attempt_history(enrollment_id: int, competency_id: int) -> tuple[int, datetime | None]:
    """(signed attempts, when the first standing pass was performed) of one student at one competency.

    One query. "Achieved" is the rule of `curriculum.progress`: a signed, unrevoked pass; drafts count for
    nothing, and a revoked attempt still counts as an attempt made."""
    history = Attempt.objects.filter(enrollment_id=enrollment_id, competency_id=competency_id).aggregate(
        signed=Count("pk", filter=Q(signature__isnull=False)),
        achieved_at=Min(
            "performed_at", filter=Q(passed=True, signature__isnull=False, signature__revocation__isnull=True)
        ),
    )
    return history["signed"], history["achieved_at"]


@require_http_methods(["GET", "POST"])
def checkoff_new(request: AuthenticatedRequest, pk: int, competency_pk: int) -> HttpResponse:
    """The checklist on a tablet or a phone: one step a row, each marked performed or missed, the running
    score in sight as the list scrolls.

    It opens calm: nothing is scored and nothing is red until a step is marked. A competency the student
    has already achieved opens on a notice first, since the checklist records a new attempt beside the
    achieved one; the first "Start a new attempt" (a plain link, `?attempt=new`) opens the checklist."""
    enrollment = get_object_or_404(
        permissions.visible_enrollments(request.user).select_related("student", "cohort__program"), pk=pk
    )
    program = enrollment.cohort.program
    competency = get_object_or_404(
        Competency.objects.for_program(program).signed_off().select_related("parent", "content_area"),
        pk=competency_pk,
    )
    if not permissions.can_evaluate(request.user, enrollment):
        raise PermissionDenied
    if request.method == "GET":
        # The page lists the student's earlier attempts: reading them is a view of their record.
        services.record_view(
            viewer=request.user,
            student_id=enrollment.student_id,
            what=f"{competency.code} check-off",
            request_meta=request.META,
        )
    steps = list(ChecklistStep.objects.filter(program=program, competency=competency).order_by("order"))
    form = CheckoffForm(request.POST or None, steps=steps)
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.record_attempt(
                enrollment=enrollment,
                competency=competency,
                evaluator=request.user,
                performed_step_ids={int(step_id) for step_id in form.cleaned_data["steps"]},
                setting=form.cleaned_data["setting"],
                performed_at=form.cleaned_data["performed_at"] or timezone.now(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            return redirect("curriculum:attempt-detail", pk=attempt.pk)
    passing_score = competency.passing_score or program.passing_score
    previous = list(
        Attempt.objects.filter(enrollment=enrollment, competency=competency)
        .select_related("evaluator", "signature__signer", "signature__revocation")
        .prefetch_related("step_results")
        .order_by("-performed_at")[:10]
    )
    for attempt in previous:
        attempt.enrollment, attempt.competency = enrollment, competency
    Signature.check_all([attempt.signature for attempt in previous if getattr(attempt, "signature", None)])
    signed_attempts, achieved_at = attempt_history(enrollment.pk, competency.pk)
    return render(
        request,
        "curriculum/checkoff_form.html",
        {
            "enrollment": enrollment,
            "competency": competency,
            "form": form,
            "steps": steps,
            "checked": request.POST.getlist("steps"),
            # Steps marked missed: only the page's own state (the service scores every step not performed
            # as missed), sent back so a refused form reopens as the evaluator left it.
            "missed": request.POST.getlist("missed"),
            "submitted": request.method == "POST",
            "passing_score": passing_score,
            "total_points": sum(step.points for step in steps),
            "previous": previous,
            "attempt_number": signed_attempts + 1,
            "achieved_at": achieved_at,
            "starting_confirmed": request.method == "POST" or request.GET.get("attempt") == "new",
            "start_query": START_NEW_ATTEMPT,
        },
    )


def _attempt_for(request: AuthenticatedRequest, pk: int) -> Attempt:
    return get_object_or_404(
        permissions.visible_attempts(request.user).select_related(
            "enrollment__student",
            "enrollment__cohort__program",
            "competency__parent",
            "competency__content_area",
            "evaluator",
            "signature__signer",
            "signature__revocation__revoked_by",
        ),
        pk=pk,
    )


@require_GET
def attempt_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An attempt with every step, its score, and who signed it when, or the buttons to sign."""
    attempt = _attempt_for(request, pk)
    signature: Signature | None = getattr(attempt, "signature", None)
    revocation: Revocation | None = getattr(signature, "revocation", None) if signature else None
    if signature is not None:
        Signature.check_all([signature])
    services.record_view(
        viewer=request.user,
        student_id=attempt.enrollment.student_id,
        what=f"{attempt.competency.code} attempt {attempt.pk}",
        request_meta=request.META,
    )
    return render(
        request,
        "curriculum/attempt_detail.html",
        {
            "attempt": attempt,
            "steps": attempt.step_results.order_by("order"),
            "signature": signature,
            "revocation": revocation,
            "can_sign": signature is None and permissions.can_sign(request.user, attempt),
            "can_revoke": signature is not None
            and revocation is None
            and permissions.can_revoke(request.user, attempt),
            "revocation_form": RevocationForm(),
            "is_own": attempt.enrollment.student_id == request.user.pk,
        },
    )


@require_POST
@presence_required
def attempt_sign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Sign after re-entering one's password within the last five minutes (allauth re-authentication).

    Without a fresh re-authentication allauth keeps this request, asks for the password, and
    replays it once confirmed."""
    attempt = _attempt_for(request, pk)
    if not permissions.can_sign(request.user, attempt):
        raise PermissionDenied
    try:
        services.sign_attempt(attempt=attempt, signer=request.user, request_meta=request.META)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Signed. The attempt is now part of the student's record and cannot change."))
    return redirect("curriculum:attempt-detail", pk=attempt.pk)


@require_POST
def attempt_discard(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    attempt = _attempt_for(request, pk)
    if not permissions.can_sign(request.user, attempt):
        raise PermissionDenied
    enrollment_pk, competency_pk = attempt.enrollment_id, attempt.competency_id
    try:
        services.discard_attempt(attempt=attempt, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("curriculum:attempt-detail", pk=attempt.pk)
    messages.success(request, _("Draft discarded."))
    return redirect("curriculum:checkoff-new", pk=enrollment_pk, competency_pk=competency_pk)


@require_POST
def attempt_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A director withdraws a signature with a reason; the attempt stays, marked revoked."""
    attempt = _attempt_for(request, pk)
    signature = getattr(attempt, "signature", None)
    if signature is None:
        raise PermissionDenied
    if not permissions.can_revoke(request.user, attempt):
        raise PermissionDenied
    form = RevocationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the signature is revoked."))
        return redirect("curriculum:attempt-detail", pk=attempt.pk)
    try:
        services.revoke_signature(
            signature=signature, revoked_by=request.user, reason=form.cleaned_data["reason"], request_meta=request.META
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Signature revoked. The attempt stays on the record, marked revoked."))
    return redirect("curriculum:attempt-detail", pk=attempt.pk)
