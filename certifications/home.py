"""The certification section of a student's home page (registered with curriculum.home)."""

from __future__ import annotations

from accounts.http import AuthenticatedRequest
from certifications import eligibility
from certifications.models import ExamAttempt
from curriculum import progress
from curriculum.home import Section
from curriculum.models import Enrollment


def student_section(request: AuthenticatedRequest) -> Section | None:
    """Target credential, next exam date and eligibility in one line; a fixed handful of queries."""
    enrollments = list(
        Enrollment.objects.filter(student=request.user).select_related("cohort__program", "target_track__track")
    )
    enrollment = progress.main_enrollment(enrollments)
    if enrollment is None:
        return None
    program = enrollment.cohort.program
    today = program.today()
    target = getattr(enrollment, "target_track", None)
    track = target.track if target is not None else None
    next_exam = (
        ExamAttempt.objects.filter(enrollment=enrollment)
        .upcoming(today)
        .select_related("track")
        .order_by("scheduled_on", "pk")
        .first()
    )
    return Section(
        "certifications/home_student.html",
        {
            "target": track,
            "next_exam": next_exam,
            "eligibility": eligibility.checklist(enrollment, track, today) if track else None,
        },
    )
