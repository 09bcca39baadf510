"""Sending the outbox: once, in the person's language, by the channel they chose; each row fails alone."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.emails import INVITATION
from notifications import services
from notifications.models import Message, Notification, Preference
from tests.notification_factories import MessageFactory

pytestmark = pytest.mark.django_db

State = Message.State
SEND_SOON = services.send_soon


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """A notice starts a sender after commit; here the start is counted, not queued."""
    started: list[bool] = []
    monkeypatch.setattr(services, "send_soon", lambda: started.append(True))
    return started


@pytest.fixture
def refusing(monkeypatch):
    """The test's mail backend refuses the addresses given: each error listed refuses one send, in
    order; then the address is accepted."""
    refusals: dict[str, list[Exception]] = {}
    original = mail.backends.locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        for message in messages:
            errors = refusals.get(message.to[0])
            if errors:
                raise errors.pop(0)
        return original(self, messages)

    monkeypatch.setattr(mail.backends.locmem.EmailBackend, "send_messages", send_messages)
    return refusals


def _refresh(*rows: Message) -> None:
    for row in rows:
        row.refresh_from_db()


def test_a_due_message_is_sent_once_in_the_recipients_language_with_a_link(alice, settings):
    alice.preferred_language = "es"
    alice.save()
    settings.SITE_URL = "https://checkoff.school.test"
    message = MessageFactory(recipient=alice)
    later = MessageFactory(recipient=alice, due_at=timezone.now() + timedelta(hours=1))  # not yet due
    assert services.send_due() == 1
    [email] = mail.outbox
    assert email.to == [alice.email]
    assert email.subject == "[Checkoff] Su examen CMA es en 7 días"
    assert "https://checkoff.school.test/my/certification/" in email.body
    html, mime = email.alternatives[0]
    assert mime == "text/html" and 'href="https://checkoff.school.test/my/certification/"' in html
    assert email.extra_headers["X-Checkoff-Message"] == str(message.pk)
    _refresh(message, later)
    assert (message.state, message.channel, message.attempts, message.claimed_at) == (State.SENT, "email", 1, None)
    assert later.state == State.PENDING
    assert Notification.objects.get(message=message).recipient == alice
    assert services.send_due() == 0  # sent already: nothing more
    assert len(mail.outbox) == 1


def test_two_senders_never_claim_the_same_row(alice, bob):
    rows = [MessageFactory(recipient=person) for person in (alice, bob, alice)]
    now = timezone.now()
    first = services.claim(now=now, limit=2)
    second = services.claim(now=now, limit=2)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert set(first) | set(second) == {row.pk for row in rows}
    assert services.claim(now=now, limit=2) == []


def test_in_app_only_sends_no_mail(alice):
    Preference.objects.create(user=alice, kind="recertification_due", channel="in_app")
    message = MessageFactory(recipient=alice, kind="recertification_due")
    services.send_due()
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=alice).count() == 1
    _refresh(message)
    assert (message.state, message.channel) == (State.SENT, "in_app")


def test_turned_off_sends_nothing_and_says_why(alice):
    Preference.objects.create(user=alice, kind="recertification_due", channel="off")
    message = MessageFactory(recipient=alice, kind="recertification_due")
    services.send_due()
    assert mail.outbox == [] and not Notification.objects.exists()
    _refresh(message)
    assert (message.state, message.last_error) == (State.CANCELLED, "turned off by the recipient")


def test_a_critical_kind_turned_off_in_the_table_still_reaches_the_app(alice):
    Preference.objects.create(user=alice, kind="exam_upcoming", channel="off")  # past the service's refusal
    MessageFactory(recipient=alice)
    services.send_due()
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=alice, kind="exam_upcoming").exists()


def test_an_inactive_recipient_is_cancelled_with_the_reason_never_marked_sent(alice, bob):
    """The bug: an inactive recipient got no letter, yet the row was marked sent by email."""
    alice.is_active = False
    alice.save()
    message = MessageFactory(recipient=alice)
    other = MessageFactory(recipient=bob)
    services.send_due()
    _refresh(message, other)
    assert (message.state, message.channel, message.sent_at) == (State.CANCELLED, "", None)
    assert message.last_error == "the recipient's account is inactive"
    assert not Notification.objects.filter(recipient=alice).exists()
    assert other.state == State.SENT and [email.to for email in mail.outbox] == [[bob.email]]


def test_a_refusal_that_may_pass_later_puts_that_row_off_and_the_rest_go_on(alice, bob, refusing, settings):
    settings.OUTBOX_RETRY_SECONDS = 60
    refusing[alice.email] = [smtplib.SMTPRecipientsRefused({alice.email: (451, b"4.3.0 Try again later")})]
    refused = MessageFactory(recipient=alice)
    other = MessageFactory(recipient=bob)
    before = timezone.now()
    assert services.send_due() == 2
    _refresh(refused, other)
    assert (refused.state, refused.attempts, refused.claimed_at) == (State.PENDING, 1, None)
    assert refused.last_error == "refused by the mail server: 451 4.3.0 Try again later"
    assert before + timedelta(seconds=59) < refused.next_attempt_at < timezone.now() + timedelta(seconds=61)
    assert other.state == State.SENT
    Message.objects.filter(pk=refused.pk).update(next_attempt_at=timezone.now())  # its wait is over
    assert services.send_due() == 1
    _refresh(refused)
    assert (refused.state, refused.attempts, refused.last_error) == (State.SENT, 2, "")
    assert sorted(email.to[0] for email in mail.outbox) == sorted([alice.email, bob.email])


def test_a_permanent_refusal_fails_that_row_at_once(alice, bob, refusing):
    refusing[alice.email] = [smtplib.SMTPRecipientsRefused({alice.email: (550, b"5.1.1 No such user")})]
    refused = MessageFactory(recipient=alice)
    other = MessageFactory(recipient=bob)
    services.send_due()
    _refresh(refused, other)
    assert (refused.state, refused.attempts) == (State.FAILED, 1)
    assert refused.last_error == "refused by the mail server: 550 5.1.1 No such user"
    assert other.state == State.SENT
    assert not Notification.objects.filter(message=refused).exists()


def test_a_row_whose_rendering_raises_fails_alone_after_its_attempts(alice, bob, settings):
    """The bug: an error other than SMTP's left a taken batch "sending", re-queued for ever, and the
    rows behind it never went. Now that row is put off, then failed after the last attempt."""
    settings.OUTBOX_MAX_ATTEMPTS = 3
    poison = MessageFactory(recipient=alice, kind=INVITATION, context={"invitation_id": {"not": "a number"}})
    others = [MessageFactory(recipient=bob) for _ in range(3)]
    for attempt in range(1, 4):
        services.send_due()
        _refresh(poison)
        assert poison.attempts == attempt and poison.claimed_at is None
        assert poison.state == (State.FAILED if attempt == 3 else State.PENDING)
        assert poison.last_error.startswith("TypeError: ")
        Message.objects.filter(pk=poison.pk, state=State.PENDING).update(next_attempt_at=timezone.now())
    assert set(Message.objects.filter(pk__in=[row.pk for row in others]).values_list("state", flat=True)) == {
        State.SENT
    }
    assert len(mail.outbox) == 3


def test_a_header_mail_cannot_carry_fails_that_row_and_the_rest_go_on(alice, bob):
    alice.email = "alice@school.test\r\nBcc: everyone@elsewhere.test"
    alice.save()
    bad = MessageFactory(recipient=alice)
    good = MessageFactory(recipient=bob)
    services.send_due()
    _refresh(bad, good)
    assert bad.state == State.FAILED and "newline" in bad.last_error.lower()
    assert good.state == State.SENT
    assert [email.to for email in mail.outbox] == [[bob.email]]


def test_a_line_break_in_the_context_cannot_add_a_header(alice):
    MessageFactory(recipient=alice, context={"track": "CMA\r\nBcc: everyone@elsewhere.test", "days": 7})
    services.send_due()
    [email] = mail.outbox
    assert "\n" not in email.subject and email.bcc == []
    headers = email.message().as_string().split("\n\n", 1)[0]
    assert not any(line.lower().startswith("bcc:") for line in headers.splitlines())


def test_a_broken_connection_puts_off_the_row_in_hand_and_leaves_the_rest_untried(alice, bob, refusing):
    refusing[alice.email] = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
    first = MessageFactory(recipient=alice)
    rest = [MessageFactory(recipient=bob) for _ in range(2)]
    assert services.send_due() == 1
    _refresh(first, *rest)
    assert (first.state, first.attempts) == (State.PENDING, 1)
    assert [(row.state, row.attempts) for row in rest] == [(State.PENDING, 0)] * 2
    assert mail.outbox == []
    assert services.send_due() == 2  # the untried rows go at the next run; the first waits its turn
    assert len(mail.outbox) == 2


def test_rows_of_a_sender_that_stopped_are_reclaimed_and_that_counts_as_an_attempt(alice, settings):
    settings.OUTBOX_CLAIM_TIMEOUT = 60
    settings.OUTBOX_MAX_ATTEMPTS = 3
    long_ago = timezone.now() - timedelta(minutes=5)
    stopped = MessageFactory(recipient=alice, state=State.SENDING, claimed_at=long_ago, attempts=0)
    last = MessageFactory(recipient=alice, state=State.SENDING, claimed_at=long_ago, attempts=2)
    busy = MessageFactory(recipient=alice, state=State.SENDING, claimed_at=timezone.now())
    assert services.reclaim() == 2
    _refresh(stopped, last, busy)
    assert (stopped.state, stopped.attempts) == (State.PENDING, 1)
    assert (last.state, last.attempts) == (State.FAILED, 3)
    assert last.last_error == "the sender stopped while it held this message"
    assert busy.state == State.SENDING  # a sender is on it right now


def test_an_unknown_kind_fails_with_the_reason(alice):
    message = MessageFactory(recipient=alice, kind="no_such_kind")
    services.send_due()
    _refresh(message)
    assert (message.state, message.last_error) == (State.FAILED, "unknown kind")


def test_resend_makes_a_new_row_and_keeps_the_first(alice, dana, _no_broker, django_capture_on_commit_callbacks):
    first = MessageFactory(recipient=alice, state=State.SENT, sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.resend(message=first, by=dana)
    assert (copy.resent_from, copy.state, copy.occasion) == (first, State.PENDING, f"{first.occasion}/again-1")
    assert _no_broker == [True]
    first.refresh_from_db()
    assert first.state == State.SENT


def test_a_message_not_yet_sent_cannot_be_resent(alice, dana):
    with pytest.raises(Exception, match="has not left yet"):
        services.resend(message=MessageFactory(recipient=alice), by=dana)


def test_a_critical_kind_cannot_be_turned_off(alice):
    with pytest.raises(Exception, match="cannot be turned off"):
        services.set_preferences(user=alice, choices={"exam_upcoming": "off"})
    assert not Preference.objects.exists()
    services.set_preferences(user=alice, choices={"exam_upcoming": "in_app", "recertification_due": "off"})
    assert services.preferences_of(alice) == {"exam_upcoming": "in_app", "recertification_due": "off"} | {
        key: "email" for key in services.preferences_of(alice) if key not in ("exam_upcoming", "recertification_due")
    }


def test_account_emails_are_not_a_choice(alice):
    assert INVITATION not in services.preferences_of(alice)
    with pytest.raises(Exception, match="Unknown kind"):
        services.set_preferences(user=alice, choices={INVITATION: "off"})


def test_the_unread_count_is_cached_and_forgotten_on_change(
    alice, django_assert_num_queries, django_capture_on_commit_callbacks
):
    MessageFactory(recipient=alice)
    assert services.unread_count(alice) == 0
    with django_assert_num_queries(0):
        assert services.unread_count(alice) == 0
    services.send_due()
    assert services.unread_count(alice) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_read(user=alice)
    assert services.unread_count(alice) == 0


def test_notify_writes_one_message_starts_a_sender_after_commit_and_never_twice(
    alice, _no_broker, django_capture_on_commit_callbacks
):
    values = {
        "recipient_id": alice.pk,
        "kind": "exam_upcoming",
        "subject": "exam:1",
        "occasion": "booked",
        "program_id": None,
        "context": {"track": "CMA", "exam_on": "2026-12-15", "location": "X", "days": 14},
        "url": "/my/certification/",
    }
    with django_capture_on_commit_callbacks(execute=True):
        message = services.notify(**values)
    assert message is not None and message.state == State.PENDING and message.next_attempt_at <= timezone.now()
    assert _no_broker == [True]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify(**values) is None
    assert Message.objects.count() == 1 and _no_broker == [True]


def test_notify_inside_a_transaction_that_rolls_back_sends_nothing(
    alice, _no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.notify(
            recipient_id=alice.pk,
            kind="exam_upcoming",
            subject="exam:1",
            occasion="booked",
            program_id=None,
            context={},
            url="",
        )
        raise RuntimeError("the review failed")
    assert _no_broker == [] and not Message.objects.exists()


def test_with_the_broker_down_starting_a_sender_does_not_fail_the_caller(monkeypatch, caplog):
    from notifications import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_outbox, "apply_async", down)
    SEND_SOON()  # the real one, not the fixture's
    assert "waits for beat" in caplog.text
