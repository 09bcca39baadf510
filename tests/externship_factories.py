"""Factories for externships: sites, preceptors, placements, compliance records, shifts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import factory
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts import chains
from externships.models import (
    ComplianceRecord,
    ComplianceRequirement,
    HoursEntry,
    Placement,
    Preceptor,
    Site,
)
from tests.factories import EnrollmentFactory, ProgramFactory, UserFactory

# The smallest file each accepted type starts with: enough for the content check.
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "1 Main Street"
    capacity = 4
    agreement_expires_on = factory.LazyFunction(lambda: date.today() + timedelta(days=730))


class PreceptorFactory(factory.django.DjangoModelFactory[Preceptor]):
    class Meta:
        model = Preceptor

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory, password=None)
    title = "CMA (AAMA)"


class PlacementFactory(factory.django.DjangoModelFactory[Placement]):
    """Planned by default; pass state=Placement.State.ACTIVE for one already started (no gate)."""

    class Meta:
        model = Placement

    enrollment = factory.SubFactory(EnrollmentFactory)
    site = factory.LazyAttribute(lambda o: SiteFactory(program=o.enrollment.cohort.program))
    preceptor = factory.LazyAttribute(lambda o: PreceptorFactory(site=o.site))
    start_on = factory.LazyFunction(lambda: date.today() - timedelta(days=14))
    end_on = factory.LazyFunction(lambda: date.today() + timedelta(days=60))
    required_hours = 160
    created_by = factory.SubFactory(UserFactory)


class RequirementFactory(factory.django.DjangoModelFactory[ComplianceRequirement]):
    class Meta:
        model = ComplianceRequirement

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Requirement {n}")
    category = "immunization"
    validity_months = 12


class ComplianceRecordFactory(factory.django.DjangoModelFactory[ComplianceRecord]):
    """Approved by default (reviewer made up); pass state="pending" for one waiting for review."""

    class Meta:
        model = ComplianceRecord

    student = factory.SubFactory(UserFactory)
    requirement = factory.SubFactory(RequirementFactory)
    document = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="record.pdf"))
    document_name = "record.pdf"
    document_type = "application/pdf"
    document_size = len(PDF_BYTES)
    completed_on = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    expires_on = factory.LazyFunction(lambda: date.today() + timedelta(days=335))
    state = ComplianceRecord.State.APPROVED
    reviewed_by = factory.LazyAttribute(lambda o: UserFactory() if o.state != "pending" else None)
    reviewed_at = factory.LazyAttribute(lambda o: timezone.now() if o.state != "pending" else None)
    rejection_reason = factory.LazyAttribute(lambda o: "Illegible" if o.state == "rejected" else "")


def shift(
    placement: Placement,
    day: date,
    start: time = time(8),
    end: time = time(16),
    *,
    state: str = HoursEntry.State.SUBMITTED,
) -> HoursEntry:
    """A shift written straight to the table (no service rules): for setting up a scene. An approved
    one is linked into the student's chain of approved hours, as every approval is."""
    zone = placement.enrollment.cohort.program.zone
    reviewer = placement.preceptor.user if state != HoursEntry.State.SUBMITTED else None
    entry = HoursEntry.objects.create(
        placement=placement,
        student_id=placement.enrollment.student_id,
        work_date=day,
        starts_at=timezone.make_aware(datetime.combine(day, start), zone),
        ends_at=timezone.make_aware(datetime.combine(day, end), zone),
        state=HoursEntry.State.SUBMITTED if state == HoursEntry.State.APPROVED else state,
        reviewed_by=reviewer,
        reviewed_at=timezone.now() if reviewer else None,
        return_reason="Fix the times" if state == HoursEntry.State.RETURNED else "",
    )
    if state == HoursEntry.State.APPROVED:
        entry.state = state
        with transaction.atomic():
            chains.link([entry])
            entry.save()
    return entry
