"""Who may see and do what in externships. Every externship view asks here.

As in curriculum: a record someone may not see is not found (404), through the `visible_*`
querysets; an action someone may not take on a record they can see is forbidden (403), through
the `can_*` predicates.

Preceptors are outside the school. They see the students placed with them (name, placement,
hours, evaluations) and nothing else: no grades, no compliance documents, no other site.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from curriculum.models import Enrollment, Program
from curriculum.permissions import administered_programs, is_program_admin
from externships.models import (
    PRECEPTOR_KINDS,
    ComplianceRecord,
    ComplianceRequirement,
    Evaluation,
    HoursEntry,
    Kind,
    Placement,
    Preceptor,
    Site,
)

# Placements a preceptor sees: withdrawn ones are no longer theirs to follow.
PRECEPTOR_STATES = (Placement.State.PLANNED, Placement.State.ACTIVE, Placement.State.COMPLETED)


def administered_program_ids(user: User) -> QuerySet[Program, int]:
    return administered_programs(user).values_list("pk", flat=True)


def can_manage_externships(user: User, program: Program) -> bool:
    """Sites, preceptors, placements, requirements and compliance review: directors and coordinators."""
    return is_program_admin(user, program)


def is_preceptor(user: User) -> bool:
    return Preceptor.objects.filter(user=user, is_active=True).exists()


# --- Sites and preceptors -------------------------------------------------------------------


def visible_sites(user: User) -> QuerySet[Site]:
    return Site.objects.filter(program__in=administered_program_ids(user))


def visible_preceptors(user: User) -> QuerySet[Preceptor]:
    return Preceptor.objects.filter(site__program__in=administered_program_ids(user))


# --- Placements, hours, evaluations -----------------------------------------------------------


def visible_placements(user: User) -> QuerySet[Placement]:
    """The student's own; the program's for its directors and coordinators; a preceptor's students."""
    return Placement.objects.filter(
        Q(enrollment__student=user)
        | Q(enrollment__cohort__program__in=administered_program_ids(user))
        | Q(preceptor__user=user, preceptor__is_active=True, state__in=PRECEPTOR_STATES)
    )


def visible_hours(user: User) -> QuerySet[HoursEntry]:
    return HoursEntry.objects.filter(placement__in=visible_placements(user))


def visible_evaluations(user: User) -> QuerySet[Evaluation]:
    """A preceptor's evaluation of a student is seen by the student, the preceptor and the program.

    The student's evaluation of the site is the student's and the program's: never the preceptor's."""
    placements = visible_placements(user)
    return Evaluation.objects.filter(placement__in=placements).exclude(
        Q(kind=Kind.SITE)
        & ~Q(evaluator=user)
        & ~Q(placement__enrollment__cohort__program__in=administered_program_ids(user))
    )


def is_placement_student(user: User, placement: Placement) -> bool:
    return placement.enrollment.student_id == user.pk


def is_placement_preceptor(user: User, placement: Placement) -> bool:
    return placement.preceptor.user_id == user.pk and placement.preceptor.is_active


def can_manage_placement(user: User, placement: Placement) -> bool:
    return can_manage_externships(user, placement.enrollment.cohort.program)


def can_log_hours(user: User, placement: Placement) -> bool:
    """Only the student logs their own shifts, and only while the placement is active."""
    return is_placement_student(user, placement) and placement.state == Placement.State.ACTIVE


def can_edit_hours(user: User, entry: HoursEntry) -> bool:
    """The student corrects or withdraws an entry until it is approved."""
    return (
        entry.student_id == user.pk
        and entry.state != HoursEntry.State.APPROVED
        and entry.placement.state == Placement.State.ACTIVE
    )


def can_review_hours(user: User, placement: Placement) -> bool:
    """The placement's preceptor approves or returns hours; nobody else."""
    return is_placement_preceptor(user, placement) and placement.state in (
        Placement.State.ACTIVE,
        Placement.State.COMPLETED,
    )


def can_evaluate(user: User, placement: Placement, kind: str) -> bool:
    """Midpoint and final: the placement's preceptor. The site: the placement's student."""
    if placement.state not in (Placement.State.ACTIVE, Placement.State.COMPLETED):
        return False
    if kind in PRECEPTOR_KINDS:
        return is_placement_preceptor(user, placement)
    return kind == Kind.SITE and is_placement_student(user, placement)


# --- Compliance -------------------------------------------------------------------------------


def visible_requirements(user: User) -> QuerySet[ComplianceRequirement]:
    """A student sees their programs' requirements; admins their programs'."""
    student_programs = Enrollment.objects.filter(student=user).values_list("cohort__program_id", flat=True)
    return ComplianceRequirement.objects.filter(
        Q(program__in=student_programs) | Q(program__in=administered_program_ids(user))
    )


def visible_compliance_records(user: User) -> QuerySet[ComplianceRecord]:
    """The student's own documents, and those of a program's students for its directors and coordinators.

    Never a preceptor's, never an instructor's: the documents hold health information."""
    return ComplianceRecord.objects.filter(Q(student=user) | Q(requirement__program__in=administered_program_ids(user)))


def can_upload_compliance(user: User, requirement: ComplianceRequirement) -> bool:
    return Enrollment.objects.current().filter(student=user, cohort__program=requirement.program_id).exists()


def can_review_compliance(user: User, record: ComplianceRecord) -> bool:
    return record.student_id != user.pk and can_manage_externships(user, record.requirement.program)


# --- Compliance pages (views/compliance.py) ----------------------------------------------------


def visible_compliance_enrollments(user: User) -> QuerySet[Enrollment]:
    """Whose compliance status a person may open: their own, and their programs' students for its
    directors and coordinators. Never an instructor's or a preceptor's to see."""
    return Enrollment.objects.filter(Q(student=user) | Q(cohort__program__in=administered_program_ids(user)))


def can_upload_compliance_documents(user: User, enrollment: Enrollment) -> bool:
    """A current student uploads their own documents; once withdrawn or graduated, no longer."""
    return enrollment.student_id == user.pk and not enrollment.withdrawn_on and not enrollment.graduated_on
