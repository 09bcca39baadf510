"""Who may see and do what in curriculum. Every view asks here.

A record someone may not see is not found (404): `visible_*` querysets hide it. An action
someone may not take on a record they can see is forbidden (403): the `can_*` predicates.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from curriculum.models import (
    Assignment,
    Attempt,
    Cohort,
    Course,
    CourseOffering,
    Enrollment,
    Program,
    StaffRole,
)

ADMIN_ROLES = (StaffRole.Role.DIRECTOR, StaffRole.Role.COORDINATOR)


def _program_ids(user: User, roles: tuple[str, ...]) -> QuerySet[StaffRole, int]:
    return StaffRole.objects.filter(user=user, role__in=roles).values_list("program_id", flat=True)


def administered_programs(user: User) -> QuerySet[Program]:
    """Programs the person directs or coordinates: every cohort and roster of them is theirs."""
    return Program.objects.filter(pk__in=_program_ids(user, ADMIN_ROLES))


def visible_programs(user: User) -> QuerySet[Program]:
    """Programs in which the person holds any staff role."""
    return Program.objects.filter(staff_roles__user=user).distinct()


def taught_cohort_ids(user: User) -> QuerySet[Cohort, int]:
    return Cohort.objects.filter(Q(instructors=user) | Q(offerings__instructor=user)).values_list("pk", flat=True)


def visible_cohorts(user: User) -> QuerySet[Cohort]:
    """Staff see the cohorts they administer or teach; never another program's or cohort's."""
    return Cohort.objects.filter(
        Q(program__in=_program_ids(user, ADMIN_ROLES)) | Q(pk__in=taught_cohort_ids(user))
    ).distinct()


def visible_courses(user: User) -> QuerySet[Course]:
    return Course.objects.filter(program__in=_program_ids(user, ADMIN_ROLES))


def visible_offerings(user: User) -> QuerySet[CourseOffering]:
    """Admins: all of their programs. Instructors: what they teach. Students: their cohorts'."""
    return CourseOffering.objects.filter(
        Q(cohort__program__in=_program_ids(user, ADMIN_ROLES))
        | Q(instructor=user)
        | Q(cohort__instructors=user)
        | Q(cohort__enrollments__student=user)
    ).distinct()


def visible_assignments(user: User) -> QuerySet[Assignment]:
    return Assignment.objects.filter(offering__in=visible_offerings(user))


def visible_enrollments(user: User) -> QuerySet[Enrollment]:
    """A student sees their own; staff see the rosters of cohorts they administer or teach."""
    return Enrollment.objects.filter(
        Q(student=user) | Q(cohort__program__in=_program_ids(user, ADMIN_ROLES)) | Q(cohort__in=taught_cohort_ids(user))
    ).distinct()


def is_program_admin(user: User, program: Program) -> bool:
    return StaffRole.objects.filter(user=user, program=program, role__in=ADMIN_ROLES).exists()


def is_director(user: User, program: Program) -> bool:
    return StaffRole.objects.filter(user=user, program=program, role=StaffRole.Role.DIRECTOR).exists()


def can_create_program(user: User) -> bool:
    """Directors start new programs (and direct them); so may a superuser setting up a school."""
    return user.is_superuser or StaffRole.objects.filter(user=user, role=StaffRole.Role.DIRECTOR).exists()


def can_edit_program(user: User, program: Program) -> bool:
    """Program settings, staff and the two-factor rule are the director's."""
    return is_director(user, program)


def can_view_outbox(user: User, program: Program) -> bool:
    """The program's reminder outbox (who was sent what, what failed): directors and coordinators."""
    return is_program_admin(user, program)


def can_resend_reminder(user: User, program: Program) -> bool:
    """Sending a reminder again, and the program's reminder timings: the director's."""
    return is_director(user, program)


def can_manage_roster(user: User, program: Program) -> bool:
    """Cohorts, courses, offerings, enrollments and roster imports: directors and coordinators."""
    return is_program_admin(user, program)


def can_manage_coursework(user: User, offering: CourseOffering) -> bool:
    """Assignments and grades: the offering's instructor, and the program's directors and coordinators."""
    return offering.instructor_id == user.pk or is_program_admin(user, offering.cohort.program)


def can_grade(user: User, offering: CourseOffering) -> bool:
    return can_manage_coursework(user, offering)


def can_view_gradebook(user: User, offering: CourseOffering) -> bool:
    """Every student's grades: staff of the offering only, never a student."""
    return (
        offering.instructor_id == user.pk
        or offering.cohort.instructors.filter(pk=user.pk).exists()
        or is_program_admin(user, offering.cohort.program)
    )


# --- Competencies and check-offs ----------------------------------------------------------


def teaches_cohort(user: User, cohort: Cohort) -> bool:
    """Instructors of a cohort: named on it, or teaching one of its course offerings."""
    return Cohort.objects.filter(pk=cohort.pk).filter(Q(instructors=user) | Q(offerings__instructor=user)).exists()


def visible_attempts(user: User) -> QuerySet[Attempt]:
    """A student sees their own attempts; staff see those of the rosters they may see."""
    return Attempt.objects.filter(enrollment__in=visible_enrollments(user))


def can_view_competency_record(user: User, enrollment: Enrollment) -> bool:
    return enrollment.student_id == user.pk or visible_enrollments(user).filter(pk=enrollment.pk).exists()


def can_evaluate(user: User, enrollment: Enrollment) -> bool:
    """Check-offs are performed by an instructor of the student's cohort, never by the student."""
    return enrollment.student_id != user.pk and teaches_cohort(user, enrollment.cohort)


def can_sign(user: User, attempt: Attempt) -> bool:
    """Only the evaluator signs, for themselves: nobody signs for another person."""
    return attempt.evaluator_id == user.pk and attempt.enrollment.student_id != user.pk


def can_revoke(user: User, attempt: Attempt) -> bool:
    """Revoking a signature is the program director's decision."""
    return is_director(user, attempt.enrollment.cohort.program)


def can_edit_framework(user: User, program: Program) -> bool:
    """Confirming framework rows, editing checklists and course mappings: the program's directors."""
    return is_director(user, program)


def can_download_master_checklist(user: User, enrollment: Enrollment) -> bool:
    """The site-visit record: the program's directors and coordinators, and the student their own.

    Instructors follow their cohort's progress on screen; the accreditation record is the program
    office's to hand out, so an instructor of the cohort is refused (403)."""
    return enrollment.student_id == user.pk or is_program_admin(user, enrollment.cohort.program)
