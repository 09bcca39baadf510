"""The practicum gate, in one place, and the coordinator's readiness list built on it.

A placement may become active only when, through the placement's **end date** (not just today):
- the student has achieved every psychomotor and affective competency of the program's framework
  (the achieved rule of `curriculum.progress`);
- every required compliance requirement of the program, and of the site, has an approved record
  valid on that date;
- the site's affiliation agreement is valid on that date.

Each unmet item becomes one sentence in plain words. The readiness list asks the same questions for
a whole cohort in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from curriculum import progress
from curriculum.models import Cohort, Competency, Enrollment, Program
from externships.models import ComplianceRecord, ComplianceRequirement, Placement, Site


def _day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def practicum_start() -> Subquery:
    """For an Enrollment queryset: the day the student's open (planned or active) placement starts, for the
    competency grid's "needs attention" order (curriculum asks through progress.register_practicum_start)."""
    return Subquery(
        Placement.objects.filter(enrollment=OuterRef("pk"), state__in=(Placement.State.PLANNED, Placement.State.ACTIVE))
        .order_by("start_on")
        .values("start_on")[:1]
    )


def required_requirements(program: Program, site: Site | None = None) -> list[ComplianceRequirement]:
    """The program's required documents, and the site's own when a site is given."""
    where = Q(site__isnull=True) | Q(site=site) if site is not None else Q(site__isnull=True)
    return list(
        ComplianceRequirement.objects.filter(where, program=program, is_required=True).order_by("order", "name")
    )


@dataclass
class RequirementStatus:
    requirement: ComplianceRequirement
    met: bool
    problem: str = ""


@dataclass
class _Records:
    """What one student has for one requirement, read from all their records at once."""

    latest_expiry: date | None = None  # among approved records; None with `forever` means no expiry
    forever: bool = False
    approved: bool = False
    pending: bool = False
    rejected_reason: str = ""


def _records_by_student(student_ids: Iterable[int], requirement_ids: list[int]) -> dict[tuple[int, int], _Records]:
    """One query: every record of these students for these requirements, folded per pair."""
    folded: dict[tuple[int, int], _Records] = defaultdict(_Records)
    rows = (
        ComplianceRecord.objects.filter(student__in=list(student_ids), requirement__in=requirement_ids)
        .order_by("uploaded_at")
        .values_list("student_id", "requirement_id", "state", "expires_on", "rejection_reason")
    )
    for student_id, requirement_id, state, expires_on, reason in rows:
        entry = folded[(student_id, requirement_id)]
        if state == ComplianceRecord.State.APPROVED:
            entry.approved = True
            if expires_on is None:
                entry.forever = True
            elif entry.latest_expiry is None or expires_on > entry.latest_expiry:
                entry.latest_expiry = expires_on
        elif state == ComplianceRecord.State.PENDING:
            entry.pending = True
        else:
            entry.rejected_reason = reason
    return folded


def _status(requirement: ComplianceRequirement, records: _Records | None, through: date) -> RequirementStatus:
    if (
        records
        and records.approved
        and (records.forever or (records.latest_expiry and records.latest_expiry >= through))
    ):
        return RequirementStatus(requirement, met=True)
    name = requirement.name
    if records and records.approved and records.latest_expiry:
        problem = _("%(name)s expires on %(expiry)s, before %(day)s.") % {
            "name": name,
            "expiry": _day(records.latest_expiry),
            "day": _day(through),
        }
        if records.pending:
            problem += " " + _("A newer document is waiting for review.")
    elif records and records.pending:
        problem = _("%(name)s: the document is waiting for review.") % {"name": name}
    elif records and records.rejected_reason:
        problem = _("%(name)s: the document was rejected (%(reason)s); upload a new one.") % {
            "name": name,
            "reason": records.rejected_reason,
        }
    else:
        problem = _("%(name)s: no document uploaded.") % {"name": name}
    return RequirementStatus(requirement, met=False, problem=problem)


def compliance_statuses(
    student_id: int, requirements: list[ComplianceRequirement], through: date
) -> list[RequirementStatus]:
    """Each requirement for one student, met or not on the given day."""
    folded = _records_by_student([student_id], [requirement.pk for requirement in requirements])
    return [_status(requirement, folded.get((student_id, requirement.pk)), through) for requirement in requirements]


def missing_competencies(enrollment: Enrollment) -> list[Competency]:
    """The program's P and A competencies this student has not achieved, in one query."""
    program = enrollment.cohort.program
    achieved = progress.standing_passes().filter(enrollment=enrollment).values("competency")
    return list(progress.tracked_competencies(program).exclude(pk__in=achieved).order_by("order", "code"))


def agreement_problem(site: Site, through: date) -> str:
    if site.agreement_expires_on is None:
        return _("%(site)s has no affiliation agreement on file.") % {"site": site.name}
    if site.agreement_expires_on < through:
        return _("The affiliation agreement with %(site)s expires on %(expiry)s, before %(day)s.") % {
            "site": site.name,
            "expiry": _day(site.agreement_expires_on),
            "day": _day(through),
        }
    return ""


def gate_problems(enrollment: Enrollment, site: Site, end_on: date) -> list[str]:
    """Every reason the placement may not start, in plain words; empty when it may."""
    program = enrollment.cohort.program
    problems: list[str] = []
    if program.framework_id is None:
        problems.append(_("The program has no competency framework chosen, so competencies cannot be checked."))
    else:
        problems += [
            _("Competency not achieved yet: %(code)s %(title)s.") % {"code": competency.code, "title": competency.title}
            for competency in missing_competencies(enrollment)
        ]
    problems += [
        status.problem
        for status in compliance_statuses(enrollment.student_id, required_requirements(program, site), end_on)
        if not status.met
    ]
    if problem := agreement_problem(site, end_on):
        problems.append(problem)
    return problems


def placement_problems(placement: Placement) -> list[str]:
    return gate_problems(placement.enrollment, placement.site, placement.end_on)


# --- The coordinator's list ----------------------------------------------------------------


@dataclass
class StudentReadiness:
    enrollment: Enrollment
    achieved: int
    total: int
    through: date
    placement: Placement | None
    compliance: list[RequirementStatus] = field(default_factory=list)
    agreement: str = ""

    @property
    def competencies_missing(self) -> int:
        return self.total - self.achieved

    @property
    def compliance_missing(self) -> list[RequirementStatus]:
        return [status for status in self.compliance if not status.met]

    @property
    def ready(self) -> bool:
        return self.total > 0 and not self.competencies_missing and not self.compliance_missing and not self.agreement


def cohort_readiness(cohort: Cohort, enrollments: QuerySet[Enrollment] | None = None) -> list[StudentReadiness]:
    """Who in the cohort may start a placement, and what each one lacks, in a fixed number of queries."""
    if enrollments is None:
        enrollments = Enrollment.objects.current().filter(cohort=cohort)
    return students_readiness(cohort.program, enrollments)


def students_readiness(program: Program, enrollments: QuerySet[Enrollment]) -> list[StudentReadiness]:
    """Who among these students of the program may start a placement, and what each one lacks, in a fixed
    number of queries.

    Compliance is judged through the end of the student's open (planned or active) placement, and
    the site's extra requirements and agreement count too; with no placement, through today."""
    today = program.today()
    competency_ids = list(progress.tracked_competencies(program).values_list("pk", flat=True))
    rows = list(
        progress.with_progress(enrollments.select_related("student"), competency_ids).order_by(
            "student__last_name", "student__first_name", "pk"
        )
    )
    open_placements: dict[int, Placement] = {}
    for open_placement in (
        Placement.objects.filter(
            enrollment__in=[row.pk for row in rows], state__in=(Placement.State.PLANNED, Placement.State.ACTIVE)
        )
        .select_related("site")
        .order_by("start_on")
    ):
        open_placements.setdefault(open_placement.enrollment_id, open_placement)
    requirements = list(
        ComplianceRequirement.objects.filter(program=program, is_required=True).order_by("order", "name")
    )
    folded = _records_by_student([row.student_id for row in rows], [requirement.pk for requirement in requirements])
    result = []
    for row in rows:
        placement = open_placements.get(row.pk)
        through = max(placement.end_on, today) if placement else today
        site_id = placement.site_id if placement else None
        applicable = [r for r in requirements if r.site_id is None or r.site_id == site_id]
        result.append(
            StudentReadiness(
                enrollment=row,
                achieved=row.achieved,  # type: ignore[attr-defined]
                total=len(competency_ids),
                through=through,
                placement=placement,
                compliance=[_status(r, folded.get((row.student_id, r.pk)), through) for r in applicable],
                agreement=agreement_problem(placement.site, through) if placement else "",
            )
        )
    return result
