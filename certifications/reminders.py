"""What certifications reminds of: a booked exam coming up, and a credential's recertification."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from certifications.models import Credential, ExamAttempt
from notifications.kinds import Due, Kind, Window

EXAM = "exam_upcoming"
RECERTIFICATION = "recertification_due"

KINDS = [
    Kind(
        key=EXAM,
        audience=_("Students"),
        label=_("A certification exam coming up"),
        title=ngettext_lazy("Your %(track)s exam is tomorrow", "Your %(track)s exam is in %(days)s days", "days"),
        body=_("You are booked to sit the %(track)s exam on %(exam_on)s at %(location)s. Bring photo identification."),
        action=_("See your exam"),
        offsets=(30, 7, 1),
        offsets_mean=_("days before the exam"),
        critical=True,
    ),
    Kind(
        key=RECERTIFICATION,
        audience=_("Graduates"),
        label=_("A credential due for recertification"),
        title=ngettext_lazy(
            "Your %(track)s credential is due for recertification tomorrow",
            "Your %(track)s credential is due for recertification in %(days)s days",
            "days",
        ),
        body=_(
            "Your %(track)s credential %(number)s must be recertified by %(due_on)s, or it lapses. "
            "Check the continuing education and fees it asks for."
        ),
        action=_("See your credential"),
        offsets=(90, 30),
        offsets_mean=_("days before the credential expires"),
    ),
]


def exams(window: Window) -> Iterator[Due]:
    """Students booked for an exam: 30, 7 and 1 days before, at the program's hour."""
    first, last = window.event_dates(EXAM)
    booked = (
        ExamAttempt.objects.filter(
            result="",
            scheduled_on__range=(first, last),
            enrollment__withdrawn_on__isnull=True,
            enrollment__student__is_active=True,
        )
        .values("pk", "scheduled_on", "location", track_code=F("track__code"), student_id=F("enrollment__student_id"))
        .annotate(program_id=F("track__program_id"), zone=F("track__program__time_zone"))
    )
    url = reverse("certifications:my-certification")
    for attempt in booked:
        exam_on = attempt["scheduled_on"]
        if exam_on is None:  # the range excludes it; said for the type checker
            continue
        for offset, moment in window.offset_days(
            event_on=exam_on,
            zone=ZoneInfo(attempt["zone"]),
            program_id=attempt["program_id"],
            kind=EXAM,
        ):
            yield Due(
                recipient_id=attempt["student_id"],
                kind=EXAM,
                subject=f"exam:{attempt['pk']}",
                occasion=f"{exam_on.isoformat()}/{offset}",
                due_at=moment,
                program_id=attempt["program_id"],
                url=url,
                context={
                    "track": attempt["track_code"],
                    "exam_on": exam_on.isoformat(),
                    "location": attempt["location"] or "—",
                    "days": offset,
                },
            )


def recertifications(window: Window) -> Iterator[Due]:
    """Graduates whose credential expires: 90 and 30 days before."""
    first, last = window.event_dates(RECERTIFICATION)
    credentials = Credential.objects.filter(
        expires_on__range=(first, last), enrollment__student__is_active=True
    ).values(
        "pk",
        "number",
        "expires_on",
        track_code=F("track__code"),
        student_id=F("enrollment__student_id"),
        program_id=F("track__program_id"),
        zone=F("track__program__time_zone"),
    )
    url = reverse("certifications:my-certification")
    for credential in credentials:
        expires_on = credential["expires_on"]
        if expires_on is None:
            continue
        for offset, moment in window.offset_days(
            event_on=expires_on,
            zone=ZoneInfo(credential["zone"]),
            program_id=credential["program_id"],
            kind=RECERTIFICATION,
        ):
            yield Due(
                recipient_id=credential["student_id"],
                kind=RECERTIFICATION,
                subject=f"credential:{credential['pk']}",
                occasion=f"{expires_on.isoformat()}/{offset}",
                due_at=moment,
                program_id=credential["program_id"],
                url=url,
                context={
                    "track": credential["track_code"],
                    "number": credential["number"] or "—",
                    "due_on": expires_on.isoformat(),
                    "days": offset,
                },
            )


def due(window: Window) -> Iterator[Due]:
    yield from exams(window)
    yield from recertifications(window)
