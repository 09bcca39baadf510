"""Competency frameworks, skill checklists, check-off attempts and their signatures.

A signed attempt is evidence for the accreditor: once its Signature exists, neither the attempt,
its step results nor the signature may change, and PostgreSQL triggers refuse even raw SQL
(migration curriculum/0003). A signature is withdrawn by a Revocation row, never by an edit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import chains
from accounts.models import ChainedRecord


class Confidence(models.TextChoices):
    """How sure we are that a seeded row matches the accreditor's own document."""

    VERIFIED = "verified", _("Verified against the official document")
    SECONDARY = "secondary", _("From a secondary source: needs confirming")
    RECALLED = "recalled", _("Recalled, not checked: must be confirmed")
    CONFIRMED = "confirmed_by_admin", _("Confirmed by a program director")

    @classmethod
    def needs_confirming(cls) -> tuple[str, ...]:
        return (cls.SECONDARY, cls.RECALLED)


class CompetencyFramework(models.Model):
    """A versioned list of competencies: MAERB 2022, MAERB 2015, or a program's own."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=40)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        "curriculum.Program",
        verbose_name=_("owned by program"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="own_frameworks",
        help_text=_("Empty for a shared reference framework such as MAERB's."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("competency framework")
        verbose_name_plural = _("competency frameworks")
        ordering = ["-version", "name"]

    def __str__(self) -> str:
        return self.name


class ContentArea(models.Model):
    framework = models.ForeignKey(CompetencyFramework, on_delete=models.CASCADE, related_name="content_areas")
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("content area")
        verbose_name_plural = _("content areas")
        ordering = ["framework", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="content_area_code_unique")]

    def __str__(self) -> str:
        return f"{self.code}. {self.title}"


class Domain(models.TextChoices):
    COGNITIVE = "C", _("Cognitive")
    PSYCHOMOTOR = "P", _("Psychomotor")
    AFFECTIVE = "A", _("Affective")


class CompetencyQuerySet(models.QuerySet["Competency"]):
    def for_program(self, program: Any) -> CompetencyQuerySet:
        """The program's framework's rows, and the program's own additions to it."""
        return self.filter(framework_id=program.framework_id).filter(Q(program__isnull=True) | Q(program=program))

    def signed_off(self) -> CompetencyQuerySet:
        """Rows evaluated by check-off: psychomotor and affective items that are tracked."""
        return self.filter(domain__in=[Domain.PSYCHOMOTOR, Domain.AFFECTIVE], is_tracked=True)


class Competency(models.Model):
    """One item of a framework, e.g. I.P.1.a "blood pressure", with the rule for passing it."""

    framework = models.ForeignKey(CompetencyFramework, on_delete=models.CASCADE, related_name="competencies")
    content_area = models.ForeignKey(ContentArea, on_delete=models.PROTECT, related_name="competencies")
    program = models.ForeignKey(
        "curriculum.Program",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="own_competencies",
        help_text=_("Set when a program adds a competency of its own to a shared framework."),
    )
    code = models.CharField(_("code"), max_length=40)
    domain = models.CharField(_("domain"), max_length=1, choices=Domain.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    title = models.CharField(_("title"), max_length=300)
    order = models.PositiveIntegerField(_("order"), default=0)
    tags = ArrayField(
        models.CharField(max_length=40),
        verbose_name=_("exam domains"),
        default=list,
        blank=True,
        help_text=_("Certification exam domains this competency prepares, e.g. vitals, phlebotomy, coding."),
    )
    is_tracked = models.BooleanField(
        _("signed off on its own"),
        default=True,
        help_text=_("Off for a heading such as “Measure and record” whose lettered sub-items are signed off instead."),
    )
    passing_score = models.PositiveSmallIntegerField(
        _("passing score (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Empty: the program's default."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    confidence = models.CharField(
        _("confidence"), max_length=20, choices=Confidence.choices, default=Confidence.CONFIRMED
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    courses = models.ManyToManyField(
        "curriculum.Course", through="CompetencyCourse", related_name="competencies", blank=True
    )

    objects = CompetencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("competency")
        verbose_name_plural = _("competencies")
        ordering = ["framework", "content_area__order", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], condition=Q(program__isnull=True), name="competency_code_unique"
            ),
            models.UniqueConstraint(
                fields=["framework", "program", "code"],
                condition=Q(program__isnull=False),
                name="program_competency_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def needs_confirming(self) -> bool:
        return self.confidence in Confidence.needs_confirming()

    @property
    def label(self) -> str:
        """A sub-item reads with its heading: “Accurately measure and record: blood pressure”."""
        if self.parent_id and self.parent:
            return f"{self.parent.title}: {self.title}"
        return self.title


class CompetencyChange(models.Model):
    """Who confirmed or corrected a seeded row, when, and what it said before."""

    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.competency.code} changed by {self.changed_by}"


class CompetencyCourse(models.Model):
    """Where a competency is taught and where it is assessed."""

    class Role(models.TextChoices):
        TEACHES = "teaches", _("Taught")
        ASSESSES = "assesses", _("Assessed")

    competency = models.ForeignKey(Competency, on_delete=models.CASCADE)
    course = models.ForeignKey("curriculum.Course", on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ASSESSES)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["competency", "course", "role"], name="competency_course_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.competency.code} — {self.get_role_display()} in {self.course.code}"


class ChecklistStep(models.Model):
    """One step of a program's skill checklist for a competency. Attempts copy the steps they use."""

    program = models.ForeignKey("curriculum.Program", on_delete=models.CASCADE, related_name="checklist_steps")
    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"))
    text = models.CharField(_("step"), max_length=500)
    points = models.PositiveSmallIntegerField(_("points"), default=1, validators=[MinValueValidator(1)])
    is_critical = models.BooleanField(
        _("critical"), default=False, help_text=_("Missing a critical step fails the attempt whatever the score.")
    )

    class Meta:
        verbose_name = _("checklist step")
        verbose_name_plural = _("checklist steps")
        ordering = ["program", "competency", "order"]
        constraints = [
            models.UniqueConstraint(fields=["program", "competency", "order"], name="checklist_step_order_unique"),
            models.CheckConstraint(condition=Q(points__gte=1), name="checklist_step_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.text}"


class Setting(models.TextChoices):
    LAB = "lab", _("Lab")
    SIMULATION = "simulation", _("Simulation")
    PRACTICUM = "practicum", _("Practicum")


class AttemptQuerySet(models.QuerySet["Attempt"]):
    def signed(self) -> AttemptQuerySet:
        return self.filter(signature__isnull=False)

    def standing(self) -> AttemptQuerySet:
        """Signed and not revoked: the attempts that count.

        The revocation is asked with NOT EXISTS, not a LEFT JOIN … IS NULL on its key: PostgreSQL cannot
        turn the latter into an anti-join, estimates that one signature in the table stands, and plans
        for it (reading every signature once per student, in a subquery per student)."""
        revoked = Revocation.objects.filter(signature__attempt=models.OuterRef("pk"))
        return self.filter(signature__isnull=False).filter(~models.Exists(revoked))


class Attempt(models.Model):
    """One evaluation of one student on one competency. A draft until the evaluator signs it."""

    enrollment = models.ForeignKey("curriculum.Enrollment", on_delete=models.PROTECT, related_name="attempts")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="attempts")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField(_("performed"), default=timezone.now)
    setting = models.CharField(_("setting"), max_length=20, choices=Setting.choices, default=Setting.LAB)
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1)
    points_earned = models.PositiveIntegerField()
    points_possible = models.PositiveIntegerField()
    passing_score = models.PositiveSmallIntegerField()
    critical_missed = models.PositiveSmallIntegerField(default=0)
    passed = models.BooleanField()
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-performed_at"]
        indexes = [models.Index(fields=["enrollment", "competency"])]
        constraints = [
            models.CheckConstraint(condition=Q(passed=True) | ~Q(comment=""), name="attempt_fail_needs_comment"),
            models.CheckConstraint(condition=Q(points_earned__lte=models.F("points_possible")), name="attempt_points"),
        ]

    def __str__(self) -> str:
        return f"{self.competency.code} for {self.enrollment.student}"

    @property
    def is_signed(self) -> bool:
        return hasattr(self, "signature")

    def canonical_content(self, *, signer_id: int, signed_at: str, meaning: str) -> bytes:
        """The bytes a signature's digest covers: every fact of the attempt, and who signed it when."""
        steps = [
            [result.order, result.text, result.points, result.is_critical, result.performed]
            for result in sorted(self.step_results.all(), key=lambda result: result.order)
        ]
        content = {
            "attempt": self.pk,
            "student": self.enrollment.student_id,
            "enrollment": self.enrollment_id,
            "competency": [self.competency_id, self.competency.code],
            "evaluator": self.evaluator_id,
            "performed_at": self.performed_at.isoformat(),
            "setting": self.setting,
            "steps": steps,
            "points": [self.points_earned, self.points_possible],
            "score": str(self.score),
            "passing_score": self.passing_score,
            "critical_missed": self.critical_missed,
            "passed": self.passed,
            "comment": self.comment,
            "signer": signer_id,
            "signed_at": signed_at,
            "meaning": meaning,
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def score_steps(results: list[tuple[int, bool, bool]], passing_score: int) -> dict[str, Any]:
    """Score (points, critical, performed) triples: the percent, and whether it passes.

    A missed critical step fails the attempt whatever the score: the accreditor's rule that a
    student who skips hand hygiene has not performed the skill safely."""
    possible = sum(points for points, _critical, _performed in results)
    earned = sum(points for points, _critical, performed in results if performed)
    critical_missed = sum(1 for _points, critical, performed in results if critical and not performed)
    score = (
        (Decimal(earned) * 100 / Decimal(possible)).quantize(Decimal("0.1"), ROUND_HALF_UP) if possible else Decimal(0)
    )
    return {
        "points_earned": earned,
        "points_possible": possible,
        "score": score,
        "critical_missed": critical_missed,
        "passed": bool(possible) and critical_missed == 0 and score >= passing_score,
    }


class StepResult(models.Model):
    """A step as the student was evaluated on it: a copy, so later checklist edits change nothing."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="step_results")
    order = models.PositiveIntegerField()
    text = models.CharField(max_length=500)
    points = models.PositiveSmallIntegerField()
    is_critical = models.BooleanField()
    performed = models.BooleanField()

    class Meta:
        ordering = ["attempt", "order"]
        constraints = [models.UniqueConstraint(fields=["attempt", "order"], name="step_result_order_unique")]

    def __str__(self) -> str:
        return f"{self.order}. {self.text}: {'done' if self.performed else 'missed'}"


class Signature(ChainedRecord):
    """The evaluator's signature on an attempt: who, when, what it means, and a keyed digest.

    Each student's signatures form a chain (`ChainedRecord`): the digest covers the attempt, the
    chain covers the signature rows themselves, so a deleted or slipped-in signature shows too."""

    MEANING = "performed and evaluated by"
    CHAIN = "signature"
    CHAIN_FIELDS = ("attempt_id", "student_id", "signer_id", "signed_at", "meaning", "digest")

    attempt = models.OneToOneField(Attempt, on_delete=models.PROTECT, related_name="signature")
    # The attempt's student, whose chain the signature is a link of.
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=100, default=MEANING)
    digest = models.CharField(max_length=64)

    # Set by `check_all` for pages: False until checked, so a page that forgot shows nothing as signed.
    verified = False

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["student", "chain_position"], name="signature_chain_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.attempt} signed by {self.signer}"

    @staticmethod
    def compute_digest(attempt: Attempt, *, signer_id: int, signed_at: str, meaning: str) -> str:
        content = attempt.canonical_content(signer_id=signer_id, signed_at=signed_at, meaning=meaning)
        return hmac.new(settings.SIGNATURE_KEY.encode(), content, hashlib.sha256).hexdigest()

    def is_intact(self) -> bool:
        """Recompute the digest: a changed attempt, step or signer, or a moved signature, shows."""
        expected = self.compute_digest(
            self.attempt, signer_id=self.signer_id, signed_at=self.signed_at.isoformat(), meaning=self.meaning
        )
        return hmac.compare_digest(expected, self.digest)

    @staticmethod
    def check_all(signatures: list[Signature]) -> None:
        """Set `verified` on one student's signatures: the digest still matches the attempt and its
        steps, and the row follows from the one before it in the student's chain (one query).

        Each signature's attempt comes with its enrollment, competency and step results."""
        if not signatures:
            return
        followers = chains.linked(signatures)
        for signature in signatures:
            signature.verified = signature.pk in followers and signature.is_intact()

    @classmethod
    def content_problems(cls, pks: list[int]) -> dict[int, str]:
        """Signatures whose attempt, steps or signer changed since signing, or whose attempt is gone."""
        signatures = {
            signature.pk: signature
            for signature in cls.objects.filter(pk__in=pks)
            .select_related("attempt__enrollment", "attempt__competency")
            .prefetch_related("attempt__step_results")
        }
        problems = {
            pk: "the signed attempt, its steps or its signer changed since signing"
            for pk, signature in signatures.items()
            if not signature.is_intact() or signature.attempt.enrollment.student_id != signature.student_id
        }
        # The joins above are inner joins: a signature whose attempt, enrollment or competency is gone
        # (possible only with triggers and foreign keys off) is missing from them.
        problems.update({pk: "the signed attempt is missing" for pk in pks if pk not in signatures})
        return problems


class Revocation(ChainedRecord):
    """A director's withdrawal of a signature, with the reason. The signed attempt stays visible.

    Each student's revocations form a chain (`ChainedRecord`): a deleted revocation, which would
    make a withdrawn signature count again, shows."""

    CHAIN = "revocation"
    CHAIN_FIELDS = ("signature_id", "student_id", "revoked_by_id", "revoked_at", "reason")

    signature = models.OneToOneField(Signature, on_delete=models.PROTECT, related_name="revocation")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="revocation_needs_reason"),
            models.UniqueConstraint(fields=["student", "chain_position"], name="revocation_chain_position_unique"),
        ]

    def __str__(self) -> str:
        return f"Revocation of {self.signature}"
