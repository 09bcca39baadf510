from __future__ import annotations

import uuid
from datetime import date
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    IMMUNIZATION = "immunization", _("Immunization")
    TUBERCULOSIS = "tuberculosis", _("Tuberculosis")
    CERTIFICATION = "certification", _("Certification")
    BACKGROUND = "background", _("Background and drug screen")
    INSURANCE = "insurance", _("Insurance")
    HEALTH = "health", _("Health")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class ComplianceRequirement(models.Model):
    """A document every student of the program (or of one site) must have approved before placement."""

    program = models.ForeignKey("curriculum.Program", on_delete=models.CASCADE, related_name="compliance_requirements")
    site = models.ForeignKey(
        "externships.Site",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="extra_requirements",
        verbose_name=_("only for site"),
        help_text=_("Empty: every student of the program needs it."),
    )
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    validity_months = models.PositiveSmallIntegerField(
        _("valid for (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: it does not expire once met."),
    )
    is_required = models.BooleanField(
        _("required"), default=True, help_text=_("Optional requirements are listed but do not hold a placement back.")
    )
    notes = models.TextField(_("what counts"), blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    confidence = models.CharField(_("confidence"), max_length=20, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("compliance requirement")
        verbose_name_plural = _("compliance requirements")
        ordering = ["program", "site", "order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"], condition=Q(site__isnull=True), name="requirement_name_unique_in_program"
            ),
            models.UniqueConstraint(
                fields=["program", "site", "name"],
                condition=Q(site__isnull=False),
                name="requirement_name_unique_at_site",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def _document_path(record: ComplianceRecord, filename: str) -> str:
    """A random name: the original name is kept in the row, never in the path."""
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"compliance/{record.student_id}/{uuid.uuid4().hex}{suffix}"


def _private_storage() -> Any:
    return storages["private"]


class ComplianceRecordQuerySet(models.QuerySet["ComplianceRecord"]):
    def approved_through(self, day: date) -> ComplianceRecordQuerySet:
        """Approved records still valid on the given day (no expiry, or expiring on or after it)."""
        return self.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day), state=ComplianceRecord.State.APPROVED)


class ComplianceRecord(models.Model):
    """A student's document for one requirement. It counts only once approved, and only while valid."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliance_records")
    requirement = models.ForeignKey(ComplianceRequirement, on_delete=models.PROTECT, related_name="records")
    document = models.FileField(_("document"), upload_to=_document_path, storage=_private_storage, max_length=200)
    document_name = models.CharField(max_length=200)
    document_type = models.CharField(max_length=50)
    document_size = models.PositiveIntegerField()
    completed_on = models.DateField(_("date completed"))
    expires_on = models.DateField(
        _("expires"), null=True, blank=True, help_text=_("The date on the card or letter, if it has one.")
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    uploaded_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(_("reason"), blank=True)

    objects = ComplianceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("compliance record")
        verbose_name_plural = _("compliance records")
        ordering = ["-uploaded_at"]
        indexes = [
            models.Index(fields=["student", "requirement"], name="compliance_student_requirement"),
            models.Index(fields=["uploaded_at"], condition=Q(state="pending"), name="compliance_pending"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("completed_on")),
                name="compliance_expires_after_completed",
            ),
            models.CheckConstraint(
                condition=Q(state="pending") | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="compliance_review_has_reviewer",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""), name="compliance_rejection_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requirement} — {self.student}"

    def valid_on(self, day: date) -> bool:
        return self.state == self.State.APPROVED and (self.expires_on is None or self.expires_on >= day)
