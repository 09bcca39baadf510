"""Django admin for superusers: outcome measures and their thresholds are edited here (they are the
accreditors', shared by every program); tracks belong to programs and are edited on the program's pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from certifications.models import (
    CertificationTrack,
    ContentDomain,
    Credential,
    ExamAttempt,
    JobPlacement,
    OutcomeMeasure,
)
from curriculum.models import Confidence


class ContentDomainInline(admin.TabularInline):
    model = ContentDomain
    extra = 0


@admin.register(CertificationTrack)
class CertificationTrackAdmin(admin.ModelAdmin):
    list_display = ["code", "program", "is_offered", "retake_wait_days", "max_attempts", "recertification_months"]
    list_filter = ["program", "code"]
    inlines = [ContentDomainInline]


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(admin.ModelAdmin):
    list_display = ["accreditor", "key", "threshold_percent", "confidence", "confirmed_by", "confirmed_at"]
    list_filter = ["accreditor", "confidence"]
    readonly_fields = ["confirmed_by", "confirmed_at"]

    def save_model(self, request: HttpRequest, obj: OutcomeMeasure, form: Any, change: bool) -> None:
        """An admin saving a measure has checked it against the accreditor's current policy."""
        obj.confidence = Confidence.CONFIRMED
        obj.confirmed_by, obj.confirmed_at = request.user, timezone.now()  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(ExamAttempt)
class ExamAttemptAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "track", "scheduled_on", "taken_on", "result", "score"]
    list_filter = ["track__code", "result"]
    raw_id_fields = ["enrollment", "created_by", "recorded_by"]


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "track", "number", "issued_on", "expires_on"]
    raw_id_fields = ["enrollment", "exam_attempt"]


@admin.register(JobPlacement)
class JobPlacementAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "status", "employer", "recorded_at"]
    list_filter = ["status"]
    raw_id_fields = ["enrollment", "recorded_by"]
