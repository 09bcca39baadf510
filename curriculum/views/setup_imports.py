"""Setting a program up from files: upload a cohorts or courses file, see what it would change, apply it,
through the shared import pages (views/imports.py).

As the roster import: the upload is read and planned once and kept with its plan (a RosterImport of
its kind), the preview shows the stored plan, and applying plans the stored rows again against the
records as they are now, writing only if that changes nothing the preview showed, only without
errors, and only once. Directors and coordinators import; an instructor of the program is refused
(403), anyone else does not find the program or the upload (404), and an upload is its uploader's
own: nobody else sees or applies it.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from curriculum import imports, permissions, services, setup_imports
from curriculum.forms import SetupUploadForm
from curriculum.models import Program, RosterImport

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MESSAGES_SHOWN = 20
COHORTS = RosterImport.Kind.COHORTS
COURSES = RosterImport.Kind.COURSES
KINDS = (COHORTS, COURSES)
UPLOAD_URL: dict[str, str] = {COHORTS: "curriculum:cohort-import", COURSES: "curriculum:course-import"}
EXAMPLE_URL: dict[str, str] = {COHORTS: "curriculum:cohort-import-example", COURSES: "curriculum:course-import-example"}
TITLE: dict[str, StrOrPromise] = {COHORTS: gettext_lazy("Import cohorts"), COURSES: gettext_lazy("Import courses")}
ABOUT: dict[str, StrOrPromise] = {
    COHORTS: gettext_lazy(
        "One row is one cohort. The code finds a cohort of this program: a new code creates one, a known "
        "code updates its name and dates."
    ),
    COURSES: gettext_lazy(
        "One row is one course. The code finds a course of this program: a new code creates one, a known "
        "code updates its title and hours."
    ),
}


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


def _format_context(kind: str, program: Program) -> dict[str, Any]:
    return {"about": [ABOUT[kind]], "columns": _columns(kind)}


def _example_csv(kind: str, program: Program) -> str:
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


# --- Preview and apply --------------------------------------------------------------------


def find_upload(request: HttpRequest, pk: int) -> RosterImport:
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
        find=find_upload,
        detail_url="curriculum:setup-import-detail",
        progress_url="curriculum:setup-import-progress",
        title=TITLE[kind],
        may_import=permissions.can_manage_roster,
        upload_form=SetupUploadForm,
        preview=partial(services.preview_setup_import, kind=kind),
        upload_url=UPLOAD_URL[kind],
        example_url=EXAMPLE_URL[kind],
        apply_url="curriculum:setup-import-apply",
        example_file_name=f"{kind}-example.csv",
        example=partial(_example_csv, kind),
        upload_template="includes/import_upload.html",
        detail_template="curriculum/setup_import_detail.html",
        format_context=partial(_format_context, kind),
        row_from_json=setup_imports.SetupRow.from_json,
        cells=_cells,
    )
    for kind in KINDS
]
