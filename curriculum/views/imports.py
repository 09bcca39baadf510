"""The pages of every import, whatever its kind: the upload page and its example file, the preview of
an upload, its Import button and the progress fragment the preview polls while it is written.

What differs between the roster, cohorts, courses, exam results and graduate outcomes is in the table
of kinds (curriculum/imports.py), which each app fills from its own module: views/roster_imports.py,
views/setup_imports.py and certifications/views/imports.py. The URLs say which kind a page is for
(`kind`) or which app's finder reaches its upload (`find`): the upload as the person may see it, 404 or
403 otherwise, through that app's permissions.py. These views only ever reach an upload through it.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum import imports, spreadsheets
from curriculum.models import UploadedImport
from curriculum.views import program_for

PAGE_SIZE = 50
ERRORS_SHOWN = 100  # above the rows, which list every error page by page

Finder = Callable[[HttpRequest, int], Any]


# --- Upload -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def upload(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    """Choose a file: it is read and planned once, and the person sees what it would change."""
    import_kind = imports.KINDS[kind]
    program = program_for(request, code, import_kind.may_import)
    form = import_kind.upload_form(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            uploaded = import_kind.preview(
                program=program, uploaded_by=request.user, file_name=upload_file.name, content=upload_file.read()
            )
        except spreadsheets.UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            return redirect(import_kind.detail_url, pk=uploaded.pk)
    return render(
        request,
        import_kind.upload_template,
        {
            "form": form,
            "program": program,
            "kind": kind,
            "title": import_kind.title,
            "example_url": import_kind.example_url,
            "detail_url": import_kind.detail_url,
            "recent": import_kind.model._default_manager.filter(program=program, kind=kind)  # type: ignore[misc]
            .select_related("uploaded_by")
            .defer("content", "rows", "plan")[:5],
            **import_kind.format_context(program),
        },
    )


@require_GET
def example(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    """A small file in the format, to fill in or to compare with one's own."""
    import_kind = imports.KINDS[kind]
    program = program_for(request, code, import_kind.may_import)
    response = HttpResponse(import_kind.example(program), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{import_kind.example_file_name}"'
    return response


# --- Preview, apply, progress -------------------------------------------------------------


@require_GET
def detail(request: AuthenticatedRequest, pk: int, find: Finder) -> HttpResponse:
    """The dry run: what the file would change, row by row, before anything is written; once the
    person pressed Import, how far it got (see curriculum/imports.py)."""
    uploaded = find(request, pk)
    kind = imports.kind_of(uploaded)
    previewed = uploaded.preview_is_current()
    stored: list[dict[str, Any]] = uploaded.plan if previewed and uploaded.plan else []
    file_error = "" if previewed or uploaded.applied_at else spreadsheets.preview_expired_message()
    errors = (error for row in stored for error in row["errors"])
    error_count = sum(len(row["errors"]) for row in stored)
    page = Paginator([row for row in stored if kind.listed(row)], PAGE_SIZE).get_page(request.GET.get("page"))
    # Only the rows shown become objects: a file has up to 20,000 of them.
    shown = [kind.row_from_json(row) for row in page]
    return render(
        request,
        kind.detail_template,
        {
            **state_context(uploaded),
            "program": uploaded.program,
            "title": kind.title,
            "upload_url": kind.upload_url,
            "apply_url": kind.apply_url,
            "previewed": previewed,
            "summary": uploaded.summary,
            "page": page,
            "rows": [(row, kind.cells(row)) for row in shown],
            "file_error": file_error,
            "errors": [spreadsheets.RowError.from_json(error) for error in islice(errors, ERRORS_SHOWN)],
            "errors_not_shown": max(error_count - ERRORS_SHOWN, 0),
            **kind.detail_context(uploaded, previewed),
        },
    )


@require_POST
def apply(request: AuthenticatedRequest, pk: int, find: Finder) -> HttpResponse:
    """Queue the apply with the choices on the page; the upload's page shows how it goes."""
    uploaded = find(request, pk)
    kind = imports.kind_of(uploaded)
    if not kind.may_import(request.user, uploaded.program):
        raise PermissionDenied
    queue_apply(request, uploaded, kind.apply_options(request))
    return redirect(kind.detail_url, pk=uploaded.pk)


@require_GET
def progress(request: AuthenticatedRequest, pk: int, find: Finder) -> HttpResponse:
    """How far the apply got, polled by the upload's page every second. Once the upload no longer
    runs, the page is reloaded (HX-Refresh) to show the result with everything else it shows."""
    context = state_context(find(request, pk))
    response = render(request, "includes/import_progress.html", context)
    if not context["running"]:
        response["HX-Refresh"] = "true"
    return response


def queue_apply(request: AuthenticatedRequest, upload: UploadedImport, options: dict[str, Any]) -> None:
    """Queue the upload's apply; when it cannot be, say why and change nothing."""
    try:
        imports.queue_apply(upload=upload, options=options)
    except ValidationError as refusal:
        messages.error(request, _("Nothing was imported: %(reason)s") % {"reason": refusal.messages[0]})


def state_context(upload: UploadedImport) -> dict[str, Any]:
    return {"upload": upload, **imports.state_context(upload)}
