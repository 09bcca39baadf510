"""Factories for certifications. A program made by ProgramFactory already has its five tracks
(CMA, RMA, CCMA, CMAA, NCMA) from the reference data: fetch them with `track(program, "CMA")`."""

from __future__ import annotations

from datetime import date

import factory

from certifications.models import CertificationTrack, ExamAttempt, JobPlacement, PlacementStatus
from curriculum.models import Program


def track(program: Program, code: str = "CMA") -> CertificationTrack:
    return CertificationTrack.objects.get(program=program, code=code)


class ExamAttemptFactory(factory.django.DjangoModelFactory[ExamAttempt]):
    """A sat exam (passed by default). Pass `result=""` and a `scheduled_on` for a booking."""

    class Meta:
        model = ExamAttempt

    enrollment = factory.SubFactory("tests.factories.EnrollmentFactory")
    track = factory.LazyAttribute(lambda attempt: track(attempt.enrollment.cohort.program, "CMA"))
    taken_on = date(2025, 3, 1)
    result = ExamAttempt.Result.PASS


class JobPlacementFactory(factory.django.DjangoModelFactory[JobPlacement]):
    class Meta:
        model = JobPlacement

    enrollment = factory.SubFactory(
        "tests.factories.EnrollmentFactory", admitted_on=date(2024, 1, 8), graduated_on=date(2025, 1, 15)
    )
    status = PlacementStatus.IN_FIELD
