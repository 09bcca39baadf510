"""The outbox: writing what should leave for someone, sending it once, and the person's side
(preferences, reading notifications).

Every message a person gets (a reminder, an event notice, an invitation, a welcome) is a row of
`Message`. One sender (`send_due`, run by a task that beat starts every few seconds and `notify` starts
after commit) claims due rows with `FOR UPDATE SKIP LOCKED`, sends each through Django's email backend
on one connection, and marks it in the same thread, so two senders never hold the same row. A row
whose sending fails is tried again later (`next_attempt_at`) and fails, with its reason, after
`OUTBOX_MAX_ATTEMPTS`; the others go on. A sender that dies leaves its rows "sending": `reclaim`
gives them back once their claim is older than `OUTBOX_CLAIM_TIMEOUT`, and that counts as an attempt.
At most one message per dead sender is sent twice: the one whose mail had left when it died.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from config import bulk
from notifications.kinds import Kind, NotWanted, chosen_kinds, kinds
from notifications.models import Message, Notification, Preference, ReminderTiming

logger = logging.getLogger(__name__)

MAX_OFFSET_DAYS = 365
MAX_OFFSETS = 6  # the column's size
HEADER = "X-Checkoff-Message"  # each email names its row: support can find it, tests count by it

Channel = Message.Channel
State = Message.State


# --- Writing to the outbox -----------------------------------------------------------------------


def notify(
    *,
    recipient_id: int,
    kind: str,
    subject: str,
    occasion: str,
    program_id: int | None,
    context: dict[str, Any],
    url: str = "",
) -> Message | None:
    """Tell someone of something that just happened (a document reviewed, a shift returned, an
    account opened): a row due now, sent after the caller's transaction commits, so a rollback sends
    nothing. The same (recipient, kind, subject, occasion) twice is one message: None the second time."""
    now = timezone.now()
    message, created = Message.objects.get_or_create(
        recipient_id=recipient_id,
        kind=kind,
        subject=subject,
        occasion=occasion,
        defaults={"program_id": program_id, "context": context, "url": url, "due_at": now, "next_attempt_at": now},
    )
    if not created:
        return None
    transaction.on_commit(send_soon)
    return message


def notify_many(
    *, kind: str, occasion: str, program_id: int | None, messages: Iterable[tuple[int, str, dict[str, Any]]]
) -> int:
    """Write many new messages of one kind due now (an import's invitations), given as (recipient id,
    subject, context), in one `COPY`, and send them after commit. Their keys must be new: a key written
    before refuses the whole call, as an INSERT would. Returns how many were written."""
    now = timezone.now()
    names = ["recipient_id", "kind", "subject", "occasion", "program_id", "due_at", "next_attempt_at", "context"]
    names += ["url", "state", "channel", "attempts", "last_error", "created_at"]
    rows = [
        (
            recipient_id,
            kind,
            subject,
            occasion,
            program_id,
            now,
            now,
            json.dumps(context),
            "",
            State.PENDING,
            "",
            0,
            "",
            now,
        )
        for recipient_id, subject, context in messages
    ]
    if rows:
        bulk.copy_in(Message, names, rows)
        transaction.on_commit(send_soon)
    return len(rows)


def send_soon() -> None:
    """Start a sender now rather than at beat's next tick. With the broker down, the page or task
    that got here goes on: the rows wait in the outbox, and beat's sender takes them once it is back."""
    from notifications import tasks

    try:
        tasks.send_outbox.apply_async(queue="mail")
    except Exception:
        logger.warning("Could not queue the sender; the outbox waits for beat's next run", exc_info=True)


@transaction.atomic
def resend(*, message: Message, by: User) -> Message:
    """Send a message again, now: a new row beside the first, which stays as it was."""
    if message.state not in (State.SENT, State.FAILED, State.CANCELLED):
        raise ValidationError(_("This message has not left yet; it cannot be sent again."))
    copies = Message.objects.filter(resent_from=message).count()
    now = timezone.now()
    copy = Message.objects.create(
        recipient_id=message.recipient_id,
        kind=message.kind,
        subject=message.subject,
        occasion=f"{message.occasion}/again-{copies + 1}"[:100],
        program_id=message.program_id,
        due_at=now,
        next_attempt_at=now,
        context=message.context,
        url=message.url,
        resent_from=message,
        resent_by=by,
    )
    transaction.on_commit(send_soon)
    return copy


# --- Sending -------------------------------------------------------------------------------------

# The due rows are chosen once, in a CTE: as `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`,
# PostgreSQL may run the subquery again for each row it looks at, each time taking the next unlocked
# rows, and so claim more than n (seen once the test database's plan changed).
CLAIM = f"""
WITH due AS MATERIALIZED (
    SELECT id FROM {Message._meta.db_table}
    WHERE state = 'pending' AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE {Message._meta.db_table} AS message SET state = 'sending', claimed_at = %(now)s
FROM due
WHERE message.id = due.id
RETURNING message.id
"""  # noqa: S608 (our table; every value is a parameter)


def claim(*, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows for this sender, in one statement: another sender skips the rows
    this one has locked, and finds them "sending" once it commits."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, {"now": now, "limit": limit})
        return sorted(row[0] for row in cursor.fetchall())


def reclaim(*, now: datetime | None = None) -> int:
    """Give back the rows of a sender that stopped mid-batch (killed, its machine gone): "sending" for
    longer than the claim timeout. That counts as an attempt; the last one fails the row."""
    now = now or timezone.now()
    stale = Message.objects.filter(
        state=State.SENDING, claimed_at__lt=now - timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT)
    )
    reason = "the sender stopped while it held this message"
    failed = stale.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS - 1).update(
        state=State.FAILED, attempts=F("attempts") + 1, claimed_at=None, last_error=reason
    )
    waiting = stale.update(
        state=State.PENDING, attempts=F("attempts") + 1, claimed_at=None, next_attempt_at=now, last_error=reason
    )
    if failed or waiting:
        logger.warning("Reclaimed %d messages from a stopped sender (%d failed)", failed + waiting, failed)
    return failed + waiting


def send_due(*, batch: int | None = None, seconds: float = 60.0) -> int:
    """Send what is due, batch by batch, for at most about `seconds`. Returns how many rows were
    settled (sent, failed, cancelled or put off)."""
    batch = batch or settings.OUTBOX_BATCH
    started = timezone.now()
    reclaim(now=started)
    done = 0
    mail = get_connection()  # opened by the first email, then kept for the run
    try:
        while True:
            now = timezone.now()
            ids = claim(now=now, limit=batch)
            if not ids:
                break
            settled, connected = send_claimed(ids, mail=mail, claimed_at=now)
            done += settled
            if not connected or len(ids) < batch or (timezone.now() - started).total_seconds() > seconds:
                break  # a broken connection: the next run tries again, not this one row after row
    finally:
        _close_quietly(mail)
    return done


def send_claimed(ids: Sequence[int], *, mail: BaseEmailBackend, claimed_at: datetime) -> tuple[int, bool]:
    """Send each claimed row once, in order; each fails alone. After a broken connection the rest of the
    batch waits for the next run (untried, so no attempt counted). Returns how many rows were settled,
    and whether the mail connection held."""
    rows = list(
        Message.objects.filter(pk__in=ids, state=State.SENDING, claimed_at=claimed_at)
        .select_related("recipient")
        .order_by("next_attempt_at", "pk")  # as claimed
    )
    chosen = {
        (user_id, kind): channel
        for user_id, kind, channel in Preference.objects.filter(
            user_id__in={row.recipient_id for row in rows}
        ).values_list("user_id", "kind", "channel")
    }
    read_by: set[int] = set()
    try:
        for position, message in enumerate(rows):
            try:
                in_app = deliver(message, mail=mail, chosen=chosen)
            except DatabaseError:
                raise  # the database is the one to tell what happened: the row waits for `reclaim`
            except Exception as error:
                broken = _is_broken_connection(error)
                _put_off(message, error)
                if broken:
                    _close_quietly(mail)
                    untried = [row.pk for row in rows[position + 1 :]]
                    Message.objects.filter(pk__in=untried, state=State.SENDING).update(
                        state=State.PENDING, claimed_at=None
                    )
                    return position + 1, False
                continue
            if in_app:
                read_by.add(message.recipient_id)
    finally:
        if read_by:  # the badges count again on their next page
            cache.delete_many([unread_count_key(user_id) for user_id in read_by])
    return len(rows), True


def channel_for(user_id: int, kind: Kind, chosen: dict[tuple[int, str], str]) -> str:
    """The person's choice, or email; a critical kind is never off, only in the app; an account's own
    email always by email."""
    if kind.account:
        return Channel.EMAIL
    channel = chosen.get((user_id, kind.key), Channel.EMAIL)
    if channel == Channel.OFF and kind.critical:
        return Channel.IN_APP
    return channel


def deliver(message: Message, *, mail: BaseEmailBackend, chosen: dict[tuple[int, str], str]) -> bool:
    """Send one claimed row and settle it: sent (with its in-app notification), or cancelled with the
    reason. Raises what sending raised; the caller puts the row off. Returns whether the recipient has
    a new notification in the app."""
    kind = kinds().get(message.kind)
    recipient = message.recipient
    if kind is None:
        _settle(message, State.FAILED, reason="unknown kind")
        return False
    channel = channel_for(recipient.pk, kind, chosen)
    if not recipient.is_active:
        _settle(message, State.CANCELLED, reason="the recipient's account is inactive")
        return False
    if channel == Channel.OFF:
        _settle(message, State.CANCELLED, channel=channel, reason="turned off by the recipient")
        return False
    if channel == Channel.EMAIL:
        if not recipient.email:
            _settle(message, State.CANCELLED, reason="the recipient has no email address")
            return False
        try:
            email = letter(message, kind)
        except NotWanted as reason:
            _settle(message, State.CANCELLED, reason=str(reason))
            return False
        mail.open()  # kept open for the next rows (send_messages closes a connection it opened itself)
        mail.send_messages([email])  # raises on refusal: fail_silently is off
    _mark_sent(message, channel=channel, in_app=not kind.account)
    return not kind.account


def letter(message: Message, kind: Kind) -> EmailMultiAlternatives:
    """The email of a message, rendered now in its recipient's language: a reminder's words with a
    link straight to the thing to do, or an account email's own templates."""
    recipient = message.recipient
    with translation.override(recipient.preferred_language or settings.LANGUAGE_CODE):
        if kind.account:
            context = {"user": recipient, **(kind.letter_context(message.context) if kind.letter_context else {})}
            subject = render_to_string(f"{kind.template}_subject.txt", context).strip()
        else:
            words = kind.words(message.context)
            context = {
                **words,
                "recipient": recipient,
                "url": settings.SITE_URL + message.url if message.url else settings.SITE_URL,
                "preferences_url": settings.SITE_URL + reverse("notifications:preferences"),
            }
            subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + words["title"]
        text = render_to_string(f"{kind.template}.txt", context)
        html = render_to_string(f"{kind.template}.html", context)
    email = EmailMultiAlternatives(
        " ".join(subject.split()), text, to=[recipient.email], headers={HEADER: str(message.pk)}
    )
    email.attach_alternative(html, "text/html")
    return email


# Sent, and in the app, in one statement: both or neither, one round trip and one commit a message.
MARK_SENT = f"""
WITH sent AS (
    UPDATE {Message._meta.db_table}
    SET state = 'sent', sent_at = now(), channel = %(channel)s, attempts = attempts + 1, last_error = '',
        claimed_at = NULL
    WHERE id = %(id)s AND state = 'sending'
    RETURNING id, recipient_id, kind, context, url
)
INSERT INTO {Notification._meta.db_table} (recipient_id, message_id, kind, context, url, created_at)
SELECT recipient_id, id, kind, context, url, now() FROM sent WHERE %(in_app)s
"""  # noqa: S608 (our tables; every value is a parameter)


def _mark_sent(message: Message, *, channel: str, in_app: bool) -> None:
    """Mark the row sent (with its in-app notification), committed before the next row's mail leaves."""
    with connection.cursor() as cursor:
        cursor.execute(MARK_SENT, {"id": message.pk, "channel": channel, "in_app": in_app})


def _settle(message: Message, state: str, *, reason: str, channel: str = "") -> None:
    Message.objects.filter(pk=message.pk, state=State.SENDING).update(
        state=state, channel=channel, last_error=reason[:500], claimed_at=None
    )


def _is_permanent(error: Exception) -> bool:
    """A refusal no later attempt will change: a 5xx reply, or a message mail cannot carry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return isinstance(error, ValueError)  # a header or address mail cannot carry


def _is_broken_connection(error: Exception) -> bool:
    """The connection is gone (the server hung up, a timeout, no route), not this row refused. SMTP's
    own refusals are OSErrors too: they leave the connection usable."""
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _reason(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{code} {reply.decode(errors='replace')}" for code, reply in error.recipients.values())
        return f"refused by the mail server: {detail}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def _put_off(message: Message, error: Exception) -> None:
    """One attempt failed: try again later, with a growing wait, or fail after the last attempt (or at
    once, for a refusal no attempt will change)."""
    attempts = message.attempts + 1
    reason = _reason(error)
    if _is_permanent(error) or attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        state, wait = State.FAILED, 0
        logger.warning("Message %s failed after %d attempts: %s", message.pk, attempts, reason)
    else:
        state, wait = State.PENDING, min(3600, settings.OUTBOX_RETRY_SECONDS * 2 ** (attempts - 1))
        logger.info("Message %s put off %d s after attempt %d: %s", message.pk, wait, attempts, reason)
    Message.objects.filter(pk=message.pk, state=State.SENDING).update(
        state=state,
        attempts=attempts,
        last_error=reason,
        claimed_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
    )


def _close_quietly(mail: BaseEmailBackend) -> None:
    try:
        mail.close()
    except Exception:  # a connection already gone: the next send opens a new one
        logger.debug("Closing a broken mail connection failed", exc_info=True)


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
    known = chosen_kinds()
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
    return {key: chosen.get(key, Channel.EMAIL) for key in chosen_kinds()}


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
