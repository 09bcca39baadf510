"""A student's exam dates as an iCalendar file (RFC 5545), and the private feed URL that serves it.

Written here rather than with a library: the file is small (one all-day VEVENT per exam), and the
few rules that matter are kept below: CRLF line endings, text escaping of backslash, semicolon,
comma and newline (other control characters become spaces), lines folded at 75 octets without
splitting a UTF-8 character, a UID that stays the same for an attempt so a calendar app updates the
event when the booking moves.

A feed's token is the credential: whoever holds the URL reads the dates, so the student can revoke
it (the old URL then answers 404) and open a new one with a new token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from certifications.models import CalendarFeed, ExamAttempt

PRODUCT = "-//Checkoff//Exam dates//EN"
UID_DOMAIN = "checkoff.exam-attempts"
FOLD_AT = 75  # octets, CRLF excluded (RFC 5545, 3.1)
FORBIDDEN_IN_TEXT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # controls but the tab (RFC 5545, 3.3.11)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash first, then ; and , and every kind of newline; any
    other control character, which TEXT may not hold (a vertical tab typed into a location went into
    the file as it was), becomes a space."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    return FORBIDDEN_IN_TEXT.sub(" ", value)


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets, each continuation starting with a
    space (which counts toward its 75), never inside a UTF-8 character."""
    pieces: list[str] = []
    current, size, limit = "", 0, FOLD_AT
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, FOLD_AT - 1
        current += character
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _date(value: date) -> str:
    return value.strftime("%Y%m%d")


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def uid_for(attempt: ExamAttempt) -> str:
    return f"exam-attempt-{attempt.pk}@{UID_DOMAIN}"


def summary_for(attempt: ExamAttempt) -> str:
    values = {"track": attempt.track.code}
    if attempt.result == ExamAttempt.Result.PASS:
        return _("%(track)s exam: passed") % values
    if attempt.result == ExamAttempt.Result.FAIL:
        return _("%(track)s exam: not passed") % values
    if attempt.result == ExamAttempt.Result.NO_SHOW:
        return _("%(track)s exam: did not attend") % values
    return _("%(track)s exam") % values


def event_lines(attempt: ExamAttempt, stamp: datetime) -> list[str]:
    """One all-day event; an attempt with no day has none."""
    day = attempt.day
    if day is None:
        return []
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid_for(attempt)}",
        f"DTSTAMP:{_stamp(stamp)}",
        f"DTSTART;VALUE=DATE:{_date(day)}",
        f"DTEND;VALUE=DATE:{_date(day + timedelta(days=1))}",
        f"SUMMARY:{escape_text(summary_for(attempt))}",
    ]
    if attempt.location:
        lines.append(f"LOCATION:{escape_text(attempt.location)}")
    lines.append(f"DESCRIPTION:{escape_text(attempt.track.name)}")
    lines.append("TRANSP:TRANSPARENT")
    lines.append("END:VEVENT")
    return lines


def ics(attempts: Iterable[ExamAttempt], *, name: str, now: datetime | None = None) -> str:
    """The whole calendar: every line folded and ended with CRLF."""
    stamp = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for attempt in attempts:
        lines += event_lines(attempt, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def exams_of(user: User) -> list[ExamAttempt]:
    """Every exam of the person's enrollments that has a day, in one query."""
    return list(
        ExamAttempt.objects.filter(enrollment__student=user)
        .exclude(scheduled_on__isnull=True, taken_on__isnull=True)
        .select_related("track")
        .order_by("scheduled_on", "taken_on", "pk")
    )


def calendar_name() -> str:
    return _("Checkoff: my exams")


# --- The private feed -----------------------------------------------------------------------


def open_feed_of(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


@transaction.atomic
def open_feed(*, user: User) -> CalendarFeed:
    """The person's feed: the open one if there is one, else a new one with a new token."""
    if (feed := open_feed_of(user)) is not None:
        return feed
    try:
        with transaction.atomic():
            return CalendarFeed.objects.create(user=user)
    except IntegrityError:  # another request opened one at the same moment: that one stands
        return CalendarFeed.objects.get(user=user, revoked_at__isnull=True)


@transaction.atomic
def revoke_feed(*, user: User) -> int:
    """Close the person's open feed: its URL stops answering. Returns how many were closed (0 or 1)."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
