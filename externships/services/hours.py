"""Hours use cases: log, correct or withdraw a shift; approve or return it; measure progress.

The rules are checked here, with clear messages, and again in PostgreSQL where they can be: end
after start and at most 12 hours per shift (check constraints), no overlapping shifts for the same
student (an exclusion constraint), approved entries locked (a trigger). The day's 12-hour total,
the placement's dates and "not in the future" are checked here, with the student's row locked so
that two submissions at once are judged one after the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from accounts import chains
from accounts.models import User
from externships.models import MAX_SHIFT, HoursEntry, Placement
from notifications.services import notify

DURATION = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
MAX_DAY = timedelta(hours=12)
# A long run of digits in a note is most likely a record number, a phone or a date of birth.
IDENTIFIER_LIKE = re.compile(r"\d[\d\s/.-]{5,}\d")


def _hours(duration: timedelta | None) -> float:
    return round((duration or timedelta()).total_seconds() / 3600, 2)


def _shift_bounds(placement: Placement, work_date: date, start: time, end: time) -> tuple[datetime, datetime]:
    zone = placement.enrollment.cohort.program.zone
    return (
        timezone.make_aware(datetime.combine(work_date, start), zone),
        timezone.make_aware(datetime.combine(work_date, end), zone),
    )


def _check_shift(
    placement: Placement, student_id: int, work_date: date, start: time, end: time, activity: str, entry_id: int | None
) -> tuple[datetime, datetime]:
    """Every rule a shift must keep, with the field it concerns. Returns the shift's start and end."""
    if end <= start:
        raise ValidationError({"end": _("The end time must be after the start time.")})
    if not placement.start_on <= work_date <= placement.end_on:
        raise ValidationError(
            {
                "work_date": _("The date is outside the placement, which runs from %(start)s to %(end)s.")
                % {"start": date_format(placement.start_on), "end": date_format(placement.end_on)}
            }
        )
    starts_at, ends_at = _shift_bounds(placement, work_date, start, end)
    if ends_at - starts_at > MAX_SHIFT:
        raise ValidationError({"end": _("A shift can be at most 12 hours.")})
    if ends_at > timezone.now():
        raise ValidationError({"work_date": _("A shift cannot be logged before it ends: it is still in the future.")})
    if IDENTIFIER_LIKE.search(activity):
        raise ValidationError(
            {
                "activity": _(
                    "Remove the numbers from the note: never enter patient names, dates of birth or record numbers."
                )
            }
        )
    others = HoursEntry.objects.filter(student_id=student_id)
    if entry_id is not None:
        others = others.exclude(pk=entry_id)
    clash = (
        others.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("placement__enrollment__cohort__program")
        .first()
    )
    if clash is not None:
        zone = placement.enrollment.cohort.program.zone
        raise ValidationError(
            {
                "start": _("This shift overlaps the one logged on %(date)s from %(start)s to %(end)s.")
                % {
                    "date": date_format(clash.work_date),
                    "start": time_format(clash.starts_at.astimezone(zone).time()),
                    "end": time_format(clash.ends_at.astimezone(zone).time()),
                }
            }
        )
    day_total = others.filter(work_date=work_date).aggregate(total=Coalesce(Sum(DURATION), Value(timedelta())))["total"]
    if day_total + (ends_at - starts_at) > MAX_DAY:
        raise ValidationError(
            {
                "end": _("At most 12 hours can be logged in a day; %(logged)s hours are logged on %(date)s already.")
                % {"logged": f"{_hours(day_total):g}", "date": date_format(work_date)}
            }
        )
    return starts_at, ends_at


def _save_guarded(entry: HoursEntry) -> None:
    """The database's own rules are the last word: a shift that slipped past the checks is refused."""
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as error:
        raise ValidationError({"start": _("This shift overlaps another or breaks the hours rules.")}) from error


@transaction.atomic
def log_shift(
    *, placement: Placement, student: User, work_date: date, start: time, end: time, activity: str = ""
) -> HoursEntry:
    User.objects.select_for_update().filter(pk=student.pk).first()  # one submission per student at a time
    locked = Placement.objects.select_related("enrollment__cohort__program").get(pk=placement.pk)
    if locked.enrollment.student_id != student.pk:
        raise ValidationError(_("Only the placed student logs their hours."))
    if locked.state != Placement.State.ACTIVE:
        raise ValidationError(_("Hours can be logged only while the placement is active."))
    activity = activity.strip()
    starts_at, ends_at = _check_shift(locked, student.pk, work_date, start, end, activity, None)
    entry = HoursEntry(
        placement=locked, student=student, work_date=work_date, starts_at=starts_at, ends_at=ends_at, activity=activity
    )
    _save_guarded(entry)
    return entry


@transaction.atomic
def correct_shift(
    *, entry: HoursEntry, by: User, work_date: date, start: time, end: time, activity: str = ""
) -> HoursEntry:
    """The student corrects a shift waiting for approval or returned; it goes back for approval."""
    User.objects.select_for_update().filter(pk=by.pk).first()
    locked = (
        HoursEntry.objects.select_for_update().select_related("placement__enrollment__cohort__program").get(pk=entry.pk)
    )
    if locked.student_id != by.pk:
        raise ValidationError(_("Only the student who logged a shift may correct it."))
    if locked.state == HoursEntry.State.APPROVED:
        raise ValidationError(_("Approved hours are locked and cannot change."))
    if locked.placement.state != Placement.State.ACTIVE:
        raise ValidationError(_("Hours can be changed only while the placement is active."))
    activity = activity.strip()
    starts_at, ends_at = _check_shift(locked.placement, by.pk, work_date, start, end, activity, locked.pk)
    locked.work_date, locked.starts_at, locked.ends_at, locked.activity = work_date, starts_at, ends_at, activity
    locked.state, locked.reviewed_by, locked.reviewed_at, locked.return_reason = (
        HoursEntry.State.SUBMITTED,
        None,
        None,
        "",
    )
    _save_guarded(locked)
    return locked


@transaction.atomic
def withdraw_shift(*, entry: HoursEntry, by: User) -> None:
    locked = HoursEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.student_id != by.pk:
        raise ValidationError(_("Only the student who logged a shift may remove it."))
    if locked.state == HoursEntry.State.APPROVED:
        raise ValidationError(_("Approved hours are locked and cannot be removed."))
    locked.delete()


def _check_reviewer(placement: Placement, by: User) -> None:
    if placement.preceptor.user_id != by.pk or not placement.preceptor.is_active:
        raise ValidationError(_("Only the placement's preceptor approves its hours."))
    if placement.state not in (Placement.State.ACTIVE, Placement.State.COMPLETED):
        raise ValidationError(_("Hours can be approved only for an active or completed placement."))


@transaction.atomic
def approve_entries(*, placement: Placement, by: User, entries: QuerySet[HoursEntry]) -> int:
    """Approve the given entries of the placement that wait for approval, linked into the student's
    chain of approved hours in the order worked. Returns how many."""
    _check_reviewer(placement, by)
    waiting = list(
        entries.filter(placement=placement, state=HoursEntry.State.SUBMITTED)
        .select_for_update(of=("self",))
        .order_by("starts_at", "pk")
    )
    now = timezone.now()
    for entry in waiting:
        entry.state, entry.reviewed_by, entry.reviewed_at, entry.return_reason = HoursEntry.State.APPROVED, by, now, ""
    chains.link(waiting)
    HoursEntry.objects.bulk_update(
        waiting, ["state", "reviewed_by", "reviewed_at", "return_reason", "chain_position", "chain_digest"]
    )
    return len(waiting)


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday around the day."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def approve_week(*, placement: Placement, by: User, week_start: date) -> int:
    monday, sunday = week_of(week_start)
    return approve_entries(
        placement=placement, by=by, entries=HoursEntry.objects.filter(work_date__range=(monday, sunday))
    )


@transaction.atomic
def return_entry(*, entry: HoursEntry, by: User, reason: str) -> HoursEntry:
    """Send a shift back to the student with what to correct."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what the student should correct.")})
    locked = HoursEntry.objects.select_for_update().select_related("placement__preceptor").get(pk=entry.pk)
    _check_reviewer(locked.placement, by)
    if locked.state != HoursEntry.State.SUBMITTED:
        raise ValidationError(_("Only a shift waiting for approval can be returned."))
    locked.state, locked.reviewed_by, locked.reviewed_at, locked.return_reason = (
        HoursEntry.State.RETURNED,
        by,
        timezone.now(),
        reason,
    )
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "return_reason"])
    _tell_student_of_return(locked, by)
    return locked


def _tell_student_of_return(entry: HoursEntry, preceptor: User) -> None:
    """The student hears that a shift came back, after commit, by their chosen channel."""
    from externships.reminders import SHIFT_RETURNED

    placement = entry.placement
    notify(
        recipient_id=entry.student_id,
        kind=SHIFT_RETURNED,
        subject=f"shift:{entry.pk}",
        occasion=f"returned/{entry.reviewed_at.isoformat() if entry.reviewed_at else ''}",
        program_id=placement.site.program_id,
        context={
            "work_on": entry.work_date.isoformat(),
            "site": placement.site.name,
            "preceptor": preceptor.get_full_name() or preceptor.email,
            "reason": entry.return_reason,
        },
        url=reverse("externships:my-externship"),
    )


# --- Progress -------------------------------------------------------------------------------


def approved_hours(placement: Placement) -> float:
    total = placement.hours.filter(state=HoursEntry.State.APPROVED).aggregate(total=Sum(DURATION))["total"]
    return _hours(total)


def _sum_by_state(state: str) -> Coalesce:
    total = (
        HoursEntry.objects.filter(placement=OuterRef("pk"), state=state)
        .order_by()
        .values("placement")
        .annotate(total=Sum(DURATION))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=DurationField()), Value(timedelta()))


def with_hours(placements: QuerySet[Placement]) -> QuerySet[Placement]:
    """Annotate `approved_duration` and `pending_duration` for lists: no query per row."""
    return placements.annotate(
        approved_duration=_sum_by_state(HoursEntry.State.APPROVED),
        pending_duration=_sum_by_state(HoursEntry.State.SUBMITTED),
    )


@dataclass(frozen=True)
class Progress:
    approved: float
    pending: float
    required: int
    days_left: int
    expected_by_now: float

    @property
    def percent(self) -> int:
        return min(100, int(self.approved * 100 // self.required)) if self.required else 0

    @property
    def remaining(self) -> float:
        return max(0.0, round(self.required - self.approved, 2))

    @property
    def done(self) -> bool:
        return self.approved >= self.required

    @property
    def weekly_pace(self) -> float | None:
        """Hours a week still needed to finish by the end date; None when no days are left."""
        if self.done:
            return 0.0
        if self.days_left <= 0:
            return None
        return round(self.remaining * 7 / self.days_left, 1)

    @property
    def behind(self) -> bool:
        """Fewer hours logged (approved or waiting) than a steady pace would have by now."""
        return not self.done and self.approved + self.pending < self.expected_by_now


def progress_of(placement: Placement, *, today: date | None = None) -> Progress:
    """Progress toward the required hours. On a placement from `with_hours` it costs no query."""
    approved = getattr(placement, "approved_duration", None)
    pending = getattr(placement, "pending_duration", None)
    if approved is None or pending is None:
        zero = Value(timedelta())
        sums = placement.hours.aggregate(
            approved=Coalesce(Sum(DURATION, filter=Q(state=HoursEntry.State.APPROVED)), zero),
            pending=Coalesce(Sum(DURATION, filter=Q(state=HoursEntry.State.SUBMITTED)), zero),
        )
        approved, pending = sums["approved"], sums["pending"]
    today = today or placement.enrollment.cohort.program.today()
    span = (placement.end_on - placement.start_on).days + 1
    elapsed = min(span, max(0, (today - placement.start_on).days))
    active = placement.state == Placement.State.ACTIVE
    return Progress(
        approved=_hours(approved),
        pending=_hours(pending),
        required=placement.required_hours,
        days_left=max(0, (placement.end_on - today).days + 1) if active else 0,
        expected_by_now=round(placement.required_hours * elapsed / span, 2) if active else 0.0,
    )
