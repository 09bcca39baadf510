from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    """A clinical site that takes a program's students for their practicum."""

    program = models.ForeignKey("curriculum.Program", on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    specialties = ArrayField(
        models.CharField(max_length=80),
        verbose_name=_("specialties"),
        default=list,
        blank=True,
        help_text=_("Separate with commas, e.g. family medicine, pediatrics."),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        default=2,
        validators=[MinValueValidator(1)],
        help_text=_("How many students the site takes at the same time."),
    )
    agreement_expires_on = models.DateField(
        _("affiliation agreement expires"),
        null=True,
        blank=True,
        help_text=_("Leave empty while no signed agreement is on file: no placement can start then."),
    )
    is_active = models.BooleanField(_("taking students"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="site_name_unique_in_program"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="site_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def agreement_valid_through(self, day: date) -> bool:
        return self.agreement_expires_on is not None and self.agreement_expires_on >= day


class Preceptor(models.Model):
    """A person at a site who supervises students there. Signs in by emailed code; not school staff."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="preceptors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="preceptorships")
    title = models.CharField(
        _("title and credentials"), max_length=200, blank=True, help_text=_("e.g. CMA (AAMA), clinical supervisor")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("preceptor")
        verbose_name_plural = _("preceptors")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [models.UniqueConstraint(fields=["site", "user"], name="preceptor_unique_at_site")]

    def __str__(self) -> str:
        return f"{self.user.full_name} ({self.site})"
