"""Planning: ask every domain app what is due, and write it into the outbox once.

The outbox's unique key (recipient, kind, subject, occasion) makes planning idempotent: running it
twice, or in two beat processes at once, plans nothing new the second time. A pending reminder
whose reason went away before it left (the hours were logged, the document renewed, the exam moved)
is cancelled by the next run; one that comes back is planned again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.kinds import Due, Timing, Window, due_functions
from notifications.models import Reminder, ReminderTiming

logger = logging.getLogger(__name__)

BATCH = 5000


@dataclass
class PlanResult:
    due: int  # what the domain apps said is due by the horizon
    planned: int  # new rows in the outbox
    cancelled: int  # pending rows no longer due
    seconds: float


def window(now: datetime | None = None) -> Window:
    now = now or timezone.now()
    timings = {
        (row.program_id, row.kind): Timing(tuple(row.offsets), row.send_at, row.enabled)
        for row in ReminderTiming.objects.all()
    }
    return Window(now=now, horizon=now + timedelta(seconds=settings.REMINDER_PLAN_AHEAD_SECONDS), timings=timings)


def collect(plan_window: Window) -> list[Due]:
    """Every reminder the domain apps say is due by the horizon, each key once."""
    found: dict[tuple[int, str, str, str], Due] = {}
    for due in due_functions():
        for item in due(plan_window):
            if item.due_at <= plan_window.horizon:
                found.setdefault((item.recipient_id, item.kind, item.subject, item.occasion), item)
    return list(found.values())


INSERT = f"""
INSERT INTO {Reminder._meta.db_table}
    (recipient_id, kind, subject, occasion, program_id, due_at, context, url, state, channel, attempts,
     last_error, created_at)
SELECT recipient_id, kind, subject, occasion, program_id, due_at, context::jsonb, url, 'pending', '', 0, '', %(now)s
FROM unnest(%(recipients)s::bigint[], %(kinds)s::text[], %(subjects)s::text[], %(occasions)s::text[],
            %(programs)s::bigint[], %(due)s::timestamptz[], %(contexts)s::text[], %(urls)s::text[])
     AS due(recipient_id, kind, subject, occasion, program_id, due_at, context, url)
ON CONFLICT (recipient_id, kind, subject, occasion) DO UPDATE
    SET state = 'pending', due_at = EXCLUDED.due_at, context = EXCLUDED.context, url = EXCLUDED.url,
        last_error = ''
    WHERE {Reminder._meta.db_table}.state = 'cancelled'
"""  # noqa: S608 (the table name is ours; every value is a parameter)

CANCEL = f"""
UPDATE {Reminder._meta.db_table} AS reminder
SET state = 'cancelled', last_error = 'no longer due when planned again'
WHERE reminder.state = 'pending' AND reminder.due_at > %(now)s AND reminder.due_at <= %(horizon)s
  AND reminder.resent_from_id IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM unnest(%(recipients)s::bigint[], %(kinds)s::text[], %(subjects)s::text[], %(occasions)s::text[])
         AS due(recipient_id, kind, subject, occasion)
    WHERE due.recipient_id = reminder.recipient_id AND due.kind = reminder.kind
      AND due.subject = reminder.subject AND due.occasion = reminder.occasion
  )
"""  # noqa: S608


def _columns(items: Iterable[Due]) -> dict[str, list[object]]:
    columns: dict[str, list[object]] = {
        name: [] for name in ("recipients", "kinds", "subjects", "occasions", "programs", "due", "contexts", "urls")
    }
    for item in items:
        columns["recipients"].append(item.recipient_id)
        columns["kinds"].append(item.kind)
        columns["subjects"].append(item.subject)
        columns["occasions"].append(item.occasion)
        columns["programs"].append(item.program_id)
        columns["due"].append(item.due_at)
        columns["contexts"].append(json.dumps(item.context, default=str))
        columns["urls"].append(item.url)
    return columns


def write(items: list[Due], *, now: datetime, horizon: datetime) -> tuple[int, int]:
    """Insert the new, revive the cancelled that are due again, cancel the pending no longer due
    (only those still in the future: one due now is the dispatcher's). Returns (planned, cancelled)."""
    planned = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(items), BATCH):
            cursor.execute(INSERT, {"now": now, **_columns(items[start : start + BATCH])})
            planned += cursor.rowcount
        keys = _columns(items)
        cursor.execute(
            CANCEL,
            {
                "now": now,
                "horizon": horizon,
                **{name: keys[name] for name in ("recipients", "kinds", "subjects", "occasions")},
            },
        )
        cancelled = cursor.rowcount
    return planned, cancelled


def plan(now: datetime | None = None) -> PlanResult:
    """One planning run: what is due by the horizon goes into the outbox, once."""
    started = timezone.now()
    plan_window = window(now)
    items = collect(plan_window)
    planned, cancelled = write(items, now=plan_window.now, horizon=plan_window.horizon)
    result = PlanResult(
        due=len(items), planned=planned, cancelled=cancelled, seconds=(timezone.now() - started).total_seconds()
    )
    logger.info("Planned %d new reminders of %d due (%d cancelled)", planned, len(items), cancelled)
    return result
