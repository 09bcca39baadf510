"""Delivering the outbox: claim what is due, send it once, sweep what got stuck; and the person's side
(preferences, reading notifications).

Exactly once where it can be had: a row is claimed by one dispatcher (`select_for_update(skip_locked)`),
taken by one worker (a conditional update from queued to sending), and marked sent with its in-app
notification in one transaction. At least once where it cannot: a worker killed after the mail left
and before that transaction commits leaves the row "sending"; the sweeper sends it again. That window
is one reminder per killed worker (the one in hand), since each row is marked as soon as its mail left.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, time, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from notifications.kinds import kind_of, kinds
from notifications.mail import Letter, LetterSender
from notifications.models import Notification, Preference, Reminder, ReminderTiming

logger = logging.getLogger(__name__)

MAX_OFFSET_DAYS = 365
MAX_OFFSETS = 6  # the column's size

Channel = Reminder.Channel
State = Reminder.State


# --- Claiming ------------------------------------------------------------------------------------


def enqueue(reminder_ids: list[int]) -> None:
    """Hand claimed rows to the mail queue. With the broker down, they go back to waiting: the next
    dispatch claims them again, and the page or task that got here goes on."""
    from notifications import tasks

    try:
        tasks.send_reminders.apply_async((reminder_ids,), queue="mail")
    except Exception:
        logger.warning(
            "Could not queue %d reminders; they wait for the next dispatch", len(reminder_ids), exc_info=True
        )
        Reminder.objects.filter(pk__in=reminder_ids, state=State.QUEUED).update(state=State.PENDING, queued_at=None)


def claim_due(*, now: datetime | None = None, batch: int | None = None, enqueue_after_commit: bool = True) -> list[int]:
    """Claim one batch of due reminders and queue it after commit (or leave the sending to the caller).
    Two dispatchers never claim the same row: each skips the rows the other has locked."""
    now = now or timezone.now()
    batch = batch or settings.REMINDER_BATCH
    with transaction.atomic():
        ids = list(
            Reminder.objects.due(now)
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            Reminder.objects.filter(pk__in=ids).update(state=State.QUEUED, queued_at=now)
            if enqueue_after_commit:
                transaction.on_commit(lambda: enqueue(ids))
    return ids


def dispatch_due(*, now: datetime | None = None, limit: int = 50_000) -> int:
    """Claim every due reminder, batch by batch, up to `limit`. Returns how many were claimed.

    A batch the broker refused is back to waiting (see `enqueue`), and would be the next one claimed:
    the run stops there rather than claim it again and again until `limit`."""
    claimed = 0
    while claimed < limit:
        ids = claim_due(now=now)
        handed_back = Reminder.objects.filter(pk__in=ids, state=State.PENDING).count() if ids else 0
        claimed += len(ids) - handed_back
        if handed_back or len(ids) < settings.REMINDER_BATCH:
            break
    return claimed


def sweep(*, now: datetime | None = None) -> int:
    """Re-queue what got stuck: queued with its task lost (the broker lost it, or the enqueue was
    never heard), or sending in a worker that died. Returns how many were re-queued."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.REMINDER_STALE_SECONDS)
    with transaction.atomic():
        ids = list(
            Reminder.objects.filter(
                Q(state=State.QUEUED, queued_at__lt=stale) | Q(state=State.SENDING, started_at__lt=stale)
            )
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:50_000]
        )
        if not ids:
            return 0
        Reminder.objects.filter(pk__in=ids).update(state=State.QUEUED, queued_at=now, started_at=None)
        size = settings.REMINDER_BATCH
        batches = [ids[start : start + size] for start in range(0, len(ids), size)]

        def enqueue_all() -> None:
            for batch in batches:
                enqueue(batch)

        transaction.on_commit(enqueue_all)
    logger.warning("Re-queued %d stuck reminders", len(ids))
    return len(ids)


def notify(
    *,
    recipient_id: int,
    kind: str,
    subject: str,
    occasion: str,
    program_id: int | None,
    context: dict[str, object],
    url: str,
) -> Reminder | None:
    """Tell someone of something that just happened (a document reviewed, a shift returned): a row of
    the outbox due now, queued after the caller's transaction commits, so a rollback sends nothing.
    The same (recipient, kind, subject, occasion) twice is one message; returns None the second time."""
    now = timezone.now()
    Reminder.objects.bulk_create(
        [
            Reminder(
                recipient_id=recipient_id,
                kind=kind,
                subject=subject,
                occasion=occasion,
                program_id=program_id,
                due_at=now,
                context=context,
                url=url,
                state=State.QUEUED,
                queued_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    reminder = Reminder.objects.filter(
        recipient_id=recipient_id, kind=kind, subject=subject, occasion=occasion, queued_at=now
    ).first()
    if reminder is None:  # the same message was sent before: its row has another time
        return None
    transaction.on_commit(lambda: enqueue([reminder.pk]))
    return reminder


# --- Sending -------------------------------------------------------------------------------------


def channel_for(user_id: int, kind: str, chosen: dict[tuple[int, str], str]) -> str:
    """The person's choice, or email; a critical kind is never off, only in the app."""
    channel = chosen.get((user_id, kind), Channel.EMAIL)
    if channel == Channel.OFF and kind_of(kind).critical:
        return Channel.IN_APP
    return channel


def reminder_letter(reminder: Reminder) -> Letter:
    """The email of a reminder, in its recipient's language, with a link straight to the thing to do."""
    recipient = reminder.recipient
    kind = kind_of(reminder.kind)
    with translation.override(recipient.preferred_language or settings.LANGUAGE_CODE):
        words = kind.words(reminder.context)
        context = {
            **words,
            "recipient": recipient,
            "url": settings.SITE_URL + reminder.url if reminder.url else settings.SITE_URL,
            "preferences_url": settings.SITE_URL + reverse("notifications:preferences"),
        }
        text = render_to_string("emails/reminder.txt", context)
        html = render_to_string("emails/reminder.html", context)
    return Letter(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + words["title"],
        text=text,
        html=html,
        to=recipient.email,
        headers={"X-Checkoff-Reminder": str(reminder.pk)},
    )


# Written as SQL: at hundreds of rows a second the ORM's building of these statements was a third of the
# time (`make bench reminders`).
TAKE = f"""
UPDATE {Reminder._meta.db_table} SET state = 'sending', started_at = now()
WHERE id = ANY(%s) AND state = 'queued'
RETURNING id
"""  # noqa: S608 (our table; values are parameters)

MARK_SENT = f"""
WITH sent AS (
    UPDATE {Reminder._meta.db_table}
    SET state = 'sent', sent_at = now(), channel = %s, last_error = '', attempts = attempts + 1
    WHERE id = %s AND state = 'sending'
    RETURNING id, recipient_id, kind, context, url
)
INSERT INTO {Notification._meta.db_table} (recipient_id, reminder_id, kind, context, url, created_at)
SELECT recipient_id, id, kind, context, url, now() FROM sent
ON CONFLICT (reminder_id) DO NOTHING
"""  # noqa: S608


def _take(cursor: CursorWrapper, reminder_ids: Sequence[int]) -> set[int]:
    """This worker takes the batch's rows still waiting for one, in one statement: another worker (or
    this task run twice) finds them taken and skips them. A row taken and not yet mailed when the worker
    dies is no duplicate: its mail never left, and the sweeper brings it back."""
    cursor.execute(TAKE, [list(reminder_ids)])
    return {row[0] for row in cursor.fetchall()}


def _mark_sent(cursor: CursorWrapper, reminder_id: int, channel: str) -> None:
    """Sent, and in the app: one statement, its own commit, so both or neither, and done before the next
    mail leaves. A second run finds the row sent and adds no notification."""
    cursor.execute(MARK_SENT, [channel, reminder_id])


class _Marks:
    """Marks rows sent in a thread of their own, on its own connection, so that one reminder's mark is
    committed while the next one's envelope goes to the SMTP server; `wait` before that next mail's
    content is sent keeps the rule that at most one reminder is ever mailed and not yet marked.

    The thread and its connection live as long as the worker process (opening a connection for each
    batch cost a tenth of the send rate); `stop_marking` closes them. Inside a transaction (the tests'
    own), a second connection could not see the rows: marks are then made here, in order."""

    def __init__(self) -> None:
        self.thread = None if connection.in_atomic_block else _marking_thread()
        self.pending: Future[None] | None = None

    def submit(self, reminder_id: int, channel: str) -> None:
        self.wait()
        if self.thread is None:
            with connection.cursor() as cursor:
                _mark_sent(cursor, reminder_id, channel)
            return
        self.pending = self.thread.submit(_mark_in_this_thread, reminder_id, channel)

    def wait(self) -> None:
        """The last mark committed (or its error raised here)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()


_marking: ThreadPoolExecutor | None = None
_marking_lock = threading.Lock()


def _marking_thread() -> ThreadPoolExecutor:
    global _marking
    with _marking_lock:
        if _marking is None:
            _marking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminder-marks")
        return _marking


def stop_marking() -> None:
    """Close the marking thread's connection and end the thread (a worker shutting down, a test)."""
    global _marking
    with _marking_lock:
        thread, _marking = _marking, None
    if thread is not None:
        thread.submit(_close_this_threads_connection).result()
        thread.shutdown(wait=True)


def _close_this_threads_connection() -> None:
    connection.close()  # looked up in the marking thread: its own connection, not the caller's


def _mark_in_this_thread(reminder_id: int, channel: str) -> None:
    fresh = connection.connection is None
    try:
        with connection.cursor() as cursor:
            if fresh:
                # Commits without waiting for the disk, as the batch's own connection (see send_reminders).
                cursor.execute("SET synchronous_commit TO off")
            _mark_sent(cursor, reminder_id, channel)
    except DatabaseError:
        connection.close()  # the next mark opens a new connection
        raise


def _give_back(reminder_ids: Sequence[int], *, failed: int, reason: str, final_try: bool) -> None:
    """A mail failed: that row gets the reason (and fails, on the last try); the rows taken and not yet
    sent wait for the retry."""
    Reminder.objects.filter(pk=failed).update(
        state=State.FAILED if final_try else State.QUEUED,
        last_error=reason,
        started_at=None,
        attempts=F("attempts") + 1,
    )
    if not final_try:
        Reminder.objects.filter(pk__in=reminder_ids, state=State.SENDING).exclude(pk=failed).update(
            state=State.QUEUED, started_at=None
        )


def send_reminders(reminder_ids: Sequence[int], *, final_try: bool = False) -> int:
    """Send each queued reminder of the batch once, over one mail connection. Returns how many were sent.

    The rows are taken together, then each is mailed and marked sent before the next mail leaves, so a
    worker killed mid-batch can repeat at most the one in hand. A mail failure gives the batch back and
    raises (the task retries with backoff); on the final try that row fails, with the reason, for the
    outbox page, and the rest go on."""
    chosen = {
        (user_id, kind): channel
        for user_id, kind, channel in Preference.objects.filter(user__reminders__pk__in=reminder_ids).values_list(
            "user_id", "kind", "channel"
        )
    }
    # The batch's rows in one query: what a queued reminder says, and to whom, no longer changes.
    rows = Reminder.objects.select_related("recipient").in_bulk(list(reminder_ids))
    known = kinds()
    sent = 0
    sent_to: set[int] = set()
    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="letters")
    marks = _Marks()
    try:
        with get_connection() as mail, connection.cursor() as cursor:
            # This session's commits (the take, each mark) do not wait for the WAL to reach the disk: a
            # killed worker loses none of them (PostgreSQL has them); only a crash of PostgreSQL itself can
            # lose the last fraction of a second of marks, and those reminders are then sent once more,
            # never lost. Waiting for the disk at each mark halved the send rate (`make bench reminders`).
            cursor.execute("SET synchronous_commit TO off")
            taken = _take(cursor, reminder_ids)
            # The letters are written in a second thread while this one waits on SMTP and PostgreSQL:
            # their CPU overlaps those waits. It reads only the rows already fetched; no query.
            sender = LetterSender(mail)
            channels = {
                reminder_id: channel_for(reminder.recipient_id, reminder.kind, chosen)
                for reminder_id, reminder in rows.items()
                if reminder_id in taken and reminder.kind in known
            }
            letters = {
                reminder_id: builder.submit(
                    lambda reminder: sender.prepare(reminder_letter(reminder)), rows[reminder_id]
                )
                for reminder_id in reminder_ids
                if channels.get(reminder_id) == Channel.EMAIL and rows[reminder_id].recipient.is_active
            }
            for reminder_id in reminder_ids:
                reminder = rows.get(reminder_id)
                if reminder is None or reminder_id not in taken:
                    continue
                if reminder.kind not in known:
                    Reminder.objects.filter(pk=reminder_id).update(state=State.FAILED, last_error="unknown kind")
                    continue
                channel = channels[reminder_id]
                if channel == Channel.OFF:
                    Reminder.objects.filter(pk=reminder_id).update(
                        state=State.CANCELLED, channel=channel, last_error="turned off by the recipient"
                    )
                    continue
                if reminder_id in letters:
                    try:
                        prepared = letters[reminder_id].result()
                        sender.begin(prepared)
                        marks.wait()  # the previous reminder is marked before this one's content leaves
                        sender.finish(prepared)
                    except ValueError as error:  # an address or header mail cannot carry: no retry will help
                        marks.wait()
                        Reminder.objects.filter(pk=reminder_id).update(
                            state=State.FAILED, last_error=f"{type(error).__name__}: {error}"[:500]
                        )
                        continue
                    except (SMTPException, OSError) as error:
                        marks.wait()
                        reason = f"{type(error).__name__}: {error}"[:500]
                        _give_back(list(taken), failed=reminder_id, reason=reason, final_try=final_try)
                        if final_try:
                            continue
                        raise
                marks.submit(reminder_id, channel)
                sent += 1
                sent_to.add(reminder.recipient_id)
    finally:
        try:
            marks.wait()
        finally:
            builder.shutdown(wait=True, cancel_futures=True)
            _reset_commit_mode()
            # After the rows are marked (each its own commit): the badges count again on their next page.
            if sent_to:
                cache.delete_many([unread_count_key(user_id) for user_id in sent_to])
    return sent


def _reset_commit_mode() -> None:
    """The worker's connection serves its other tasks next: they commit as usual."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
    except DatabaseError:
        logger.warning("Could not reset synchronous_commit; closing the connection", exc_info=True)
        connection.close()


@transaction.atomic
def resend(*, reminder: Reminder, by: User) -> Reminder:
    """Send a reminder again, now: a new row beside the first, which stays as it was."""
    if reminder.state not in (State.SENT, State.FAILED, State.CANCELLED):
        raise ValidationError(_("This reminder has not left yet; it cannot be sent again."))
    copies = Reminder.objects.filter(resent_from=reminder).count()
    now = timezone.now()
    copy = Reminder.objects.create(
        recipient_id=reminder.recipient_id,
        kind=reminder.kind,
        subject=reminder.subject,
        occasion=f"{reminder.occasion}/again-{copies + 1}"[:100],
        program_id=reminder.program_id,
        due_at=now,
        context=reminder.context,
        url=reminder.url,
        state=State.QUEUED,
        queued_at=now,
        resent_from=reminder,
        resent_by=by,
    )
    transaction.on_commit(lambda: enqueue([copy.pk]))
    return copy


# --- The person's side ---------------------------------------------------------------------------


def unread_count_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def forget_unread_count(user_id: int) -> None:
    cache.delete(unread_count_key(user_id))


def unread_count(user: User) -> int:
    """The navigation's badge: cached, so most pages pay no query for it."""
    count = cache.get(unread_count_key(user.pk))
    if count is None:
        count = Notification.objects.filter(recipient=user).unread().count()
        cache.set(unread_count_key(user.pk), count, timeout=3600)
    return int(count)


def mark_read(*, user: User, notification_ids: Sequence[int] | None = None) -> int:
    """Mark the person's notifications read: the ones named, or all. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user).unread()
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    changed = unread.update(read_at=timezone.now())
    transaction.on_commit(lambda: forget_unread_count(user.pk))
    return changed


@transaction.atomic
def set_preferences(*, user: User, choices: dict[str, str]) -> None:
    """The person's channel for each kind; a critical kind cannot be turned off."""
    known = kinds()
    errors = {}
    for kind, channel in choices.items():
        if kind not in known:
            errors[kind] = _("Unknown kind of reminder.")
        elif channel not in Channel.values:
            errors[kind] = _("Choose email, in the app only, or off.")
        elif channel == Channel.OFF and known[kind].critical:
            errors[kind] = _("%(kind)s reminders cannot be turned off; choose in the app only.") % {
                "kind": known[kind].label
            }
    if errors:
        raise ValidationError(errors)
    for kind, channel in choices.items():
        if channel == Channel.EMAIL:
            Preference.objects.filter(user=user, kind=kind).delete()
        else:
            Preference.objects.update_or_create(user=user, kind=kind, defaults={"channel": channel})


def preferences_of(user: User) -> dict[str, str]:
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "channel"))
    return {key: chosen.get(key, Channel.EMAIL) for key in kinds()}


# --- A program's timings -------------------------------------------------------------------------


@transaction.atomic
def set_timing(
    *, program_id: int, kind: str, offsets: Sequence[int], send_at: time, enabled: bool, by: User
) -> ReminderTiming:
    """A program's own timing of one kind of reminder: the days, the local hour, on or off. A critical
    kind cannot be turned off, nor left without a day."""
    known = kinds()
    if kind not in known:
        raise ValidationError(_("Unknown kind of reminder."))
    problems = []
    if known[kind].critical and not enabled:
        problems.append(_("%(kind)s reminders cannot be turned off.") % {"kind": known[kind].label})
    if not offsets and enabled:
        problems.append(_("Give at least one day, or turn the reminder off."))
    if any(offset < 0 or offset > MAX_OFFSET_DAYS for offset in offsets):
        problems.append(_("Each day must be between 0 and %(maximum)s.") % {"maximum": MAX_OFFSET_DAYS})
    if len(offsets) > MAX_OFFSETS:
        problems.append(_("At most %(count)s days.") % {"count": MAX_OFFSETS})
    if problems:
        raise ValidationError(problems)
    timing, _created = ReminderTiming.objects.update_or_create(
        program_id=program_id,
        kind=kind,
        defaults={
            "offsets": sorted(set(offsets), reverse=True),
            "send_at": send_at,
            "enabled": enabled,
            "updated_by": by,
        },
    )
    return timing
