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
from notifications.models import Message, ReminderTiming

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


# The rows travel as one JSON document: binding ten thousand values of eight arrays one by one cost
# more than the statement itself (`make bench reminders`).
INSERT = f"""
INSERT INTO {Message._meta.db_table}
    (recipient_id, kind, subject, occasion, program_id, due_at, next_attempt_at, context, url, state, channel,
     attempts, last_error, created_at)
SELECT recipient_id, kind, subject, occasion, program_id, due_at, due_at, context, url, 'pending', '', 0, '', %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb)
     AS due(recipient_id bigint, kind text, subject text, occasion text, program_id bigint,
            due_at timestamptz, context jsonb, url text)
ON CONFLICT (recipient_id, kind, subject, occasion) DO UPDATE
    SET state = 'pending', due_at = EXCLUDED.due_at, next_attempt_at = EXCLUDED.due_at, context = EXCLUDED.context,
        url = EXCLUDED.url, attempts = 0, last_error = ''
    WHERE {Message._meta.db_table}.state = 'cancelled'
"""  # noqa: S608 (the table name is ours; every value is a parameter)

CANCEL = f"""
UPDATE {Message._meta.db_table} AS message
SET state = 'cancelled', last_error = 'no longer due when planned again'
WHERE message.state = 'pending' AND message.due_at > %(now)s AND message.due_at <= %(horizon)s
  AND message.resent_from_id IS NULL
  AND NOT EXISTS (
    SELECT 1
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS due(recipient_id bigint, kind text, subject text, occasion text)
    WHERE due.recipient_id = message.recipient_id AND due.kind = message.kind
      AND due.subject = message.subject AND due.occasion = message.occasion
  )
"""  # noqa: S608


def _document(items: Iterable[Due], *, keys_only: bool = False) -> str:
    if keys_only:
        rows = [
            {"recipient_id": item.recipient_id, "kind": item.kind, "subject": item.subject, "occasion": item.occasion}
            for item in items
        ]
    else:
        rows = [
            {
                "recipient_id": item.recipient_id,
                "kind": item.kind,
                "subject": item.subject,
                "occasion": item.occasion,
                "program_id": item.program_id,
                "due_at": item.due_at.isoformat(),
                "context": item.context,
                "url": item.url,
            }
            for item in items
        ]
    return json.dumps(rows, default=str)


def write(items: list[Due], *, now: datetime, horizon: datetime) -> tuple[int, int]:
    """Insert the new, revive the cancelled that are due again, cancel the pending no longer due
    (only those still in the future: one due now is the sender's). Returns (planned, cancelled)."""
    planned = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(items), BATCH):
            cursor.execute(INSERT, {"now": now, "rows": _document(items[start : start + BATCH])})
            planned += cursor.rowcount
        cursor.execute(CANCEL, {"now": now, "horizon": horizon, "rows": _document(items, keys_only=True)})
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
