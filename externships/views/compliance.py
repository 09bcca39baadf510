"""Compliance pages: the student's documents and uploads, one student's status as staff see it, the
review queue, the program's requirements, and the documents themselves, served only to those allowed.

Documents hold health information: only the student and the program's directors and coordinators
ever see one. Everyone else, instructors and preceptors included, is told it does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum import progress
from curriculum.models import Enrollment
from curriculum.views.coursework import _form_page, form_errors_to
from externships import permissions, readiness
from externships.forms.compliance import ComplianceUploadForm, RejectionForm, RequirementForm
from externships.models import ComplianceRecord, ComplianceRequirement, Placement
from externships.services import compliance as services
from externships.views import managed_program

PAGE_SIZE = 25
REVIEW_STATES = tuple(ComplianceRecord.State.values)


@dataclass
class RequirementRow:
    """One requirement on a student's page: whether it is met through the day that counts, and every
    document sent for it, newest first."""

    requirement: ComplianceRequirement
    status: readiness.RequirementStatus
    records: list[ComplianceRecord]

    @property
    def state(self) -> str:
        """met, expiring (approved but not valid long enough), pending, rejected or missing: as readiness words it."""
        if self.status.met:
            return "met"
        states = {record.state for record in self.records}
        if ComplianceRecord.State.APPROVED in states:
            return "expiring"
        if ComplianceRecord.State.PENDING in states:
            return "pending"
        if ComplianceRecord.State.REJECTED in states:
            return "rejected"
        return "missing"

    @property
    def waiting(self) -> bool:
        return any(record.state == ComplianceRecord.State.PENDING for record in self.records)

    @property
    def valid_until(self) -> date | None:
        """The latest expiry among approved documents; None when one of them never expires."""
        approved = [record for record in self.records if record.state == ComplianceRecord.State.APPROVED]
        if any(record.expires_on is None for record in approved):
            return None
        return max((record.expires_on for record in approved if record.expires_on), default=None)


@dataclass
class StudentCompliance:
    enrollment: Enrollment
    placement: Placement | None
    through: date
    requirements: QuerySet[ComplianceRequirement]
    rows: list[RequirementRow]

    @property
    def required_rows(self) -> list[RequirementRow]:
        return [row for row in self.rows if row.requirement.is_required]

    @property
    def required_met(self) -> int:
        return sum(1 for row in self.required_rows if row.status.met)


def _student_compliance(enrollment: Enrollment) -> StudentCompliance:
    """Each requirement of the student's program, and of the site of their open placement, judged through
    that placement's end (or today without one), with the student's documents: a fixed number of queries."""
    program = enrollment.cohort.program
    placement = (
        Placement.objects.filter(enrollment=enrollment, state__in=(Placement.State.PLANNED, Placement.State.ACTIVE))
        .select_related("site")
        .order_by("start_on")
        .first()
    )
    today = program.today()
    through = max(placement.end_on, today) if placement else today
    applies = Q(site__isnull=True) | Q(site=placement.site_id) if placement else Q(site__isnull=True)
    requirements = (
        ComplianceRequirement.objects.filter(applies, program=program)
        .select_related("site")
        .order_by(F("site_id").asc(nulls_first=True), "order", "name")
    )
    listed = list(requirements)
    statuses = readiness.compliance_statuses(enrollment.student_id, listed, through)
    records_of: dict[int, list[ComplianceRecord]] = {requirement.pk: [] for requirement in listed}
    for record in (
        ComplianceRecord.objects.filter(student=enrollment.student_id, requirement__in=listed)
        .select_related("reviewed_by")
        .order_by("-uploaded_at", "-pk")
    ):
        records_of[record.requirement_id].append(record)
    rows = [
        RequirementRow(requirement=status.requirement, status=status, records=records_of[status.requirement.pk])
        for status in statuses
    ]
    return StudentCompliance(enrollment, placement, through, requirements, rows)


def _back(request: AuthenticatedRequest, default: str) -> HttpResponse:
    """Back to the page the action came from (the queue, or a student's page), if it is ours."""
    target = request.POST.get("next", "")
    # Only a path of this site, and never through redirect(): it reads a word without a slash or a
    # dot as the name of a URL pattern to reverse, and a tampered `next` answered 500.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect(default)


# --- The student's page and one student's status ---------------------------------------------


@require_http_methods(["GET", "POST"])
def my_compliance(request: AuthenticatedRequest) -> HttpResponse:
    """The student's requirements, what each lacks, their uploads, and the form to send a document."""
    enrollments = list(
        Enrollment.objects.for_student(request.user)
        .select_related("student", "cohort__program")
        .order_by("-admitted_on")
    )
    enrollment = progress.main_enrollment(enrollments)
    if enrollment is None:
        raise Http404
    if not permissions.can_upload_compliance_documents(request.user, enrollment):
        if request.method == "POST":
            raise PermissionDenied
        return _student_page(request, enrollment, form=None)
    compliance = _student_compliance(enrollment)
    form = ComplianceUploadForm(
        request.POST or None,
        request.FILES or None,
        requirements=compliance.requirements,
        initial={"requirement": request.GET.get("requirement")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = services.upload_record(
                student=request.user,
                requirement=form.cleaned_data["requirement"],
                file=form.cleaned_data["document"],
                completed_on=form.cleaned_data["completed_on"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(
                request,
                _("%(name)s: your document is uploaded and waits for review.") % {"name": record.requirement.name},
            )
            return redirect("externships:my-compliance")
    return _student_page(request, enrollment, form=form, compliance=compliance)


@require_GET
def student_compliance(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One student's compliance as the program's directors and coordinators see it, with review actions."""
    enrollment = get_object_or_404(
        permissions.visible_compliance_enrollments(request.user).select_related("student", "cohort__program"), pk=pk
    )
    return _student_page(request, enrollment, form=None)


def _student_page(
    request: AuthenticatedRequest,
    enrollment: Enrollment,
    *,
    form: ComplianceUploadForm | None,
    compliance: StudentCompliance | None = None,
) -> HttpResponse:
    program = enrollment.cohort.program
    is_own = enrollment.student_id == request.user.pk
    return render(
        request,
        "externships/compliance_student.html",
        {
            "compliance": compliance or _student_compliance(enrollment),
            "enrollment": enrollment,
            "student": enrollment.student,
            "program": program,
            "is_own": is_own,
            "form": form,
            "can_review": not is_own and permissions.can_manage_externships(request.user, program),
        },
    )


# --- Documents --------------------------------------------------------------------------------


@require_GET
def compliance_document(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The document itself, to the student and their program's directors and coordinators only.

    Served as the type found in its content when it was uploaded, never sniffed by the browser, in a
    sandbox, and not kept in any cache; staff opening it are logged for the student to read."""
    record = get_object_or_404(
        permissions.visible_compliance_records(request.user).select_related("requirement"), pk=pk
    )
    try:
        handle = record.document.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    services.record_document_view(viewer=request.user, record=record, request_meta=request.META)
    response = FileResponse(handle, content_type=record.document_type, filename=record.document_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Review -----------------------------------------------------------------------------------


@require_GET
def compliance_review(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The review queue: documents waiting, oldest first; reviewed ones, latest first, to look back."""
    program = managed_program(request, code)
    status = request.GET.get("status", ComplianceRecord.State.PENDING)
    if status not in REVIEW_STATES:
        status = ComplianceRecord.State.PENDING
    ordering = ("uploaded_at", "pk") if status == ComplianceRecord.State.PENDING else ("-reviewed_at", "-pk")
    enrollment = Enrollment.objects.filter(student=OuterRef("student"), cohort__program=program).order_by(
        "-admitted_on", "-pk"
    )
    records = (
        permissions.visible_compliance_records(request.user)
        .filter(requirement__program=program, state=status)
        .select_related("student", "requirement__site", "reviewed_by")
        .annotate(enrollment_pk=Subquery(enrollment.values("pk")[:1]))
        .order_by(*ordering)
    )
    return render(
        request,
        "externships/compliance_review.html",
        {
            "program": program,
            "page": Paginator(records, PAGE_SIZE).get_page(request.GET.get("page")),
            "status": status,
            "states": ComplianceRecord.State,
        },
    )


def _record_to_review(request: AuthenticatedRequest, pk: int) -> ComplianceRecord:
    record = get_object_or_404(
        permissions.visible_compliance_records(request.user).select_related("requirement__program", "student"), pk=pk
    )
    if not permissions.can_review_compliance(request.user, record):
        raise PermissionDenied
    return record


@require_POST
def compliance_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    record = _record_to_review(request, pk)
    try:
        services.approve_record(record=record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(requirement)s for %(student)s approved.")
            % {"requirement": record.requirement.name, "student": record.student},
        )
    return _back(request, _review_url(record))


@require_POST
def compliance_reject(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Reject with a reason; without one, the reason is asked for again and nothing changes."""
    record = _record_to_review(request, pk)
    form = RejectionForm(request.POST)
    if form.is_valid():
        try:
            services.reject_record(record=record, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                messages.error(request, " ".join(error.messages))
                return _back(request, _review_url(record))
            form_errors_to(form, error)
        else:
            messages.success(
                request,
                _("%(requirement)s for %(student)s rejected; the student sees your reason.")
                % {"requirement": record.requirement.name, "student": record.student},
            )
            return _back(request, _review_url(record))
    return render(
        request,
        "externships/compliance_reject.html",
        {"record": record, "program": record.requirement.program, "form": form, "next": request.POST.get("next", "")},
    )


def _review_url(record: ComplianceRecord) -> str:
    return reverse("externships:compliance-review", args=[record.requirement.program.code])


# --- Requirements -----------------------------------------------------------------------------


@require_GET
def requirement_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = managed_program(request, code)
    requirements = (
        ComplianceRequirement.objects.filter(program=program)
        .select_related("site")
        .annotate(record_count=Count("records"))
        .order_by(F("site__name").asc(nulls_first=True), "order", "name")
    )
    return render(
        request,
        "externships/compliance_requirement_list.html",
        {"program": program, "page": Paginator(requirements, 50).get_page(request.GET.get("page"))},
    )


@require_http_methods(["GET", "POST"])
def requirement_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = managed_program(request, code)
    last = ComplianceRequirement.objects.filter(program=program).order_by("-order").values_list("order", flat=True)
    form = RequirementForm(request.POST or None, program=program, initial={"order": (last.first() or 0) + 1})
    return _form_page(
        request,
        form,
        "externships/compliance_requirement_form.html",
        {"program": program},
        saved=_("Requirement added."),
        then=lambda _saved: redirect("externships:requirement-list", code=program.code),
    )


@require_http_methods(["GET", "POST"])
def requirement_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    requirement = get_object_or_404(permissions.visible_requirements(request.user).select_related("program"), pk=pk)
    program = requirement.program
    if not permissions.can_manage_externships(request.user, program):
        raise PermissionDenied
    form = RequirementForm(request.POST or None, instance=requirement, program=program)
    return _form_page(
        request,
        form,
        "externships/compliance_requirement_form.html",
        {"program": program, "requirement": requirement},
        saved=_("Requirement saved."),
        then=lambda _saved: redirect("externships:requirement-list", code=program.code),
    )
