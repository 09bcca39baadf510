"""What externships reminds of: students about their placement, hours, documents and evaluation of the
site; preceptors about hours and evaluations waiting for them; directors and coordinators about the
review queue, expiring agreements and students not ready for a placement about to start.

Every kind reads its rows in one query (or a few), whatever their number; `students_not_ready` adds
the readiness list's fixed number of queries per cohort with a placement starting soon.

Two shapes of reminder:
- about an event (a start, an expiry, a due date): sent the given days before or after it, at the
  program's hour, through `Window.offset_days`;
- a daily digest for a condition that lasts (shifts or documents waiting, students not ready): at
  most one a day per person, at the program's hour, counting only what already stood at that hour
  (`_daily`), so that a document sent at 9:30 is counted in tomorrow's 9:00 reminder, not in one at 9:31.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from curriculum.models import Cohort, Enrollment, StaffRole
from curriculum.permissions import ADMIN_ROLES
from externships import readiness
from externships.models import (
    PRECEPTOR_KINDS,
    ComplianceRecord,
    Evaluation,
    HoursEntry,
    Kind,
    Placement,
    Preceptor,
    Site,
)
from externships.services import hours as hours_services
from notifications.kinds import Due, NotWanted, Window
from notifications.kinds import Kind as ReminderKind

PLACEMENT_STARTING = "placement_starting"
HOURS_NOT_LOGGED = "hours_not_logged"
HOURS_BEHIND_PACE = "hours_behind_pace"
COMPLIANCE_EXPIRING = "compliance_expiring"
SITE_EVALUATION_DUE = "site_evaluation_due"
HOURS_AWAITING_APPROVAL = "hours_awaiting_approval"
PRECEPTOR_EVALUATION_DUE = "preceptor_evaluation_due"
COMPLIANCE_REVIEW_WAITING = "compliance_review_waiting"
AGREEMENT_EXPIRING = "agreement_expiring"
STUDENTS_NOT_READY = "students_not_ready"
# Sent as they happen, by the services that review documents and shifts (notifications.services.notify).
DOCUMENT_APPROVED = "document_approved"
DOCUMENT_REJECTED = "document_rejected"
SHIFT_RETURNED = "shift_returned"
# A preceptor's welcome, by email only, when added to a site and whenever a coordinator resends it.
PRECEPTOR_WELCOME = "preceptor_welcome"

OPEN = (Placement.State.PLANNED, Placement.State.ACTIVE)
STAFF = _("Directors and coordinators")


def _welcome_letter(context: dict[str, Any]) -> dict[str, Any]:
    """What the welcome's templates need when it is sent; nothing goes to someone deactivated since."""
    from externships.services.sites import code_sign_in_url

    preceptor = Preceptor.objects.select_related("site__program").filter(pk=context["preceptor_id"]).first()
    if preceptor is None or not preceptor.is_active:
        raise NotWanted("no longer a preceptor at the site")
    return {
        "preceptor": preceptor,
        "site": preceptor.site,
        "program": preceptor.site.program,
        "url": code_sign_in_url(),
    }


KINDS = [
    ReminderKind(
        key=PLACEMENT_STARTING,
        audience=_("Students"),
        label=_("A placement about to start"),
        title=ngettext_lazy(
            "Your placement at %(site)s starts tomorrow", "Your placement at %(site)s starts in %(days)s days", "days"
        ),
        body=_(
            "Your placement at %(site)s runs from %(start_on)s to %(end_on)s. "
            "Check the site's address and your first shift with your preceptor."
        ),
        action=_("See your placement"),
        offsets=(7,),
        offsets_mean=_("days before the placement starts"),
    ),
    ReminderKind(
        key=HOURS_NOT_LOGGED,
        audience=_("Students"),
        label=_("No hours logged for a while during a placement"),
        title=ngettext_lazy(
            "You have not logged a shift for %(days)s day", "You have not logged a shift for %(days)s days", "days"
        ),
        body=_(
            "No shift at %(site)s is logged after %(since_on)s. "
            "Log each shift soon after you work it, so that your preceptor can approve it."
        ),
        action=_("Log a shift"),
        offsets=(7,),
        offsets_mean=_("days without a shift logged"),
    ),
    ReminderKind(
        key=HOURS_BEHIND_PACE,
        audience=_("Students"),
        label=_("Hours behind the pace to finish on time"),
        title=_("Your hours at %(site)s are behind pace"),
        body=_(
            "%(logged)s of %(required)s hours are logged; a steady pace would have %(expected)s by now. "
            "To finish by %(end_on)s, plan about %(weekly)s hours a week."
        ),
        action=_("See your hours"),
        offsets=(7,),
        offsets_mean=_("days between reminders"),
    ),
    ReminderKind(
        key=COMPLIANCE_EXPIRING,
        audience=_("Students"),
        label=_("A compliance document about to expire"),
        title=ngettext_lazy(
            "Your %(requirement)s expires tomorrow", "Your %(requirement)s expires in %(days)s days", "days"
        ),
        body=_(
            "Your %(requirement)s document expires on %(expires_on)s. Upload the renewed one in time for it "
            "to be reviewed: an expired document holds your placement back."
        ),
        action=_("Upload a document"),
        offsets=(60, 30, 7),
        offsets_mean=_("days before the document expires"),
        critical=True,
    ),
    ReminderKind(
        key=SITE_EVALUATION_DUE,
        audience=_("Students"),
        label=_("Your evaluation of your placement site"),
        title=_("Evaluate your placement at %(site)s"),
        body=_(
            "Your evaluation of %(site)s is due on %(due_on)s. It takes a few minutes, and the program "
            "reads every one to choose its sites."
        ),
        action=_("Evaluate the site"),
        offsets=(0, 3),
        offsets_mean=_("days after the placement ends"),
    ),
    ReminderKind(
        key=HOURS_AWAITING_APPROVAL,
        audience=_("Preceptors"),
        label=_("Shifts waiting for your approval"),
        title=ngettext_lazy(
            "%(count)s shift waits for your approval", "%(count)s shifts wait for your approval", "count"
        ),
        body=_(
            "Your students logged shifts that have waited several days for you. "
            "Approve them, or return them with what to correct."
        ),
        action=_("Review the hours"),
        offsets=(3,),
        offsets_mean=_("days a shift waits before it is counted"),
    ),
    ReminderKind(
        key=PRECEPTOR_EVALUATION_DUE,
        audience=_("Preceptors"),
        label=_("A midpoint or final evaluation due"),
        title=_("Your evaluation of %(student)s is due"),
        body=_(
            "The evaluation of %(student)s at %(site)s is due on %(due_on)s "
            "(the placement runs from %(start_on)s to %(end_on)s). Fill it in and sign it."
        ),
        action=_("Fill in the evaluation"),
        offsets=(0,),
        offsets_mean=_("days before the evaluation is due"),
    ),
    ReminderKind(
        key=COMPLIANCE_REVIEW_WAITING,
        audience=STAFF,
        label=_("Compliance documents waiting for review"),
        title=ngettext_lazy(
            "%(count)s compliance document waits for review",
            "%(count)s compliance documents wait for review",
            "count",
        ),
        body=_("Students of %(program)s sent documents that wait for review. A document counts only once approved."),
        action=_("Review the documents"),
        offsets=(0,),
        offsets_mean=_("days a document waits before it is counted"),
    ),
    ReminderKind(
        key=AGREEMENT_EXPIRING,
        audience=STAFF,
        label=_("A site's affiliation agreement about to expire"),
        title=ngettext_lazy(
            "The agreement with %(site)s expires tomorrow",
            "The agreement with %(site)s expires in %(days)s days",
            "days",
        ),
        body=_(
            "The affiliation agreement with %(site)s expires on %(expires_on)s, and no placement there may run "
            "past it. Renew it and enter the new date."
        ),
        action=_("Update the site"),
        offsets=(90, 30),
        offsets_mean=_("days before the agreement expires"),
    ),
    ReminderKind(
        key=STUDENTS_NOT_READY,
        audience=STAFF,
        label=_("Students not ready for a placement about to start"),
        title=ngettext_lazy(
            "%(count)s student is not ready for a placement starting soon",
            "%(count)s students are not ready for placements starting soon",
            "count",
        ),
        body=_(
            "In %(program)s, students whose placement starts by %(until_on)s still lack a competency or a "
            "document, or their site's agreement does not cover the placement."
        ),
        action=_("See who is ready"),
        offsets=(14,),
        offsets_mean=_("days ahead to look for placements starting"),
    ),
    ReminderKind(
        key=DOCUMENT_APPROVED,
        audience=_("Students"),
        label=_("A compliance document approved"),
        title=_("Your %(requirement)s document was approved"),
        body=_("%(reviewer)s approved the document you sent on %(uploaded_on)s: it now counts for your placement."),
        action=_("See your documents"),
        offsets=(),
        offsets_mean=_("sent when it happens"),
        event=True,
    ),
    ReminderKind(
        key=DOCUMENT_REJECTED,
        audience=_("Students"),
        label=_("A compliance document not accepted"),
        title=_("Your %(requirement)s document was not accepted"),
        body=_("%(reviewer)s gave this reason: %(reason)s Upload a corrected document."),
        action=_("Upload it again"),
        offsets=(),
        offsets_mean=_("sent when it happens"),
        event=True,
    ),
    ReminderKind(
        key=SHIFT_RETURNED,
        audience=_("Students"),
        label=_("A shift returned for correction"),
        title=_("Your shift of %(work_on)s at %(site)s was returned"),
        body=_("%(preceptor)s asks you to correct it: %(reason)s"),
        action=_("Correct the shift"),
        offsets=(),
        offsets_mean=_("sent when it happens"),
        event=True,
    ),
    ReminderKind(
        key=PRECEPTOR_WELCOME,
        audience=_("Preceptors"),
        label=_("The welcome to a new preceptor"),
        title=_("You are a preceptor on Checkoff"),
        body=_("How to sign in with an emailed code."),
        action=_("Sign in"),
        offsets=(),
        offsets_mean=_("sent when it happens"),
        event=True,
        account=True,
        template="emails/preceptor_welcome",
        letter_context=_welcome_letter,
    ),
]


# --- Timing helpers -----------------------------------------------------------------------------


@dataclass
class _Days:
    """`Window.daily` once per program and kind, however many rows a program has."""

    window: Window
    kind: str
    known: dict[int, tuple[date, datetime] | None] = field(default_factory=dict)

    def of(self, program_id: int, zone_name: str) -> tuple[date, datetime] | None:
        if program_id not in self.known:
            self.known[program_id] = self.window.daily(ZoneInfo(zone_name), program_id, self.kind)
        return self.known[program_id]


def _staff(program_ids: Iterable[int]) -> dict[int, list[int]]:
    """Every active director and coordinator of each program, once each: one query."""
    by_program: dict[int, set[int]] = defaultdict(set)
    rows = StaffRole.objects.filter(
        program__in=list(program_ids), role__in=ADMIN_ROLES, user__is_active=True
    ).values_list("program_id", "user_id")
    for program_id, user_id in rows.order_by():
        by_program[program_id].add(user_id)
    return {program_id: sorted(users) for program_id, users in by_program.items()}


def _student_placements(*states: str) -> QuerySet[Placement]:
    """Placements in these states of students still in the program."""
    return Placement.objects.filter(
        state__in=states, enrollment__withdrawn_on__isnull=True, enrollment__student__is_active=True
    )


PLACEMENT_VALUES = {
    "student_id": F("enrollment__student_id"),
    "program_id": F("enrollment__cohort__program_id"),
    "zone": F("enrollment__cohort__program__time_zone"),
    "site_name": F("site__name"),
}


def _hours(value: float) -> str:
    return f"{round(value, 1):g}"


# --- Students -----------------------------------------------------------------------------------


def placements_starting(window: Window) -> Iterator[Due]:
    """A planned or active placement: 7 days before its start date."""
    first, last = window.event_dates(PLACEMENT_STARTING)
    rows: Iterable[Mapping[str, Any]] = (
        _student_placements(*OPEN)
        .filter(start_on__range=(first, last))
        .values("pk", "start_on", "end_on", **PLACEMENT_VALUES)
        .order_by()
    )
    for row in rows:
        for offset, moment in window.offset_days(
            event_on=row["start_on"], zone=ZoneInfo(row["zone"]), program_id=row["program_id"], kind=PLACEMENT_STARTING
        ):
            yield Due(
                recipient_id=row["student_id"],
                kind=PLACEMENT_STARTING,
                subject=f"placement:{row['pk']}",
                occasion=f"{row['start_on'].isoformat()}/{offset}",
                due_at=moment,
                program_id=row["program_id"],
                url=reverse("externships:placement-detail", args=[row["pk"]]),
                context={
                    "site": row["site_name"],
                    "start_on": row["start_on"].isoformat(),
                    "end_on": row["end_on"].isoformat(),
                    "days": offset,
                },
            )


def hours_not_logged(window: Window) -> Iterator[Due]:
    """An active placement with no shift dated after the last one logged (or after the start, with
    none yet) for 7 days: once per gap, on its 7th day, if the placement still runs that day.

    The occasion is the gap's first day, so a new shift starts a new gap (and cancels a reminder of
    the old one not sent yet); a gap that goes on is not reminded of daily."""
    first, last = window.event_dates(HOURS_NOT_LOGGED)
    longest = window.longest(HOURS_NOT_LOGGED)
    rows: Iterable[Mapping[str, Any]] = (
        _student_placements(Placement.State.ACTIVE)
        # PostgreSQL's GREATEST skips a NULL: no shift yet is the start date.
        .annotate(since=Greatest(Max("hours__work_date"), F("start_on")))
        .filter(since__range=(first - timedelta(days=longest), last))
        .values("pk", "end_on", "since", **PLACEMENT_VALUES)
        .order_by()
    )
    for row in rows:
        since: date = row["since"]
        for offset, moment in window.offset_days(
            event_on=since,
            zone=ZoneInfo(row["zone"]),
            program_id=row["program_id"],
            kind=HOURS_NOT_LOGGED,
            before=False,
        ):
            if since + timedelta(days=offset) > row["end_on"]:
                continue
            yield Due(
                recipient_id=row["student_id"],
                kind=HOURS_NOT_LOGGED,
                subject=f"placement:{row['pk']}",
                occasion=f"{since.isoformat()}/{offset}",
                due_at=moment,
                program_id=row["program_id"],
                url=reverse("externships:shift-log", args=[row["pk"]]),
                context={"site": row["site_name"], "since_on": since.isoformat(), "days": offset},
            )


def _iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def hours_behind_pace(window: Window) -> Iterator[Due]:
    """An active placement behind pace, checked every 7 days from its start (start + 7, + 14, …, up to
    the end date), at most once an ISO week (the occasion).

    Behind, on a check day D, is the rule the student's own page shows (`hours.Progress.behind`): the
    hours logged (approved, and submitted waiting for approval) are fewer than a steady pace from the
    start date would have by the morning of D,
        logged < required_hours × (D − start_on) / (end_on − start_on + 1)   (days; both ends counted),
    and the required hours are not all approved yet. Hours equal to the pace are not behind. The
    hours are those logged when planning; the pace is the check day's."""
    first, last = window.event_dates(HOURS_BEHIND_PACE)
    placements = (
        hours_services.with_hours(
            _student_placements(Placement.State.ACTIVE).filter(start_on__lt=last, end_on__gte=first)
        )
        .select_related("enrollment__cohort__program", "site")
        .order_by()
    )
    for placement in placements:
        program = placement.enrollment.cohort.program
        timing = window.timing(program.pk, HOURS_BEHIND_PACE)
        every = min(timing.offsets, default=0)
        if not timing.enabled or every <= 0:
            continue
        zone = ZoneInfo(program.time_zone)
        day, last_day = window.local_days(zone)
        while day <= last_day:
            since_start = (day - placement.start_on).days
            moment = window.at(day, zone, program.pk, HOURS_BEHIND_PACE)
            if (
                since_start > 0
                and since_start % every == 0
                and day <= placement.end_on
                and window.moment_is_due(moment)
            ):
                progress = hours_services.progress_of(placement, today=day)
                if progress.behind:
                    yield Due(
                        recipient_id=placement.enrollment.student_id,
                        kind=HOURS_BEHIND_PACE,
                        subject=f"placement:{placement.pk}",
                        occasion=_iso_week(day),
                        due_at=moment,
                        program_id=program.pk,
                        url=reverse("externships:placement-detail", args=[placement.pk]),
                        context={
                            "site": placement.site.name,
                            "logged": _hours(progress.approved + progress.pending),
                            "required": placement.required_hours,
                            "expected": _hours(progress.expected_by_now),
                            "weekly": _hours(progress.weekly_pace or 0),
                            "end_on": placement.end_on.isoformat(),
                        },
                    )
            day += timedelta(days=1)


def _current_records(since: date) -> QuerySet[ComplianceRecord]:
    """Approved records of required documents still valid on `since`, each the student's latest for
    its requirement: one renewed (another approved record expiring later, or never) is left out."""
    renewed = ComplianceRecord.objects.filter(
        student=OuterRef("student"), requirement=OuterRef("requirement"), state=ComplianceRecord.State.APPROVED
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef("expires_on")))
    return (
        ComplianceRecord.objects.approved_through(since)
        .filter(expires_on__isnull=False, requirement__is_required=True, student__is_active=True)
        .exclude(Exists(renewed))
    )


RECORD_VALUES = {
    "requirement_name": F("requirement__name"),
    "program_id": F("requirement__program_id"),
    "zone": F("requirement__program__time_zone"),
}


def compliance_expiring(window: Window) -> Iterator[Due]:
    """A student's current approved document (see `_current_records`) of a requirement that applies
    to them: 60, 30 and 7 days before it expires.

    A program-wide requirement applies while the student is enrolled (neither withdrawn nor
    graduated); a site's own requirement while they have a planned or active placement there."""
    first, last = window.event_dates(COMPLIANCE_EXPIRING)
    enrolled = Enrollment.objects.current().filter(
        student=OuterRef("student"), cohort__program=OuterRef("requirement__program")
    )
    placed_at_site = Placement.objects.filter(
        enrollment__student=OuterRef("student"), site=OuterRef("requirement__site"), state__in=OPEN
    )
    rows: Iterable[Mapping[str, Any]] = (
        _current_records(first)
        .filter(expires_on__lte=last)
        .filter(Exists(enrolled))
        .filter(Q(requirement__site__isnull=True) | Exists(placed_at_site))
        .values("pk", "expires_on", "student_id", "requirement_id", **RECORD_VALUES)
        .order_by()
    )
    for row in rows:
        for offset, moment in window.offset_days(
            event_on=row["expires_on"],
            zone=ZoneInfo(row["zone"]),
            program_id=row["program_id"],
            kind=COMPLIANCE_EXPIRING,
        ):
            yield _expiring(row, occasion=f"{row['expires_on'].isoformat()}/{offset}", moment=moment, days=offset)
    yield from _expiring_before_placement(window)


def _expiring(row: Mapping[str, Any], *, occasion: str, moment: datetime, days: int) -> Due:
    return Due(
        recipient_id=row["student_id"],
        kind=COMPLIANCE_EXPIRING,
        subject=f"requirement:{row['requirement_id']}",
        occasion=occasion,
        due_at=moment,
        program_id=row["program_id"],
        url=reverse("externships:my-compliance") + f"?requirement={row['requirement_id']}",
        context={"requirement": row["requirement_name"], "expires_on": row["expires_on"].isoformat(), "days": days},
    )


def _expiring_before_placement(window: Window) -> Iterator[Due]:
    """The extra compliance reminder: a current document (`_current_records`) of a requirement that
    applies to a planned or active placement (the placement's program's, or its site's own) expires
    before the placement's end date, but after the day of the reminder.

    Once per placement and requirement (occasion "before-placement:<placement id>"), at the first
    program hour after both the placement was planned and the document approved: a placement planned
    at 9:30 is reminded of at 9:00 the next day."""
    first = window.now.date() - timedelta(days=1)
    placement = "student__enrollments__placements"
    rows: Iterable[Mapping[str, Any]] = (
        _current_records(first)
        # One filter() call: every condition speaks of the same enrollment and placement.
        .filter(
            Q(requirement__site__isnull=True) | Q(requirement__site=F(f"{placement}__site")),
            student__enrollments__withdrawn_on__isnull=True,
            student__enrollments__cohort__program=F("requirement__program"),
            **{f"{placement}__state__in": OPEN, f"{placement}__end_on__gt": F("expires_on")},
        )
        .values(
            "expires_on",
            "student_id",
            "requirement_id",
            "reviewed_at",
            placement_id=F(f"{placement}__pk"),
            planned_at=F(f"{placement}__created_at"),
            **RECORD_VALUES,
        )
        .order_by()
    )
    days = _Days(window, COMPLIANCE_EXPIRING)
    for row in rows:
        found = days.of(row["program_id"], row["zone"])
        if found is None:
            continue
        day, moment = found
        if row["expires_on"] <= day or max(row["planned_at"], row["reviewed_at"]) > moment:
            continue
        yield _expiring(
            row,
            occasion=f"before-placement:{row['placement_id']}",
            moment=moment,
            days=(row["expires_on"] - day).days,
        )


def site_evaluations_due(window: Window) -> Iterator[Due]:
    """The student's evaluation of the site, not submitted yet, for an active or completed placement.

    It is due on the placement's end date, or on the day it was completed if that came first (the
    hours and the final evaluation were in early): reminded on the due day and 3 days after it, if
    still missing. The form opens once the placement is active (`services.evaluations.opening_problem`)."""
    first, last = window.event_dates(SITE_EVALUATION_DUE)
    earliest = first - timedelta(days=window.longest(SITE_EVALUATION_DUE) + 1)
    submitted = Evaluation.objects.filter(placement=OuterRef("pk"), kind=Kind.SITE)
    rows: Iterable[Mapping[str, Any]] = (
        Placement.objects.filter(
            Q(end_on__range=(earliest, last))
            | Q(
                completed_at__range=(
                    datetime.combine(earliest, time.min, tzinfo=UTC),
                    datetime.combine(last, time.max, tzinfo=UTC),
                )
            ),
            state__in=(Placement.State.ACTIVE, Placement.State.COMPLETED),
            enrollment__student__is_active=True,
        )
        .exclude(Exists(submitted))
        .values("pk", "end_on", "completed_at", **PLACEMENT_VALUES)
        .order_by()
    )
    for row in rows:
        zone = ZoneInfo(row["zone"])
        completed_at = row["completed_at"]
        due_on = Kind.SITE.due_on(
            start_on=row["end_on"],
            end_on=row["end_on"],
            completed_on=completed_at.astimezone(zone).date() if completed_at is not None else None,
        )
        for offset, moment in window.offset_days(
            event_on=due_on, zone=zone, program_id=row["program_id"], kind=SITE_EVALUATION_DUE, before=False
        ):
            yield Due(
                recipient_id=row["student_id"],
                kind=SITE_EVALUATION_DUE,
                subject=f"placement:{row['pk']}",
                occasion=f"{due_on.isoformat()}/{offset}",
                due_at=moment,
                program_id=row["program_id"],
                url=reverse("externships:evaluation-new", args=[row["pk"], Kind.SITE]),
                context={"site": row["site_name"], "due_on": due_on.isoformat(), "days": offset},
            )


# --- Preceptors ---------------------------------------------------------------------------------


def hours_awaiting_approval(window: Window) -> Iterator[Due]:
    """A preceptor's shifts waiting for approval that were logged more than 3 days before the
    reminder's moment: one reminder a local day per preceptor and program, with the count.

    A shift waits from when it was logged (`created_at`; a corrected shift keeps its first date).
    Only the placements the preceptor reviews count: active or completed, the preceptor active."""
    newest = window.horizon - timedelta(days=window.shortest(HOURS_AWAITING_APPROVAL))
    rows = (
        HoursEntry.objects.filter(
            state=HoursEntry.State.SUBMITTED,
            created_at__lte=newest,
            placement__state__in=(Placement.State.ACTIVE, Placement.State.COMPLETED),
            placement__preceptor__is_active=True,
            placement__preceptor__user__is_active=True,
        )
        .values_list(
            "placement__preceptor__user_id",
            "placement__enrollment__cohort__program_id",
            "placement__enrollment__cohort__program__time_zone",
            "placement_id",
            "created_at",
        )
        .order_by()
    )
    days = _Days(window, HOURS_AWAITING_APPROVAL)
    waiting: dict[tuple[int, int], list[int]] = defaultdict(list)
    for user_id, program_id, zone, placement_id, created_at in rows:
        found = days.of(program_id, zone)
        if found is None:
            continue
        after = min(window.timing(program_id, HOURS_AWAITING_APPROVAL).offsets, default=0)
        if created_at < found[1] - timedelta(days=after):
            waiting[(user_id, program_id)].append(placement_id)
    home = reverse("home")
    for (user_id, program_id), placements in waiting.items():
        found = days.known[program_id]
        if found is None:  # never: only programs with a moment are counted
            continue
        day, moment = found
        only = set(placements)
        yield Due(
            recipient_id=user_id,
            kind=HOURS_AWAITING_APPROVAL,
            subject=f"program:{program_id}",
            occasion=day.isoformat(),
            due_at=moment,
            program_id=program_id,
            url=reverse("externships:placement-detail", args=[only.pop()]) if len(only) == 1 else home,
            context={"count": len(placements)},
        )


def preceptor_evaluations_due(window: Window) -> Iterator[Due]:
    """The preceptor's midpoint and final evaluations (`PRECEPTOR_KINDS`) of an active placement, not
    submitted yet: on the day each is due. The midpoint is due halfway, start_on + (end_on −
    start_on) // 2 days; the final on the end date."""
    first, last = window.event_dates(PRECEPTOR_EVALUATION_DUE)
    submitted = {
        kind: Exists(Evaluation.objects.filter(placement=OuterRef("pk"), kind=kind)) for kind in PRECEPTOR_KINDS
    }
    rows: Iterable[Mapping[str, Any]] = (
        Placement.objects.filter(
            state=Placement.State.ACTIVE,
            end_on__gte=first,
            start_on__lte=last,
            preceptor__is_active=True,
            preceptor__user__is_active=True,
        )
        .annotate(has_midpoint=submitted[Kind.MIDPOINT], has_final=submitted[Kind.FINAL])
        .filter(Q(has_midpoint=False) | Q(has_final=False))
        .values(
            "pk",
            "start_on",
            "end_on",
            "has_midpoint",
            "has_final",
            preceptor_user_id=F("preceptor__user_id"),
            first_name=F("enrollment__student__first_name"),
            last_name=F("enrollment__student__last_name"),
            **PLACEMENT_VALUES,
        )
        .order_by()
    )
    for row in rows:
        start_on, end_on = row["start_on"], row["end_on"]
        due = {
            Kind.MIDPOINT: (row["has_midpoint"], Kind.MIDPOINT.due_on(start_on=start_on, end_on=end_on)),
            Kind.FINAL: (row["has_final"], Kind.FINAL.due_on(start_on=start_on, end_on=end_on)),
        }
        for kind, (done, due_on) in due.items():
            if done:
                continue
            for offset, moment in window.offset_days(
                event_on=due_on,
                zone=ZoneInfo(row["zone"]),
                program_id=row["program_id"],
                kind=PRECEPTOR_EVALUATION_DUE,
            ):
                yield Due(
                    recipient_id=row["preceptor_user_id"],
                    kind=PRECEPTOR_EVALUATION_DUE,
                    subject=f"placement:{row['pk']}",
                    occasion=f"{kind}/{due_on.isoformat()}/{offset}",
                    due_at=moment,
                    program_id=row["program_id"],
                    url=reverse("externships:evaluation-new", args=[row["pk"], kind]),
                    context={
                        "student": f"{row['first_name']} {row['last_name']}".strip(),
                        "site": row["site_name"],
                        "due_on": due_on.isoformat(),
                        "start_on": start_on.isoformat(),
                        "end_on": end_on.isoformat(),
                        "days": offset,
                    },
                )


# --- Directors and coordinators -------------------------------------------------------------------


def compliance_reviews_waiting(window: Window) -> Iterator[Due]:
    """Documents waiting for review in a program (the review queue), uploaded by the reminder's
    moment: one reminder a local day to each director and coordinator, with the count; none when
    the queue is empty. The offset is how many days a document waits before it counts (0: at once)."""
    newest = window.horizon - timedelta(days=window.shortest(COMPLIANCE_REVIEW_WAITING))
    rows = (
        ComplianceRecord.objects.filter(state=ComplianceRecord.State.PENDING, uploaded_at__lte=newest)
        .values_list(
            "requirement__program_id",
            "requirement__program__time_zone",
            "requirement__program__code",
            "requirement__program__name",
            "uploaded_at",
        )
        .order_by()
    )
    days = _Days(window, COMPLIANCE_REVIEW_WAITING)
    waiting: dict[int, int] = defaultdict(int)
    programs: dict[int, tuple[str, str]] = {}
    for program_id, zone, code, name, uploaded_at in rows:
        found = days.of(program_id, zone)
        if found is None:
            continue
        after = min(window.timing(program_id, COMPLIANCE_REVIEW_WAITING).offsets, default=0)
        if uploaded_at <= found[1] - timedelta(days=after):
            waiting[program_id] += 1
            programs[program_id] = (code, name)
    if not waiting:
        return
    for program_id, recipients in _staff(waiting).items():
        found = days.known[program_id]
        if found is None:  # never: only programs with a moment are counted
            continue
        for user_id in recipients:
            yield Due(
                recipient_id=user_id,
                kind=COMPLIANCE_REVIEW_WAITING,
                subject=f"program:{program_id}",
                occasion=found[0].isoformat(),
                due_at=found[1],
                program_id=program_id,
                url=reverse("externships:compliance-review", args=[programs[program_id][0]]),
                context={"count": waiting[program_id], "program": programs[program_id][1]},
            )


def agreements_expiring(window: Window) -> Iterator[Due]:
    """A site taking students whose affiliation agreement expires: 90 and 30 days before, to every
    director and coordinator of its program."""
    first, last = window.event_dates(AGREEMENT_EXPIRING)
    rows: list[Mapping[str, Any]] = list(
        Site.objects.filter(is_active=True, agreement_expires_on__range=(first, last))
        .values("pk", "name", "agreement_expires_on", "program_id", zone=F("program__time_zone"))
        .order_by()
    )
    staff = _staff({row["program_id"] for row in rows}) if rows else {}
    for row in rows:
        expires_on: date = row["agreement_expires_on"]
        for offset, moment in window.offset_days(
            event_on=expires_on, zone=ZoneInfo(row["zone"]), program_id=row["program_id"], kind=AGREEMENT_EXPIRING
        ):
            for user_id in staff.get(row["program_id"], []):
                yield Due(
                    recipient_id=user_id,
                    kind=AGREEMENT_EXPIRING,
                    subject=f"site:{row['pk']}",
                    occasion=f"{expires_on.isoformat()}/{offset}",
                    due_at=moment,
                    program_id=row["program_id"],
                    url=reverse("externships:site-edit", args=[row["pk"]]),
                    context={"site": row["name"], "expires_on": expires_on.isoformat(), "days": offset},
                )


def students_not_ready(window: Window) -> Iterator[Due]:
    """Students of a program with a planned placement starting within 14 days of the reminder's day
    (or due to have started and not ended) who may not start it: one reminder a local day to each
    director and coordinator, with the count; none when every one of them is ready.

    Ready is the readiness list's (`readiness.cohort_readiness`, the practicum gate for a group of
    students): every P and A competency achieved, every required document valid through the
    placement's end, the site's agreement too. Queries: one for the placements, one for their cohorts,
    the readiness list's five per cohort with such a placement, one for the staff; never per student."""
    first, last = window.event_dates(STUDENTS_NOT_READY)
    rows: Iterable[Mapping[str, Any]] = (
        Placement.objects.filter(
            state=Placement.State.PLANNED,
            start_on__lte=last,
            end_on__gte=first,
            enrollment__withdrawn_on__isnull=True,
            enrollment__graduated_on__isnull=True,
            enrollment__student__is_active=True,
        )
        .values(
            "enrollment_id",
            "start_on",
            "end_on",
            "created_at",
            cohort_id=F("enrollment__cohort_id"),
            program_id=F("enrollment__cohort__program_id"),
            zone=F("enrollment__cohort__program__time_zone"),
        )
        .order_by()
    )
    days = _Days(window, STUDENTS_NOT_READY)
    starting: dict[int, set[int]] = defaultdict(set)  # cohort → enrollments
    for row in rows:
        found = days.of(row["program_id"], row["zone"])
        if found is None:
            continue
        day, moment = found
        ahead = max(window.timing(row["program_id"], STUDENTS_NOT_READY).offsets, default=0)
        if row["start_on"] <= day + timedelta(days=ahead) and row["end_on"] >= day and row["created_at"] <= moment:
            starting[row["cohort_id"]].add(row["enrollment_id"])
    if not starting:
        return
    not_ready: dict[int, int] = defaultdict(int)
    cohorts_of: dict[int, list[int]] = defaultdict(list)
    programs: dict[int, tuple[str, str]] = {}
    for cohort in Cohort.objects.filter(pk__in=list(starting)).select_related("program").order_by("pk"):
        students = readiness.cohort_readiness(
            cohort, Enrollment.objects.current().filter(pk__in=sorted(starting[cohort.pk]))
        )
        missing = sum(1 for student in students if not student.ready)
        if missing:
            not_ready[cohort.program_id] += missing
            cohorts_of[cohort.program_id].append(cohort.pk)
            programs[cohort.program_id] = (cohort.program.code, cohort.program.name)
    if not not_ready:
        return
    for program_id, recipients in _staff(not_ready).items():
        found = days.known[program_id]
        if found is None:  # never: only programs with a moment are counted
            continue
        day, moment = found
        code, name = programs[program_id]
        cohorts = cohorts_of[program_id]
        url = (
            reverse("externships:cohort-readiness", args=[cohorts[0]])
            if len(cohorts) == 1
            else reverse("externships:placement-list", args=[code])
        )
        ahead = max(window.timing(program_id, STUDENTS_NOT_READY).offsets, default=0)
        for user_id in recipients:
            yield Due(
                recipient_id=user_id,
                kind=STUDENTS_NOT_READY,
                subject=f"program:{program_id}",
                occasion=day.isoformat(),
                due_at=moment,
                program_id=program_id,
                url=url,
                context={
                    "count": not_ready[program_id],
                    "program": name,
                    "until_on": (day + timedelta(days=ahead)).isoformat(),
                },
            )


def due(window: Window) -> Iterator[Due]:
    yield from placements_starting(window)
    yield from hours_not_logged(window)
    yield from hours_behind_pace(window)
    yield from compliance_expiring(window)
    yield from site_evaluations_due(window)
    yield from hours_awaiting_approval(window)
    yield from preceptor_evaluations_due(window)
    yield from compliance_reviews_waiting(window)
    yield from agreements_expiring(window)
    yield from students_not_ready(window)
