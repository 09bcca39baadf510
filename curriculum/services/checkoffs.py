"""Check-off use cases: record an attempt, sign or discard it, revoke a signature, log who looked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import chains
from accounts.models import AccessLog, User
from curriculum.models import (
    Attempt,
    ChecklistStep,
    Competency,
    Enrollment,
    Revocation,
    Signature,
    StepResult,
    score_steps,
)


@transaction.atomic
def record_attempt(
    *,
    enrollment: Enrollment,
    competency: Competency,
    evaluator: User,
    performed_step_ids: set[int],
    setting: str,
    performed_at: datetime | None = None,
    comment: str = "",
) -> Attempt:
    """Score a filled checklist and keep it as an unsigned attempt, with a copy of every step."""
    if evaluator.pk == enrollment.student_id:
        raise ValidationError(_("Students cannot evaluate themselves."))
    program = enrollment.cohort.program
    steps = list(ChecklistStep.objects.filter(program=program, competency=competency).order_by("order"))
    if not steps:
        raise ValidationError(_("This competency has no checklist in the program yet."))
    if performed_step_ids - {step.pk for step in steps}:
        raise ValidationError(_("Some ticked steps do not belong to this checklist. Reload the page and try again."))
    performed_at = performed_at or timezone.now()
    if performed_at > timezone.now():
        raise ValidationError({"performed_at": _("An attempt cannot be in the future.")})
    passing_score = competency.passing_score or program.passing_score
    result = score_steps(
        [(step.points, step.is_critical, step.pk in performed_step_ids) for step in steps], passing_score
    )
    comment = comment.strip()
    if not result["passed"] and not comment:
        raise ValidationError({"comment": _("A failed attempt needs a comment: say what to work on.")})
    attempt = Attempt.objects.create(
        enrollment=enrollment,
        competency=competency,
        evaluator=evaluator,
        performed_at=performed_at,
        setting=setting,
        passing_score=passing_score,
        comment=comment,
        **result,
    )
    StepResult.objects.bulk_create(
        [
            StepResult(
                attempt=attempt,
                order=step.order,
                text=step.text,
                points=step.points,
                is_critical=step.is_critical,
                performed=step.pk in performed_step_ids,
            )
            for step in steps
        ]
    )
    return attempt


@transaction.atomic
def discard_attempt(*, attempt: Attempt, by: User) -> None:
    """An evaluator may throw away their own unsigned draft; a signed attempt is refused."""
    locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
    if Signature.objects.filter(attempt=locked).exists():
        raise ValidationError(_("A signed attempt cannot be discarded; a director may revoke its signature."))
    if locked.evaluator_id != by.pk:
        raise ValidationError(_("Only the evaluator may discard their draft."))
    locked.delete()


@transaction.atomic
def sign_attempt(*, attempt: Attempt, signer: User, request_meta: dict[str, Any] | None = None) -> Signature:
    """Sign an attempt once. Concurrent requests queue on the row lock; the later one finds it signed."""
    locked = Attempt.objects.select_for_update().select_related("enrollment", "competency").get(pk=attempt.pk)
    if Signature.objects.filter(attempt=locked).exists():
        raise ValidationError(_("This attempt is signed already."))
    if signer.pk == locked.enrollment.student_id:
        raise ValidationError(_("A student cannot sign their own attempt."))
    if signer.pk != locked.evaluator_id:
        raise ValidationError(_("Only the evaluator who performed the check-off may sign it."))
    signed_at = timezone.now()
    digest = Signature.compute_digest(
        locked, signer_id=signer.pk, signed_at=signed_at.isoformat(), meaning=Signature.MEANING
    )
    signature = Signature(
        attempt=locked,
        student_id=locked.enrollment.student_id,
        signer=signer,
        signed_at=signed_at,
        meaning=Signature.MEANING,
        digest=digest,
    )
    chains.link([signature])
    signature.save(force_insert=True)
    AccessLog.record(
        actor_id=signer.pk,
        student_id=locked.enrollment.student_id,
        action=AccessLog.Action.SIGN,
        target=f"{locked.competency.code} attempt {locked.pk}",
        request_meta=request_meta,
    )
    return signature


@transaction.atomic
def revoke_signature(
    *, signature: Signature, revoked_by: User, reason: str, request_meta: dict[str, Any] | None = None
) -> Revocation:
    """Withdraw a signature with a reason. The attempt and its signature stay, shown as revoked."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the signature is revoked.")})
    locked = Signature.objects.select_for_update().select_related("attempt__enrollment").get(pk=signature.pk)
    if Revocation.objects.filter(signature=locked).exists():
        raise ValidationError(_("This signature is revoked already."))
    revocation = Revocation(
        signature=locked, student_id=locked.attempt.enrollment.student_id, revoked_by=revoked_by, reason=reason
    )
    chains.link([revocation])
    revocation.save(force_insert=True)
    AccessLog.record(
        actor_id=revoked_by.pk,
        student_id=locked.attempt.enrollment.student_id,
        action=AccessLog.Action.REVOKE,
        target=f"signature {locked.pk}",
        request_meta=request_meta,
    )
    return revocation


def record_view(*, viewer: User, student_id: int, what: str, request_meta: dict[str, Any] | None = None) -> None:
    """Staff looking at a student's competency record leave a trace the student can read."""
    if viewer.pk != student_id:
        AccessLog.record(
            actor_id=viewer.pk,
            student_id=student_id,
            action=AccessLog.Action.VIEW,
            target=what,
            request_meta=request_meta,
        )
