"""Evaluation use cases: submit and sign an evaluation in one step. It never changes afterwards."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import chains
from accounts.models import AccessLog, User
from externships import permissions
from externships.models import PRECEPTOR_KINDS, Evaluation, EvaluationAnswer, EvaluationItem, Kind, Placement

LOW_RATING = 2


def form_items(placement: Placement, kind: str) -> list[EvaluationItem]:
    return list(EvaluationItem.objects.filter(program=placement.enrollment.cohort.program_id, kind=kind))


def opening_problem(placement: Placement, kind: str) -> str:
    """Why the form is not open yet, or "" when it is. The final evaluation follows the midpoint."""
    if placement.state not in (Placement.State.ACTIVE, Placement.State.COMPLETED):
        return _("Evaluations open once the placement is active.")
    if kind == Kind.FINAL and not Evaluation.objects.filter(placement=placement, kind=Kind.MIDPOINT).exists():
        return _("The final evaluation opens once the midpoint evaluation is submitted.")
    return ""


@transaction.atomic
def submit_evaluation(
    *,
    placement: Placement,
    kind: str,
    evaluator: User,
    ratings: dict[int, int],
    comments: str = "",
    request_meta: dict[str, Any] | None = None,
) -> Evaluation:
    """Rate every item of the program's form, sign and keep it. Once per placement and kind."""
    locked = (
        Placement.objects.select_for_update().select_related("preceptor", "enrollment__cohort").get(pk=placement.pk)
    )
    if not permissions.can_evaluate(evaluator, locked, kind):
        raise ValidationError(_("You cannot submit this evaluation."))
    if problem := opening_problem(locked, kind):
        raise ValidationError(problem)
    if Evaluation.objects.filter(placement=locked, kind=kind).exists():
        raise ValidationError(_("This evaluation is submitted already; it cannot change."))
    items = form_items(locked, kind)
    if not items:
        raise ValidationError(_("The program has no items on this form yet."))
    errors = {
        f"item_{item.pk}": _("Rate “%(item)s” from 1 to 5.") % {"item": item.text}
        for item in items
        if ratings.get(item.pk) not in range(1, 6)
    }
    if errors:
        raise ValidationError(errors)
    comments = comments.strip()
    if any(ratings[item.pk] <= LOW_RATING for item in items) and not comments:
        raise ValidationError({"comments": _("Explain in the comments every rating of 1 or 2.")})
    answers = [
        EvaluationAnswer(order=position, section=item.section, text=item.text, rating=ratings[item.pk])
        for position, item in enumerate(items, start=1)
    ]
    evaluation = Evaluation(
        placement=locked,
        student_id=locked.enrollment.student_id,
        kind=kind,
        evaluator=evaluator,
        submitted_at=timezone.now(),
        comments=comments,
        answer_count=len(answers),
    )
    evaluation.digest = evaluation.compute_digest(answers)
    try:
        with transaction.atomic():  # the head moves only with the row
            chains.link([evaluation])
            evaluation.save(force_insert=True)
    except IntegrityError as error:  # a second submission raced this one
        raise ValidationError(_("This evaluation is submitted already; it cannot change.")) from error
    for answer in answers:
        answer.evaluation = evaluation
    EvaluationAnswer.objects.bulk_create(answers)
    if kind in PRECEPTOR_KINDS:
        AccessLog.record(
            actor_id=evaluator.pk,
            student_id=locked.enrollment.student_id,
            action=AccessLog.Action.EVALUATE,
            target=f"{kind} evaluation of placement {locked.pk}",
            request_meta=request_meta,
        )
    return evaluation
