"""Django admin for superusers. Hours, evaluations and compliance documents are evidence: read-only.

Compliance documents hold health information; the admin lists their metadata but links no file
(the file is served only by the compliance view, which logs who opened it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from curriculum.admin import EvidenceAdmin
from externships.models import (
    ComplianceRecord,
    ComplianceRequirement,
    Evaluation,
    EvaluationItem,
    HoursEntry,
    Placement,
    Preceptor,
    Site,
)


class PreceptorInline(admin.TabularInline):
    model = Preceptor
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "capacity", "agreement_expires_on", "is_active"]
    list_filter = ["program", "is_active"]
    search_fields = ["name"]
    inlines = [PreceptorInline]


@admin.register(ComplianceRequirement)
class ComplianceRequirementAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "site", "category", "validity_months", "is_required", "confidence"]
    list_filter = ["program", "category", "is_required"]


@admin.register(EvaluationItem)
class EvaluationItemAdmin(admin.ModelAdmin):
    list_display = ["text", "section", "kind", "program", "order"]
    list_filter = ["program", "kind"]


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    """Placements change through the program's pages, where the gate applies: read-only here."""

    list_display = ["enrollment", "site", "preceptor", "start_on", "end_on", "state"]
    list_filter = ["state", "site__program"]
    list_select_related = ["enrollment__student", "site", "preceptor__user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(HoursEntry)
class HoursEntryAdmin(EvidenceAdmin):
    list_display = ["student", "work_date", "starts_at", "ends_at", "state", "reviewed_by"]
    list_filter = ["state"]
    list_select_related = ["student", "reviewed_by"]


@admin.register(Evaluation)
class EvaluationAdmin(EvidenceAdmin):
    list_display = ["placement", "kind", "evaluator", "submitted_at"]
    list_filter = ["kind"]


@admin.register(ComplianceRecord)
class ComplianceRecordAdmin(EvidenceAdmin):
    list_display = ["student", "requirement", "state", "completed_on", "expires_on", "reviewed_by"]
    list_filter = ["state"]
    exclude = ["document"]
