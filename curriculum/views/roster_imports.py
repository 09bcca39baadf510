"""The roster import: a file of students, previewed and applied through the shared import pages
(views/imports.py), with the roster's own extras there: the intakes the program lacks, which the
preview can create, and whether to invite the current students.

Only the program's directors and coordinators find the roster import pages: anyone else does not find
the upload (404), and an upload is its uploader's own: a preview lists students.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from curriculum import imports, permissions, roster, services
from curriculum.forms import ApplyRosterForm, RosterIntakesForm, RosterUploadForm
from curriculum.models import Program, RosterImport

# An alumna, a current student naming her intake as people do, and one who withdrew.
ROSTER_EXAMPLE = (
    "email,first_name,last_name,cohort,admitted_on,student_number,preferred_language,"
    "trigger_course_completed_on,withdrawn_on,graduated_on\r\n"
    "ana.lopez@example.edu,Ana,López,2021 Spring,2021-01-11,S1001,es,2021-03-19,,2021-12-17\r\n"
    "ben.okoro@example.edu,Ben,Okoro,2026 Fall,2026-09-01,S2044,en,,,\r\n"
    "cara.nguyen@example.edu,Cara,Nguyen,2026 Fall,2026-09-01,S2045,,,2026-10-02,\r\n"
)


def find_upload(request: HttpRequest, pk: int) -> RosterImport:
    """An upload of a program the person administers, uploaded by them: a preview lists students,
    and only its uploader applies it. Anyone else does not find it (404)."""
    return get_object_or_404(
        RosterImport.objects.filter(
            program__in=permissions.administered_programs(request.user),  # type: ignore[arg-type]
            uploaded_by=request.user,
            kind=RosterImport.Kind.ROSTER,
        )
        .select_related("program", "uploaded_by")
        .defer("content", "rows", "plan"),
        pk=pk,
    )


@require_POST
def roster_import_intakes(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Tick or untick "create the missing intakes": the preview is planned again with the choice."""
    upload = find_upload(request, pk)
    if not permissions.can_manage_roster(request.user, upload.program):
        raise PermissionDenied
    form = RosterIntakesForm(request.POST)
    form.is_valid()
    try:
        services.replan_roster_import(upload=upload, create_cohorts=form.cleaned_data.get("create_cohorts", False))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("curriculum:roster-import-detail", pk=upload.pk)


# --- The roster's facts for the shared pages and the background apply ----------------------


def _preview(*, program: Program, uploaded_by: Any, file_name: str, content: bytes) -> RosterImport:
    upload, _plan = services.preview_roster(
        program=program, uploaded_by=uploaded_by, file_name=file_name, content=content
    )
    return upload


def _format_context(program: Program) -> dict[str, Any]:
    return {
        "required_columns": roster.REQUIRED_COLUMNS,
        "optional_columns": roster.OPTIONAL_COLUMNS,
        "cohorts": program.cohorts.order_by("-start_on"),
    }


def _apply_options(request: HttpRequest) -> dict[str, Any]:
    form = ApplyRosterForm(request.POST)
    form.is_valid()
    return {
        "skip_bad_rows": form.cleaned_data.get("skip_bad_rows", False),
        "invite": form.cleaned_data.get("invite", False),
    }


def _detail_context(upload: RosterImport, previewed: bool) -> dict[str, Any]:
    form = ApplyRosterForm()
    if not upload.summary.get("errors"):
        del form.fields["skip_bad_rows"]  # a choice only a file with bad rows offers
    return {
        "form": form,
        "intakes_form": RosterIntakesForm(initial={"create_cohorts": upload.create_cohorts}),
        "new_cohorts": [roster.NewCohort.from_json(new) for new in upload.new_cohorts] if previewed else [],
    }


def _apply(upload: RosterImport, options: dict[str, Any], progress: imports.Progress) -> object:
    return services.apply_roster_import(
        upload=upload,
        skip_bad_rows=options.get("skip_bad_rows", False),
        invite=options.get("invite", False),
        applied_by=upload.uploaded_by,
        progress=progress,
    )


def _refusal(upload: RosterImport, error: Exception) -> list[str]:
    if isinstance(error, IntegrityError):
        # Another import or edit added the same people between our check and our write.
        return [_("Nothing was imported: some of these students were changed meanwhile. Check the file again.")]
    reasons = error.messages if isinstance(error, ValidationError) else [str(error)]
    if len(reasons) == 1:
        return [_("Nothing was imported: %(reason)s") % {"reason": reasons[0]}]
    return [
        _("Nothing was imported: %(count)s rows have errors. Fix them, or choose to skip them.")
        % {"count": len(reasons)}
    ]


def _applied_message(summary: dict[str, Any]) -> str:
    return _(
        "Roster imported: %(new)s new students, %(enrolled)s people already in Checkoff enrolled, "
        "%(updated)s updated, %(unchanged)s unchanged, %(skipped)s rows skipped."
    ) % {
        "new": summary["new_students"],
        "enrolled": summary["new_enrollments"],
        "updated": summary["updated"],
        "unchanged": summary["unchanged"],
        "skipped": summary["errors"],
    }


IMPORT_KINDS = [
    imports.ImportKind(
        name=RosterImport.Kind.ROSTER,
        model=RosterImport,
        apply=_apply,
        refusal=_refusal,
        applied_message=_applied_message,
        find=find_upload,
        detail_url="curriculum:roster-import-detail",
        progress_url="curriculum:roster-import-progress",
        title=gettext_lazy("Import roster"),
        may_import=permissions.can_manage_roster,
        upload_form=RosterUploadForm,
        preview=_preview,
        upload_url="curriculum:roster-import",
        example_url="curriculum:roster-import-example",
        apply_url="curriculum:roster-import-apply",
        example_file_name="roster-example.csv",
        example=lambda program: ROSTER_EXAMPLE,
        upload_template="curriculum/roster_import.html",
        detail_template="curriculum/roster_import_detail.html",
        format_context=_format_context,
        row_from_json=roster.PlannedRow.from_json,
        listed=lambda row: row["action"] != "unchanged",
        apply_options=_apply_options,
        detail_context=_detail_context,
    )
]
