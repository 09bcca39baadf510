"""Exam results and graduate outcomes imports: upload a file, see what it would change, apply it,
through the shared import pages (curriculum/views/imports.py).

As the roster import: the upload is read and planned once and kept with its plan (ResultImport), the
preview shows the stored plan, and applying plans the stored rows again against the records as they
are now, writing only if that changes nothing the preview showed, only without errors, and only once.
Directors and coordinators import; an instructor of the program is refused (403), anyone else does not
find the program or the upload (404), and an upload is its uploader's own: nobody else sees or applies it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from certifications import imports, permissions
from certifications.models import ExamAttempt, PlacementStatus, ResultImport
from curriculum import imports as flow
from curriculum.forms import SetupUploadForm
from curriculum.models import Program
from curriculum.permissions import visible_programs

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EXAM = ResultImport.Kind.EXAM_RESULTS
OUTCOMES = ResultImport.Kind.GRADUATE_OUTCOMES
UPLOAD_URL: dict[str, str] = {EXAM: "certifications:exam-import", OUTCOMES: "certifications:outcomes-import"}
EXAMPLE_URL: dict[str, str] = {
    EXAM: "certifications:exam-import-example",
    OUTCOMES: "certifications:outcomes-import-example",
}
MESSAGES_SHOWN = 20


TITLE: dict[str, StrOrPromise] = {
    EXAM: gettext_lazy("Import exam results"),
    OUTCOMES: gettext_lazy("Import graduate outcomes"),
}
ABOUT: dict[str, StrOrPromise] = {
    EXAM: gettext_lazy(
        "One row is one sitting of one student. The same student, credential and day is the same sitting: "
        "a different result or score for it corrects the one on record. A pass issues the credential; a "
        "correction to fail withdraws it."
    ),
    OUTCOMES: gettext_lazy(
        "One row is one graduate. A row replaces the graduate's outcome on record; a column left out of "
        "the file keeps what is on record. Only students with a graduation date have an outcome."
    ),
}
FINDS_THE_STUDENT = gettext_lazy(
    "The email finds the student in this program: their current enrollment, or else their most recent one."
)


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
        "james.chen@example.com,military_service,,,,\r\n"
        "ana.silva@example.com,continuing_education,,,,\r\n"
        "kwame.mensah@example.com,unavailable,,,,Caring for a family member full time\r\n"
    )


def _format_context(kind: str, program: Program) -> dict[str, Any]:
    return {"about": [ABOUT[kind], FINDS_THE_STUDENT], "columns": _columns(kind, _track_codes(program))}


def _preview(*, kind: str, **upload: Any) -> ResultImport:
    result_import, _plan = imports.preview_result_import(kind=kind, **upload)
    return result_import


def _detail_context(upload: ResultImport, previewed: bool) -> dict[str, Any]:
    # Warned rows may sit on any page: the count is said above the table.
    stored = upload.plan if previewed and upload.plan else []
    return {"warned_rows": sum(1 for row in stored if row.get("warnings"))}


def _example(kind: str, program: Program) -> str:
    return _example_csv(kind, _track_codes(program))


def _track_codes(program: Program) -> list[str]:
    return list(program.certification_tracks.order_by("order", "code").values_list("code", flat=True))


# --- Preview and apply --------------------------------------------------------------------


def find_upload(request: HttpRequest, pk: int) -> ResultImport:
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
        find=find_upload,
        detail_url="certifications:result-import-detail",
        progress_url="certifications:result-import-progress",
        title=TITLE[kind],
        may_import=permissions.can_manage_certifications,
        upload_form=SetupUploadForm,
        preview=partial(_preview, kind=kind),
        upload_url=UPLOAD_URL[kind],
        example_url=EXAMPLE_URL[kind],
        apply_url="certifications:result-import-apply",
        example_file_name="exam-results-example.csv" if kind == EXAM else "graduate-outcomes-example.csv",
        example=partial(_example, kind),
        upload_template="includes/import_upload.html",
        detail_template="certifications/import_detail.html",
        format_context=partial(_format_context, kind),
        row_from_json=imports.PlannedRow.from_json,
        cells=partial(_cells, kind),
        detail_context=_detail_context,
    )
    for kind in (EXAM, OUTCOMES)
]
