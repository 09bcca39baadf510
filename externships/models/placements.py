from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ChainedRecord

MAX_SHIFT = timedelta(hours=12)


class Placement(models.Model):
    """A student's practicum at a site, under a preceptor, between two dates."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    enrollment = models.ForeignKey("curriculum.Enrollment", on_delete=models.PROTECT, related_name="placements")
    site = models.ForeignKey("externships.Site", on_delete=models.PROTECT, related_name="placements")
    preceptor = models.ForeignKey("externships.Preceptor", on_delete=models.PROTECT, related_name="placements")
    start_on = models.DateField(_("start date"))
    end_on = models.DateField(_("end date"))
    required_hours = models.PositiveIntegerField(_("required hours"), validators=[MinValueValidator(1)])
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["-start_on"]
        constraints = [
            models.CheckConstraint(condition=Q(end_on__gte=F("start_on")), name="placement_ends_after_start"),
            models.CheckConstraint(condition=Q(required_hours__gte=1), name="placement_required_hours_positive"),
            models.UniqueConstraint(
                fields=["enrollment"], condition=Q(state="active"), name="placement_one_active_per_enrollment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.student} at {self.site}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.PLANNED, self.State.ACTIVE)


class ShiftRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class HoursEntry(ChainedRecord):
    """One shift at the site. Approved entries never change (a database trigger refuses it).

    The approval is what is chained: an entry gets its place in the student's chain of approved
    hours when it is approved (`ChainedRecord`), so an approval edited, removed or slipped in shows."""

    CHAIN = "approved_hours"
    CHAIN_FIELDS = (
        "id",
        "placement_id",
        "student_id",
        "work_date",
        "starts_at",
        "ends_at",
        "activity",
        "state",
        "reviewed_by_id",
        "reviewed_at",
    )

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for correction")

    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="hours")
    # The student again, so that the database can refuse overlapping shifts across placements.
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    work_date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    activity = models.TextField(_("what you did"), blank=True, max_length=1000)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SUBMITTED)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(_("reason"), blank=True)
    # Empty until approved: a shift waiting or returned is not a record yet.
    chain_position = models.PositiveIntegerField(null=True, editable=False)  # type: ignore[assignment]
    chain_digest = models.CharField(max_length=64, null=True, editable=False)  # type: ignore[assignment]

    class Meta:
        verbose_name = _("hours entry")
        verbose_name_plural = _("hours entries")
        ordering = ["work_date", "starts_at"]
        indexes = [models.Index(fields=["placement", "work_date"], name="hours_placement_date")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="hours_end_after_start"),
            models.CheckConstraint(
                condition=Q(ends_at__lte=F("starts_at") + MAX_SHIFT), name="hours_shift_at_most_12h"
            ),
            models.CheckConstraint(
                condition=Q(state="submitted") | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="hours_review_has_reviewer",
            ),
            ExclusionConstraint(
                name="hours_no_overlapping_shifts",
                expressions=[
                    ("student", RangeOperators.EQUAL),
                    (ShiftRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
            ),
            models.CheckConstraint(
                condition=Q(state="approved", chain_position__isnull=False, chain_digest__isnull=False)
                | (~Q(state="approved") & Q(chain_position__isnull=True, chain_digest__isnull=True)),
                name="hours_approved_is_linked",
            ),
            models.UniqueConstraint(fields=["student", "chain_position"], name="hours_chain_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.work_date}"

    @classmethod
    def chain_rows(cls) -> models.QuerySet[HoursEntry]:
        """Approved entries, and any entry with a place in the chain (approved once, if not now)."""
        return cls.objects.filter(Q(state=cls.State.APPROVED) | Q(chain_position__isnull=False))

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def hours(self) -> float:
        return self.duration.total_seconds() / 3600
