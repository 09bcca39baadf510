"""The student's record as it leaves the system: the master competency checklist PDF."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from curriculum import pdf, permissions, services


@require_GET
def master_checklist_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One student's master competency checklist, in the requester's language, for a site visit.

    The program's directors and coordinators download it (and it is logged for the student); the
    student may download their own (not logged). An instructor of the cohort gets 403: the record
    is the program office's to hand out. Anyone who may not see the enrollment gets 404."""
    enrollment = get_object_or_404(
        permissions.visible_enrollments(request.user).select_related("student", "cohort__program__framework"), pk=pk
    )
    if not permissions.can_download_master_checklist(request.user, enrollment):
        raise PermissionDenied
    content = pdf.render_master_checklist(pdf.master_checklist(enrollment))
    services.record_download(
        downloader=request.user,
        student_id=enrollment.student_id,
        what=f"master competency checklist, enrollment {enrollment.pk}",
        request_meta=request.META,
    )
    name = slugify(enrollment.student.sortable_name) or f"enrollment-{enrollment.pk}"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"master-checklist-{name}.pdf"
    )
    return response
