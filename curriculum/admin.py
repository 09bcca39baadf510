"""Django admin for superusers. Signed evidence is read-only here as everywhere: no change, no delete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from curriculum.models import (
    Assignment,
    Attempt,
    ChecklistStep,
    Cohort,
    Competency,
    CompetencyFramework,
    ContentArea,
    Course,
    CourseOffering,
    Enrollment,
    Program,
    Revocation,
    Signature,
    StaffRole,
)


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "accreditor", "time_zone", "framework"]
    search_fields = ["code", "name"]
    inlines = [StaffRoleInline]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "program", "start_on", "expected_graduation_on"]
    list_filter = ["program"]
    filter_horizontal = ["instructors"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "program"]
    list_filter = ["program"]


@admin.register(CourseOffering)
class CourseOfferingAdmin(admin.ModelAdmin):
    list_display = ["course", "cohort", "instructor", "starts_on", "ends_on"]
    raw_id_fields = ["instructor"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["student", "cohort", "admitted_on", "withdrawn_on", "graduated_on"]
    list_filter = ["cohort__program"]
    search_fields = ["student__email", "student__last_name", "student_number"]
    raw_id_fields = ["student"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "offering", "kind", "due_at", "points"]


@admin.register(CompetencyFramework)
class CompetencyFrameworkAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "version", "owner"]


@admin.register(ContentArea)
class ContentAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "framework", "order"]
    list_filter = ["framework"]


@admin.register(Competency)
class CompetencyAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "domain", "framework", "confidence", "is_tracked"]
    list_filter = ["framework", "domain", "confidence"]
    search_fields = ["code", "title"]


@admin.register(ChecklistStep)
class ChecklistStepAdmin(admin.ModelAdmin):
    list_display = ["competency", "program", "order", "text", "points", "is_critical"]
    list_filter = ["program"]


class EvidenceAdmin(admin.ModelAdmin):
    """Evidence for the accreditor: viewable, never changed or deleted (triggers refuse it anyway)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(EvidenceAdmin):
    list_display = ["competency", "enrollment", "evaluator", "performed_at", "score", "passed"]
    list_select_related = ["competency", "enrollment__student", "evaluator"]


@admin.register(Signature)
class SignatureAdmin(EvidenceAdmin):
    list_display = ["attempt", "signer", "signed_at", "meaning"]


@admin.register(Revocation)
class RevocationAdmin(EvidenceAdmin):
    list_display = ["signature", "revoked_by", "revoked_at", "reason"]
