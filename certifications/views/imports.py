"""Exam results and graduate outcomes imports: upload a file, see what it would change, apply it.

As the roster import: the upload is read and planned once and kept with its plan (ResultImport), the
preview shows the stored plan, and applying plans the stored rows again against the records as they
are now, writing only if that changes nothing the preview showed, only without errors, and only once.
Directors and coordinators import; an instructor of the program is refused (403), anyone else does not
find the program or the upload (404), and an upload is its uploader's own: nobody else sees or applies it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from certifications import imports, permissions
from certifications.forms_imports import ResultUploadForm
from certifications.models import ExamAttempt, PlacementStatus, ResultImport
from certifications.views import program_for
from curriculum import imports as flow
from curriculum import spreadsheets
from curriculum.models import Program
from curriculum.permissions import visible_programs
from curriculum.spreadsheets import RowError
from curriculum.views import imports as import_views

PAGE_SIZE = 50
EXAM = ResultImport.Kind.EXAM_RESULTS
OUTCOMES = ResultImport.Kind.GRADUATE_OUTCOMES
UPLOAD_URL: dict[str, str] = {EXAM: "certifications:exam-import", OUTCOMES: "certifications:outcomes-import"}
EXAMPLE_URL: dict[str, str] = {
    EXAM: "certifications:exam-import-example",
    OUTCOMES: "certifications:outcomes-import-example",
}
MESSAGES_SHOWN = 20
ERRORS_SHOWN = 100  # above the rows, which list every error page by page


def _title(kind: str) -> str:
    return _("Import exam results") if kind == EXAM else _("Import graduate outcomes")


# --- The format, as the upload page explains it --------------------------------------------


def _columns(kind: str, track_codes: list[str]) -> list[dict[str, Any]]:
    """Each column of the format: its name, whether it is required, what it holds, an example."""
    if kind == EXAM:
        return [
            {
                "name": "email",
                "required": True,
                "example": "maria.lopez@example.com",
                "meaning": _("The student's email address in Checkoff."),
            },
            {
                "name": "credential",
                "required": True,
                "example": track_codes[0] if track_codes else "CMA",
                "meaning": _("The credential's code, in any case: one of %(codes)s.")
                % {"codes": ", ".join(track_codes) or "—"},
            },
            {
                "name": "taken_on",
                "required": True,
                "example": "2025-06-14",
                "meaning": _("The day the exam was taken, as YYYY-MM-DD; not a day in the future."),
            },
            {"name": "result", "required": True, "example": "pass", "meaning": _("pass or fail.")},
            {
                "name": "score",
                "required": False,
                "example": "212",
                "meaning": _(
                    "The score the awarding body reports: a number from 0, at most one decimal. An empty "
                    "cell clears a score on record; without the column a result on record keeps its score."
                ),
            },
        ]
    return [
        {
            "name": "email",
            "required": True,
            "example": "maria.lopez@example.com",
            "meaning": _("The graduate's email address in Checkoff."),
        },
        {
            "name": "status",
            "required": True,
            "example": "in_field",
            "meaning": _("One of: %(statuses)s.")
            % {"statuses": ", ".join(f"{value} ({label})" for value, label in PlacementStatus.choices)},
        },
        {
            "name": "employed_on",
            "required": False,
            "example": "2025-07-01",
            "meaning": _("The day employment began, as YYYY-MM-DD; not before admission, not in the future."),
        },
        {
            "name": "employer",
            "required": False,
            "example": "Lakeside Family Clinic",
            "meaning": _("Who employs the graduate (200 characters at most)."),
        },
        {
            "name": "position",
            "required": False,
            "example": "Medical assistant",
            "meaning": _("The graduate's job title (200 characters at most)."),
        },
        {
            "name": "unavailable_reason",
            "required": False,
            "example": "",
            "meaning": _("Why the graduate is unavailable for employment; required with the status unavailable."),
        },
    ]


def _example_csv(kind: str, track_codes: list[str]) -> str:
    if kind == EXAM:
        first = track_codes[0] if track_codes else "CMA"
        second = track_codes[1] if len(track_codes) > 1 else first
        return (
            "email,credential,taken_on,result,score\r\n"
            f"maria.lopez@example.com,{first},2025-06-14,pass,212\r\n"
            f"james.chen@example.com,{second},2025-06-20,fail,\r\n"
        )
    return (
        "email,status,employed_on,employer,position,unavailable_reason\r\n"
        "maria.lopez@example.com,in_field,2025-07-01,Lakeside Family Clinic,Medical assistant,\r\n"
        "james.chen@example.com,unavailable,,,,Active military duty\r\n"
        "ana.silva@example.com,continuing_education,,,,\r\n"
    )


def _track_codes(program: Program) -> list[str]:
    return list(program.certification_tracks.order_by("order", "code").values_list("code", flat=True))


# --- Upload -------------------------------------------------------------------------------


def _upload_page(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    program = program_for(request, code, permissions.can_manage_certifications)
    form = ResultUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            upload, _plan = imports.preview_result_import(
                program=program,
                kind=kind,
                uploaded_by=request.user,
                file_name=upload_file.name,
                content=upload_file.read(),
            )
        except imports.ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("certifications:result-import-detail", pk=upload.pk)
    track_codes = _track_codes(program)
    return render(
        request,
        "certifications/import_upload.html",
        {
            "form": form,
            "program": program,
            "kind": kind,
            "title": _title(kind),
            "columns": _columns(kind, track_codes),
            "example_url": EXAMPLE_URL[kind],
            "recent": program.result_imports.filter(kind=kind)
            .select_related("uploaded_by")
            .defer("content", "rows", "plan")[:5],
        },
    )


@require_http_methods(["GET", "POST"])
def exam_import(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _upload_page(request, code, EXAM)


@require_http_methods(["GET", "POST"])
def outcomes_import(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _upload_page(request, code, OUTCOMES)


def _example(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    program = program_for(request, code, permissions.can_manage_certifications)
    response = HttpResponse(_example_csv(kind, _track_codes(program)), content_type="text/csv; charset=utf-8")
    file_name = "exam-results-example.csv" if kind == EXAM else "graduate-outcomes-example.csv"
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@require_GET
def exam_import_example(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """A small file in the format, to fill in or to compare with one's own."""
    return _example(request, code, EXAM)


@require_GET
def outcomes_import_example(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """A small file in the format, to fill in or to compare with one's own."""
    return _example(request, code, OUTCOMES)


# --- Preview and apply --------------------------------------------------------------------


def _result_import_for(request: HttpRequest, pk: int) -> ResultImport:
    """An upload of a program the person is staff of (404 otherwise) and imports for (403 otherwise),
    uploaded by them (404 otherwise: a preview lists students, and only its uploader applies it)."""
    upload = get_object_or_404(
        ResultImport.objects.filter(program__in=visible_programs(request.user))  # type: ignore[arg-type]
        .select_related("program", "uploaded_by")
        .defer("content", "rows", "plan"),
        pk=pk,
    )
    if not permissions.can_manage_certifications(request.user, upload.program):  # type: ignore[arg-type]
        raise PermissionDenied
    if upload.uploaded_by_id != request.user.pk:
        raise Http404
    return upload


def _shown(column: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if column == "status" and value in PlacementStatus.values:
        return str(PlacementStatus(value).label)
    if column == "result" and value in ExamAttempt.Result.values:
        return str(ExamAttempt.Result(value).label)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _cells(kind: str, row: imports.PlannedRow) -> list[dict[str, str]]:
    """What a row sets, column by column, with the value it replaces where it changes one."""
    columns = ("credential", "taken_on", "result", "score") if kind == EXAM else imports.PLACEMENT_FIELDS
    return [
        {
            "column": column,
            "value": _shown(column, row.values[column]),
            "old": _shown(column, row.changes[column][0]) if column in row.changes else "",
        }
        for column in columns
        if column in row.values
    ]


@require_GET
def result_import_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The dry run: what the file would change, row by row, before anything is written."""
    upload = _result_import_for(request, pk)
    previewed = upload.preview_is_current()
    stored: list[dict[str, Any]] = upload.plan if previewed and upload.plan else []
    file_error = "" if previewed or upload.applied_at else spreadsheets.preview_expired_message()
    # Only the rows shown become objects: a file has up to 20,000 of them.
    errors = (error for row in stored for error in row["errors"])
    error_count = sum(len(row["errors"]) for row in stored)
    page = Paginator(stored, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [imports.PlannedRow.from_json(row) for row in page]
    return render(
        request,
        "certifications/import_detail.html",
        {
            **import_views.state_context(upload),
            "program": upload.program,
            "title": _title(upload.kind),
            "upload_url": UPLOAD_URL[upload.kind],
            "previewed": previewed,
            "summary": upload.summary,
            "page": page,
            "rows": [(row, _cells(upload.kind, row)) for row in shown],
            "file_error": file_error,
            "errors": [RowError.from_json(error) for error in islice(errors, ERRORS_SHOWN)],
            "errors_not_shown": max(error_count - ERRORS_SHOWN, 0),
            # Warned rows may sit on any page: the count is said above the table.
            "warned_rows": sum(1 for row in stored if row.get("warnings")),
        },
    )


@require_POST
def result_import_apply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Queue the apply; the upload's page shows how it goes."""
    upload = _result_import_for(request, pk)
    import_views.queue_apply(request, upload, {})
    return redirect("certifications:result-import-detail", pk=upload.pk)


@require_GET
def result_import_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The fragment the upload's page polls while it is applied (see views/imports.py)."""
    return import_views.progress(request, _result_import_for(request, pk))


def _apply(upload: ResultImport, options: dict[str, Any], progress: flow.Progress) -> object:
    return imports.apply_result_import(upload=upload, applied_by=upload.uploaded_by, progress=progress)


def _refusal(upload: ResultImport, refusal: Exception) -> list[str]:
    if isinstance(refusal, imports.ImportRefused):
        rows = refusal.plan.summary["errors"]
        headline = ngettext(
            "Nothing was imported: %(count)s row has errors. Correct the file and upload it again.",
            "Nothing was imported: %(count)s rows have errors. Correct the file and upload it again.",
            rows,
        ) % {"count": rows}
        return [headline, *(str(error) for error in refusal.plan.errors[:MESSAGES_SHOWN])]
    reason = refusal.messages[0] if isinstance(refusal, ValidationError) else str(refusal)
    return [_("Nothing was imported: %(reason)s") % {"reason": reason}]


def _applied_message(summary: dict[str, Any]) -> str:
    return _("Imported: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.") % {
        "new": summary["new"],
        "changed": summary["changed"],
        "unchanged": summary["unchanged"],
    }


IMPORT_KINDS = [
    flow.ImportKind(
        name=kind,
        model=ResultImport,
        apply=_apply,
        refusal=_refusal,
        applied_message=_applied_message,
        find=_result_import_for,
        detail_url="certifications:result-import-detail",
        progress_url="certifications:result-import-progress",
    )
    for kind in (EXAM, OUTCOMES)
]
