"""Who may see and do what in certifications and outcomes. Every certification view asks here.

As elsewhere: a record someone may not see is not found (404), through the `visible_*` querysets;
an action someone may not take on a record they can see is forbidden (403), through `can_*`.

A student sees their own exams, credentials and eligibility. Directors and coordinators run the
program's exams, results, graduate outcomes and reports. Instructors and preceptors see none of it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from certifications.models import CertificationTrack, Credential, ExamAttempt, JobPlacement
from curriculum.models import Enrollment, Program
from curriculum.permissions import administered_programs, is_director, is_program_admin


def _administered_ids(user: User) -> QuerySet[Program, int]:
    return administered_programs(user).values_list("pk", flat=True)


def can_manage_certifications(user: User, program: Program) -> bool:
    """Booking exams, recording results and graduate outcomes, imports: directors and coordinators."""
    return is_program_admin(user, program)


def can_view_reports(user: User, program: Program) -> bool:
    """Outcome reports, the students behind each figure, and the exports: directors and coordinators."""
    return is_program_admin(user, program)


def can_edit_tracks(user: User, program: Program) -> bool:
    """A program's credential rules (eligibility, retakes, recertification, outlines): its directors."""
    return is_director(user, program)


def visible_tracks(user: User) -> QuerySet[CertificationTrack]:
    """The tracks of the programs a person studies in or administers."""
    student_programs = Enrollment.objects.filter(student=user).values_list("cohort__program_id", flat=True)
    return CertificationTrack.objects.filter(Q(program__in=student_programs) | Q(program__in=_administered_ids(user)))


def visible_certification_enrollments(user: User) -> QuerySet[Enrollment]:
    """Whose certification record a person may open: their own, and their programs' students for its
    directors and coordinators."""
    return Enrollment.objects.filter(Q(student=user) | Q(cohort__program__in=_administered_ids(user)))


def visible_exam_attempts(user: User) -> QuerySet[ExamAttempt]:
    return ExamAttempt.objects.filter(enrollment__in=visible_certification_enrollments(user))


def visible_credentials(user: User) -> QuerySet[Credential]:
    return Credential.objects.filter(enrollment__in=visible_certification_enrollments(user))


def visible_job_placements(user: User) -> QuerySet[JobPlacement]:
    return JobPlacement.objects.filter(enrollment__in=visible_certification_enrollments(user))


def can_choose_target(user: User, enrollment: Enrollment) -> bool:
    """The student picks their own target; the program's directors and coordinators may set it too."""
    return enrollment.student_id == user.pk or is_program_admin(user, enrollment.cohort.program)


def can_manage_exams(user: User, enrollment: Enrollment) -> bool:
    """Booking, moving, cancelling and recording a student's exams: never the student themselves."""
    return enrollment.student_id != user.pk and can_manage_certifications(user, enrollment.cohort.program)


# --- Certification tracks pages (the program's copy of the credential rules) ---------------------


def can_view_tracks(user: User, program: Program) -> bool:
    """The track pages and the outcome thresholds in force: directors and coordinators (edits: can_edit_tracks)."""
    return is_program_admin(user, program)
