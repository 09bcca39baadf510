from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ChainedRecord


class Kind(models.TextChoices):
    MIDPOINT = "midpoint", _("Midpoint evaluation of the student")
    FINAL = "final", _("Final evaluation of the student")
    SITE = "site", _("Student's evaluation of the site")

    def due_on(self, *, start_on: date, end_on: date, completed_on: date | None = None) -> date:
        """When this evaluation of a placement is due: the midpoint halfway through it, the final on its
        end date, the student's evaluation of the site on the end date or the day the placement was
        completed, if that came first. The reminders and the homes both ask here."""
        if self == Kind.MIDPOINT:
            return start_on + timedelta(days=(end_on - start_on).days // 2)
        if self == Kind.SITE and completed_on is not None:
            return min(end_on, completed_on)
        return end_on


PRECEPTOR_KINDS = (Kind.MIDPOINT, Kind.FINAL)


class Rating(models.IntegerChoices):
    UNSATISFACTORY = 1, _("1 — Unsatisfactory")
    NEEDS_IMPROVEMENT = 2, _("2 — Needs improvement")
    MEETS = 3, _("3 — Meets expectations")
    ABOVE = 4, _("4 — Above expectations")
    EXCELLENT = 5, _("5 — Excellent")


class EvaluationItem(models.Model):
    """One rated line of a program's evaluation form. Editing it never changes a submitted evaluation."""

    program = models.ForeignKey("curriculum.Program", on_delete=models.CASCADE, related_name="evaluation_items")
    kind = models.CharField(_("form"), max_length=10, choices=Kind.choices)
    section = models.CharField(_("section"), max_length=100, help_text=_("e.g. Professionalism"))
    text = models.CharField(_("item"), max_length=300)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("evaluation item")
        verbose_name_plural = _("evaluation items")
        ordering = ["program", "kind", "order", "pk"]

    def __str__(self) -> str:
        return self.text


class Evaluation(ChainedRecord):
    """A submitted, signed evaluation. It and its answers never change (database triggers).

    The digest covers the answers; each student's evaluations form a chain (`ChainedRecord`), so an
    evaluation removed or slipped in shows too."""

    MEANING = "submitted and signed by"
    CHAIN = "evaluation"
    CHAIN_FIELDS = (
        "placement_id",
        "student_id",
        "kind",
        "evaluator_id",
        "submitted_at",
        "comments",
        "answer_count",
        "meaning",
        "digest",
    )

    placement = models.ForeignKey("externships.Placement", on_delete=models.PROTECT, related_name="evaluations")
    # The placed student, whose chain the evaluation is a link of.
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    comments = models.TextField(_("comments"), blank=True)
    # How many answers it has: the database refuses any answer beyond this number.
    answer_count = models.PositiveSmallIntegerField()
    meaning = models.CharField(max_length=100, default=MEANING)
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["placement", "kind"], name="evaluation_once_per_kind"),
            models.UniqueConstraint(fields=["student", "chain_position"], name="evaluation_chain_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.placement}"

    def canonical_content(self, answers: list[EvaluationAnswer]) -> bytes:
        """What the digest covers. No primary key: the digest is computed before the row exists
        (the row never changes afterwards), and placement and kind identify it."""
        content = {
            "placement": self.placement_id,
            "kind": self.kind,
            "evaluator": self.evaluator_id,
            "submitted_at": self.submitted_at.isoformat(),
            "comments": self.comments,
            "answer_count": self.answer_count,
            "meaning": self.meaning,
            "answers": [[a.order, a.section, a.text, a.rating] for a in sorted(answers, key=lambda a: a.order)],
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_digest(self, answers: list[EvaluationAnswer]) -> str:
        return hmac.new(settings.SIGNATURE_KEY.encode(), self.canonical_content(answers), hashlib.sha256).hexdigest()

    def is_intact(self) -> bool:
        return hmac.compare_digest(self.compute_digest(list(self.answers.all())), self.digest)

    @classmethod
    def content_problems(cls, pks: list[int]) -> dict[int, str]:
        """Evaluations whose answers changed, went or grew since signing."""
        problems = {}
        for evaluation in cls.objects.filter(pk__in=pks).prefetch_related("answers"):
            if len(evaluation.answers.all()) != evaluation.answer_count or not evaluation.is_intact():
                problems[evaluation.pk] = "its answers changed since it was signed"
        return problems


class EvaluationAnswer(models.Model):
    """A copy of the item as it read when submitted, and its rating."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="answers")
    order = models.PositiveIntegerField()
    section = models.CharField(max_length=100)
    text = models.CharField(max_length=300)
    rating = models.PositiveSmallIntegerField(
        choices=Rating.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["order"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="evaluation_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.text}: {self.rating}"
