"""Setting a program up from files: upload a cohorts or courses file, see what it would change, apply it.

As the roster import: the upload is read and planned once and kept with its plan (a RosterImport of
its kind), the preview shows the stored plan, and applying plans the stored rows again against the
records as they are now, writing only if that changes nothing the preview showed, only without
errors, and only once. Directors and coordinators import; an instructor of the program is refused
(403), anyone else does not find the program or the upload (404), and an upload is its uploader's
own: nobody else sees or applies it.
"""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum import imports, permissions, services, setup_imports, spreadsheets
from curriculum.forms import SetupUploadForm
from curriculum.models import RosterImport
from curriculum.views import imports as import_views
from curriculum.views import program_for

PAGE_SIZE = 50
ERRORS_SHOWN = 100  # above the rows, which list every error page by page
MESSAGES_SHOWN = 20
COHORTS = RosterImport.Kind.COHORTS
COURSES = RosterImport.Kind.COURSES
KINDS = (COHORTS, COURSES)
UPLOAD_URL: dict[str, str] = {COHORTS: "curriculum:cohort-import", COURSES: "curriculum:course-import"}
EXAMPLE_URL: dict[str, str] = {COHORTS: "curriculum:cohort-import-example", COURSES: "curriculum:course-import-example"}


def _title(kind: str) -> str:
    return _("Import cohorts") if kind == COHORTS else _("Import courses")


def _columns(kind: str) -> list[dict[str, Any]]:
    """Each column of the format: its name, whether it is required, what it holds, an example."""
    code = {
        "name": "code",
        "required": True,
        "meaning": _(
            "The short code that finds the record again, in any case: letters, digits, dots, dashes or "
            "underscores, 40 at most."
        ),
    }
    if kind == COHORTS:
        return [
            {**code, "example": "2026-FALL"},
            {"name": "name", "required": True, "example": "Fall 2026", "meaning": _("200 characters at most.")},
            {"name": "starts_on", "required": True, "example": "2026-09-01", "meaning": _("As YYYY-MM-DD.")},
            {
                "name": "expected_graduation_on",
                "required": True,
                "example": "2027-06-30",
                "meaning": _("As YYYY-MM-DD, after starts_on."),
            },
            {
                "name": "instructors",
                "required": False,
                "example": "irene@example.com",
                "meaning": _(
                    "Emails of instructors of this program, separated by semicolons: the cohort's whole list. "
                    "Add a new instructor on the program page first. An empty cell keeps the list on record."
                ),
            },
        ]
    return [
        {**code, "example": "MA101"},
        {
            "name": "title",
            "required": True,
            "example": "Anatomy and Physiology",
            "meaning": _("200 characters at most."),
        },
        {
            "name": "hours",
            "required": True,
            "example": "90",
            "meaning": _("Clock hours: a whole number from 1 to %(limit)s.") % {"limit": setup_imports.MAX_HOURS},
        },
        {
            "name": "is_trigger_course",
            "required": False,
            "example": "yes",
            "meaning": _(
                "yes or no (true, false, 1, 0 too). Retention counts from the program's one trigger course: "
                "to move it, say no on the current one's row. An empty cell changes nothing."
            ),
        },
    ]


def _example_csv(kind: str) -> str:
    if kind == COHORTS:
        return (
            "code,name,starts_on,expected_graduation_on,instructors\r\n"
            "2026-FALL,Fall 2026,2026-09-01,2027-06-30,\r\n"
            "2027-SPRING,Spring 2027,2027-01-15,2027-12-15,\r\n"
        )
    return (
        "code,title,hours,is_trigger_course\r\n"
        "MA101,Anatomy and Physiology,90,no\r\n"
        "MA102,Clinical Procedures,120,yes\r\n"
        "MA201,Externship,160,no\r\n"
    )


# --- Upload -------------------------------------------------------------------------------


def _upload_page(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    program = program_for(request, code, permissions.can_manage_roster)
    form = SetupUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            upload = services.preview_setup_import(
                kind=kind,
                program=program,
                uploaded_by=request.user,
                file_name=upload_file.name,
                content=upload_file.read(),
            )
        except spreadsheets.UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            return redirect("curriculum:setup-import-detail", pk=upload.pk)
    return render(
        request,
        "curriculum/setup_import.html",
        {
            "form": form,
            "program": program,
            "kind": kind,
            "title": _title(kind),
            "columns": _columns(kind),
            "example_url": EXAMPLE_URL[kind],
            "recent": program.roster_imports.filter(kind=kind)
            .select_related("uploaded_by")
            .defer("content", "rows", "plan")[:5],
        },
    )


@require_http_methods(["GET", "POST"])
def cohort_import(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _upload_page(request, code, COHORTS)


@require_http_methods(["GET", "POST"])
def course_import(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _upload_page(request, code, COURSES)


def _example(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    program_for(request, code, permissions.can_manage_roster)
    response = HttpResponse(_example_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-example.csv"'
    return response


@require_GET
def cohort_import_example(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """A small file in the format, to fill in or to compare with one's own."""
    return _example(request, code, COHORTS)


@require_GET
def course_import_example(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """A small file in the format, to fill in or to compare with one's own."""
    return _example(request, code, COURSES)


# --- Preview and apply --------------------------------------------------------------------


def _setup_import_for(request: HttpRequest, pk: int) -> RosterImport:
    """A cohorts or courses upload of a program the person is staff of (404 otherwise) and sets up
    (403 otherwise), uploaded by them (404 otherwise: only its uploader applies it)."""
    upload = get_object_or_404(
        RosterImport.objects.filter(
            program__in=permissions.visible_programs(request.user),  # type: ignore[arg-type]
            kind__in=KINDS,
        )
        .select_related("program", "uploaded_by")
        .defer("content", "rows", "plan"),
        pk=pk,
    )
    if not permissions.can_manage_roster(request.user, upload.program):  # type: ignore[arg-type]
        raise PermissionDenied
    if upload.uploaded_by_id != request.user.pk:
        raise Http404
    return upload


def _shown(value: Any) -> str:
    if value is None or value == "" or value == ():
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cells(row: setup_imports.SetupRow) -> list[dict[str, str]]:
    """What a row sets, column by column, with the value it replaces where it changes one."""
    return [
        {
            "column": column,
            "value": _shown(value),
            "old": _shown(row.changes[column][0]) if column in row.changes else "",
        }
        for column, value in row.values.items()
        if value is not None
    ]


@require_GET
def setup_import_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The dry run: what the file would change, row by row, before anything is written."""
    upload = _setup_import_for(request, pk)
    previewed = upload.preview_is_current()
    stored: list[dict[str, Any]] = upload.plan if previewed and upload.plan else []
    file_error = "" if previewed or upload.applied_at else spreadsheets.preview_expired_message()
    errors = (error for row in stored for error in row["errors"])
    error_count = sum(len(row["errors"]) for row in stored)
    page = Paginator(stored, PAGE_SIZE).get_page(request.GET.get("page"))
    # Only the rows shown become objects: a file has up to 20,000 of them.
    shown = [setup_imports.SetupRow.from_json(row) for row in page]
    return render(
        request,
        "curriculum/setup_import_detail.html",
        {
            **import_views.state_context(upload),
            "program": upload.program,
            "title": _title(upload.kind),
            "upload_url": UPLOAD_URL[upload.kind],
            "previewed": previewed,
            "summary": upload.summary,
            "page": page,
            "rows": [(row, _cells(row)) for row in shown],
            "file_error": file_error,
            "errors": [spreadsheets.RowError.from_json(error) for error in islice(errors, ERRORS_SHOWN)],
            "errors_not_shown": max(error_count - ERRORS_SHOWN, 0),
        },
    )


@require_POST
def setup_import_apply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Queue the apply; the upload's page shows how it goes."""
    upload = _setup_import_for(request, pk)
    import_views.queue_apply(request, upload, {})
    return redirect("curriculum:setup-import-detail", pk=upload.pk)


@require_GET
def setup_import_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The fragment the upload's page polls while it is applied (see views/imports.py)."""
    return import_views.progress(request, _setup_import_for(request, pk))


def _apply(upload: RosterImport, options: dict[str, Any], progress: imports.Progress) -> object:
    return services.apply_setup_import(upload=upload, progress=progress)


def _refusal(upload: RosterImport, refusal: Exception) -> list[str]:
    if isinstance(refusal, IntegrityError):
        # Someone added the same code between the plan and the write.
        return [_("Nothing was imported: the records changed meanwhile. Upload the file again.")]
    reasons = refusal.messages if isinstance(refusal, ValidationError) else [str(refusal)]
    if upload.summary.get("errors"):
        rows = upload.summary["errors"]
        headline = ngettext(
            "Nothing was imported: %(count)s row has errors. Correct the file and upload it again.",
            "Nothing was imported: %(count)s rows have errors. Correct the file and upload it again.",
            rows,
        ) % {"count": rows}
        return [headline, *reasons[:MESSAGES_SHOWN]]
    return [_("Nothing was imported: %(reason)s") % {"reason": reasons[0]}]


def _applied_message(summary: dict[str, Any]) -> str:
    return _("Imported: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.") % {
        "new": summary["new"],
        "changed": summary["updated"],
        "unchanged": summary["unchanged"],
    }


IMPORT_KINDS = [
    imports.ImportKind(
        name=kind,
        model=RosterImport,
        apply=_apply,
        refusal=_refusal,
        applied_message=_applied_message,
        find=_setup_import_for,
        detail_url="curriculum:setup-import-detail",
        progress_url="curriculum:setup-import-progress",
    )
    for kind in KINDS
]
