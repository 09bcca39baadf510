"""The externship sections of each person's home page (registered with curriculum.home)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from accounts.http import AuthenticatedRequest
from curriculum.home import Section
from curriculum.models import Program
from externships import permissions, readiness
from externships.models import ComplianceRecord, Evaluation, HoursEntry, Kind, Placement
from externships.services import hours as hours_services


def preceptor_section(request: AuthenticatedRequest) -> Section | None:
    """A preceptor's students: hours waiting for them and evaluations due, in one query."""
    placements = list(
        hours_services.with_hours(
            Placement.objects.filter(
                preceptor__user=request.user,
                preceptor__is_active=True,
                state__in=(Placement.State.PLANNED, Placement.State.ACTIVE),
            )
        )
        .select_related("enrollment__student", "enrollment__cohort__program", "site")
        .annotate(
            waiting=Count("hours", filter=Q(hours__state=HoursEntry.State.SUBMITTED)),
            has_midpoint=Exists(Evaluation.objects.filter(placement=OuterRef("pk"), kind=Kind.MIDPOINT)),
            has_final=Exists(Evaluation.objects.filter(placement=OuterRef("pk"), kind=Kind.FINAL)),
        )
        .order_by("state", "end_on")
    )
    if not placements and not permissions.is_preceptor(request.user):
        return None
    rows = [(placement, hours_services.progress_of(placement)) for placement in placements]
    return Section("externships/home_preceptor.html", {"rows": rows})


def student_section(request: AuthenticatedRequest) -> Section | None:
    """The student's current placement and hours, or how far their documents are."""
    placement = (
        hours_services.with_hours(Placement.objects.filter(enrollment__student=request.user))
        .filter(state__in=(Placement.State.ACTIVE, Placement.State.PLANNED))
        .select_related("site", "preceptor__user", "enrollment__cohort__program")
        .order_by("state", "start_on")  # "active" sorts before "planned"
        .first()
    )
    enrollment = request.user.enrollments.current().select_related("cohort__program").order_by("-admitted_on").first()
    if placement is None and enrollment is None:
        return None
    program: Program = placement.enrollment.cohort.program if placement else enrollment.cohort.program  # type: ignore[union-attr]
    through = placement.end_on if placement else program.today()
    requirements = readiness.required_requirements(program, placement.site if placement else None)
    statuses = readiness.compliance_statuses(request.user.pk, requirements, through)
    return Section(
        "externships/home_student.html",
        {
            "placement": placement,
            "progress": hours_services.progress_of(placement) if placement else None,
            "documents_met": sum(status.met for status in statuses),
            "documents_total": len(statuses),
        },
    )


def staff_section(request: AuthenticatedRequest) -> Section | None:
    """For directors and coordinators: what waits for them in externships, per program, in one query."""
    programs = list(
        Program.objects.filter(pk__in=permissions.administered_program_ids(request.user))
        .annotate(
            documents_waiting=Count(
                "compliance_requirements__records",
                filter=Q(compliance_requirements__records__state=ComplianceRecord.State.PENDING),
                distinct=True,
            ),
        )
        .order_by("name")
    )
    if not programs:
        return None
    active = dict(
        Placement.objects.filter(
            enrollment__cohort__program__in=[program.pk for program in programs], state=Placement.State.ACTIVE
        )
        .values_list("enrollment__cohort__program")
        .annotate(count=Count("pk"))
        .values_list("enrollment__cohort__program", "count")
    )
    return Section(
        "externships/home_staff.html",
        {"programs": [(program, active.get(program.pk, 0)) for program in programs]},
    )
