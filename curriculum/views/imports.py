"""What every import's pages share once a file is previewed: pressing Import queues it (see
curriculum/imports.py), and the progress fragment the upload's page polls while it is written.

Each kind's own module finds the upload the person may see (404 or 403 otherwise, through its app's
permissions.py) and registers it with the flow; these views only ever reach an upload through it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedRequest
from curriculum import imports
from curriculum.models import UploadedImport


def queue_apply(request: AuthenticatedRequest, upload: UploadedImport, options: dict[str, Any]) -> None:
    """Queue the upload's apply; when it cannot be, say why and change nothing."""
    try:
        imports.queue_apply(upload=upload, options=options)
    except ValidationError as refusal:
        messages.error(request, _("Nothing was imported: %(reason)s") % {"reason": refusal.messages[0]})


def state_context(upload: UploadedImport) -> dict[str, Any]:
    return {"upload": upload, **imports.state_context(upload)}


def progress(request: AuthenticatedRequest, upload: UploadedImport) -> HttpResponse:
    """How far the apply got, polled by the upload's page every second (each kind's progress view
    finds the upload through its app's permissions, then calls this). Once the upload no longer
    runs, the page is reloaded (HX-Refresh) to show the result with everything else it shows."""
    context = state_context(upload)
    response = render(request, "includes/import_progress.html", context)
    if not context["running"]:
        response["HX-Refresh"] = "true"
    return response
