"""Kinds of message, and what a domain app's `reminders.py` yields.

A domain app declares its kinds (`KINDS`) and, for planned reminders, a function `due(window)` yielding
`Due` items; the modules are listed in `settings.REMINDER_PROVIDERS`. Words are lazy translations with
named placeholders filled from the message's context when it is read or sent, in the reader's language.
An account's own email (an invitation, a welcome) names its templates and how to fill them instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.formats import date_format
from django.utils.functional import Promise


@dataclass(frozen=True)
class Kind:
    key: str
    audience: Promise  # who gets it, in words: "Students"
    label: Promise  # the preferences page: "Upcoming certification exam"
    title: Promise  # "%(track)s exam in %(days)s days"
    body: Promise  # one or two sentences
    action: Promise  # the link's words: "See your exams"
    offsets: tuple[int, ...]  # default timing in days; what a day means is the kind's
    offsets_mean: Promise  # "days before the exam"
    send_at: time = time(9, 0)  # local time in the program's zone
    critical: bool = False  # cannot be turned off entirely: always in the app at least
    weekly: bool = False  # a digest: offsets are weekdays (0 = Monday), not days
    event: bool = False  # sent when something happens (services.notify), not planned: no timing
    # An account's own email (an invitation, a welcome): by email only, never in the app, not a choice in
    # the preferences. Its words are its templates (`<template>_subject.txt`, `.txt`, `.html`), filled with
    # the recipient as `user` and what `letter_context(context)` returns when it is sent.
    account: bool = False
    template: str = "emails/reminder"
    letter_context: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def words(self, context: dict[str, Any]) -> dict[str, str]:
        """Title, body and action in the active language, dates in its format."""
        values = {name: _shown(name, value) for name, value in context.items()}
        return {
            "title": _filled(self.title, values),
            "body": _filled(self.body, values),
            "action": str(self.action),
        }


def _shown(name: str, value: Any) -> Any:
    if isinstance(value, str) and name.endswith("_on"):
        try:
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return value


def _filled(words: Promise, values: dict[str, Any]) -> str:
    """`words % values`, not `str(words) % values`: a plural (ngettext_lazy with a named number) picks
    its form from the values. A context that lacks a placeholder (an older reminder, a changed text)
    shows the words unfilled rather than failing the page or the mail."""
    try:
        return str(words % values)
    except (KeyError, TypeError, ValueError):
        try:
            return str(words)
        except (KeyError, TypeError, ValueError):
            return ""


class NotWanted(Exception):
    """Raised by a kind's `letter_context` when its message should no longer leave (the invitation
    was accepted, the preceptor left): the message is cancelled with this reason."""


@dataclass(frozen=True, slots=True)
class Due:
    """One reminder a domain app says is due."""

    recipient_id: int
    kind: str
    subject: str  # what it is about: "exam:42"
    occasion: str  # which reminder of it: "2026-12-15/30" (the event's date and the offset)
    due_at: datetime  # aware; when to send
    program_id: int | None
    url: str = ""
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Timing:
    offsets: tuple[int, ...]
    send_at: time
    enabled: bool


@dataclass
class Window:
    """What the planner asks the domain apps: what is due to be sent up to `horizon`."""

    now: datetime
    horizon: datetime
    timings: dict[tuple[int, str], Timing]  # (program id, kind) → the program's own timing

    def timing(self, program_id: int | None, kind: str) -> Timing:
        own = self.timings.get((program_id or 0, kind))
        if own is not None:
            return own
        default = kind_of(kind)
        return Timing(default.offsets, default.send_at, True)

    def at(self, day: date, zone: ZoneInfo, program_id: int | None, kind: str) -> datetime:
        """The moment to send on a local day: the kind's hour there, whatever the UTC offset that day."""
        return datetime.combine(day, self.timing(program_id, kind).send_at, tzinfo=zone)

    def local_days(self, zone: ZoneInfo) -> tuple[date, date]:
        """The first and last local day whose reminders may be sent by the horizon."""
        return self.now.astimezone(zone).date() - timedelta(days=1), self.horizon.astimezone(zone).date()

    def _offsets_everywhere(self, kind: str) -> list[int]:
        own = [offset for (_program, key), timing in self.timings.items() if key == kind for offset in timing.offsets]
        return [*own, *kind_of(kind).offsets]

    def longest(self, kind: str) -> int:
        """The largest offset any program uses for the kind: how far around today to read rows."""
        return max(self._offsets_everywhere(kind), default=0)

    def shortest(self, kind: str) -> int:
        return min(self._offsets_everywhere(kind), default=0)

    def event_dates(self, kind: str) -> tuple[date, date]:
        """Event dates that may have a reminder "days before" in this window, with margins for time
        zones and for a moment missed by less than a day."""
        return self.now.date() - timedelta(days=2), self.horizon.date() + timedelta(days=self.longest(kind) + 1)

    def moment_is_due(self, moment: datetime) -> bool:
        """In this window: still to come by the horizon, or missed by less than a day (the planner
        was down); one missed by more is never sent late."""
        return self.now - timedelta(days=1) < moment <= self.horizon

    def daily(self, zone: ZoneInfo, program_id: int | None, kind: str) -> tuple[date, datetime] | None:
        """The local day, and its moment at the program's hour, of a daily reminder in this window:
        the latest day whose moment is due; None when the program turned the kind off."""
        if not self.timing(program_id, kind).enabled:
            return None
        first, day = self.local_days(zone)
        while day >= first:
            moment = self.at(day, zone, program_id, kind)
            if self.moment_is_due(moment):
                return day, moment
            day -= timedelta(days=1)
        return None

    def weekdays(self, zone: ZoneInfo, program_id: int | None, kind: str) -> Iterator[tuple[date, datetime]]:
        """Each local day of the window that is one of the kind's weekdays (its offsets, Monday 0),
        with its moment, when that moment is due."""
        timing = self.timing(program_id, kind)
        if not timing.enabled:
            return
        day, last = self.local_days(zone)
        while day <= last:
            if day.weekday() in timing.offsets:
                moment = self.at(day, zone, program_id, kind)
                if self.moment_is_due(moment):
                    yield day, moment
            day += timedelta(days=1)

    def offset_days(
        self, *, event_on: date, zone: ZoneInfo, program_id: int | None, kind: str, before: bool = True
    ) -> Iterator[tuple[int, datetime]]:
        """Each (offset, moment) of an event's reminders that falls in this window and is still useful.

        `before`: the offsets count days before the event (an exam); otherwise after it (a wait).
        A moment missed by less than a day (the planner was down) still goes; older ones never do."""
        timing = self.timing(program_id, kind)
        if not timing.enabled:
            return
        for offset in timing.offsets:
            day = event_on - timedelta(days=offset) if before else event_on + timedelta(days=offset)
            moment = self.at(day, zone, program_id, kind)
            if self.moment_is_due(moment):
                yield offset, moment


@cache
def providers() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(name) for name in settings.REMINDER_PROVIDERS)


@cache
def kinds() -> dict[str, Kind]:
    """Every kind, in the order the providers list them."""
    return {kind.key: kind for module in providers() for kind in module.KINDS}


def kind_of(key: str) -> Kind:
    return kinds()[key]


def timed_kinds() -> dict[str, Kind]:
    """The kinds a program times (days, hour, on or off): all but those sent as things happen."""
    return {key: kind for key, kind in kinds().items() if not kind.event and not kind.account}


def chosen_kinds() -> dict[str, Kind]:
    """The kinds a person chooses how to hear of: all but an account's own emails."""
    return {key: kind for key, kind in kinds().items() if not kind.account}


DueFunction = Callable[[Window], Iterable[Due]]


def due_functions() -> list[DueFunction]:
    return [module.due for module in providers() if hasattr(module, "due")]
