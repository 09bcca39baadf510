"""Sending the outbox: once, in the person's language, by the channel they chose."""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Notification, Preference, Reminder
from tests.notification_factories import ReminderFactory

pytestmark = pytest.mark.django_db

State = Reminder.State


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Claimed rows are queued after commit; here the queue is a list the test reads."""
    queued: list[list[int]] = []
    monkeypatch.setattr(services, "enqueue", lambda ids: queued.append(list(ids)))
    return queued


def _queued(reminder: Reminder) -> Reminder:
    Reminder.objects.filter(pk=reminder.pk).update(state=State.QUEUED, queued_at=timezone.now())
    return reminder


def test_a_due_reminder_is_claimed_once_and_queued_after_commit(alice, _no_broker, django_capture_on_commit_callbacks):
    reminder = ReminderFactory(recipient=alice)
    ReminderFactory(recipient=alice, due_at=timezone.now() + timedelta(hours=1))  # not yet due
    with django_capture_on_commit_callbacks(execute=True):
        assert services.dispatch_due() == 1
    assert _no_broker == [[reminder.pk]]
    reminder.refresh_from_db()
    assert reminder.state == State.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        assert services.dispatch_due() == 0  # claimed already


def test_a_claim_that_rolls_back_queues_nothing(alice, _no_broker, django_capture_on_commit_callbacks):
    reminder = ReminderFactory(recipient=alice)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.claim_due()
        raise RuntimeError("the surrounding work failed")
    assert _no_broker == []
    reminder.refresh_from_db()
    assert reminder.state == State.PENDING


def test_sending_mails_in_the_recipients_language_with_a_link(alice, settings):
    alice.preferred_language = "es"
    alice.save()
    settings.SITE_URL = "https://checkoff.school.test"
    reminder = _queued(ReminderFactory(recipient=alice))
    assert services.send_reminders([reminder.pk]) == 1
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert message.subject == "[Checkoff] Su examen CMA es en 7 días"
    assert "https://checkoff.school.test/my/certification/" in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and 'href="https://checkoff.school.test/my/certification/"' in html
    assert message.extra_headers["X-Checkoff-Reminder"] == str(reminder.pk)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.channel, reminder.attempts) == (State.SENT, "email", 1)
    assert Notification.objects.get(reminder=reminder).recipient == alice


def test_sending_twice_sends_once(alice):
    reminder = _queued(ReminderFactory(recipient=alice))
    assert services.send_reminders([reminder.pk]) == 1
    assert services.send_reminders([reminder.pk]) == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_in_app_only_sends_no_mail(alice):
    Preference.objects.create(user=alice, kind="recertification_due", channel="in_app")
    reminder = _queued(ReminderFactory(recipient=alice, kind="recertification_due"))
    services.send_reminders([reminder.pk])
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=alice).count() == 1
    reminder.refresh_from_db()
    assert (reminder.state, reminder.channel) == (State.SENT, "in_app")


def test_turned_off_sends_nothing_and_says_why(alice):
    Preference.objects.create(user=alice, kind="recertification_due", channel="off")
    reminder = _queued(ReminderFactory(recipient=alice, kind="recertification_due"))
    services.send_reminders([reminder.pk])
    assert mail.outbox == [] and not Notification.objects.exists()
    reminder.refresh_from_db()
    assert (reminder.state, reminder.last_error) == (State.CANCELLED, "turned off by the recipient")


def test_a_critical_kind_turned_off_in_the_table_still_reaches_the_app(alice):
    Preference.objects.create(user=alice, kind="exam_upcoming", channel="off")  # past the service's refusal
    reminder = _queued(ReminderFactory(recipient=alice))
    services.send_reminders([reminder.pk])
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=alice, kind="exam_upcoming").exists()


def test_a_mail_failure_puts_the_row_back_and_raises_for_a_retry(alice, monkeypatch):
    reminder = _queued(ReminderFactory(recipient=alice))

    def refuse(self, messages):
        raise SMTPException("451 try again later")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with pytest.raises(SMTPException):
        services.send_reminders([reminder.pk])
    reminder.refresh_from_db()
    assert (reminder.state, reminder.last_error) == (State.QUEUED, "SMTPException: 451 try again later")
    services.send_reminders([reminder.pk], final_try=True)
    reminder.refresh_from_db()
    assert reminder.state == State.FAILED
    assert not Notification.objects.exists()


def test_the_sweeper_requeues_rows_stuck_in_flight(alice, _no_broker, settings, django_capture_on_commit_callbacks):
    settings.REMINDER_STALE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    lost = ReminderFactory(recipient=alice, state=State.QUEUED, queued_at=long_ago)
    dying = ReminderFactory(recipient=alice, state=State.SENDING, queued_at=long_ago, started_at=long_ago)
    fresh = ReminderFactory(recipient=alice, state=State.SENDING, queued_at=long_ago, started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep() == 2
    assert sorted(_no_broker[0]) == sorted([lost.pk, dying.pk])
    fresh.refresh_from_db()
    assert fresh.state == State.SENDING  # a worker is on it right now


def test_resend_makes_a_new_row_and_keeps_the_first(alice, dana, _no_broker, django_capture_on_commit_callbacks):
    first = ReminderFactory(recipient=alice, state=State.SENT, sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.resend(reminder=first, by=dana)
    assert (copy.resent_from, copy.state, copy.occasion) == (first, State.QUEUED, f"{first.occasion}/again-1")
    assert _no_broker == [[copy.pk]]
    first.refresh_from_db()
    assert first.state == State.SENT


def test_a_reminder_not_yet_sent_cannot_be_resent(alice, dana):
    with pytest.raises(Exception, match="has not left yet"):
        services.resend(reminder=ReminderFactory(recipient=alice), by=dana)


def test_a_critical_kind_cannot_be_turned_off(alice):
    with pytest.raises(Exception, match="cannot be turned off"):
        services.set_preferences(user=alice, choices={"exam_upcoming": "off"})
    assert not Preference.objects.exists()
    services.set_preferences(user=alice, choices={"exam_upcoming": "in_app", "recertification_due": "off"})
    assert services.preferences_of(alice) == {"exam_upcoming": "in_app", "recertification_due": "off"} | {
        key: "email" for key in services.preferences_of(alice) if key not in ("exam_upcoming", "recertification_due")
    }


def test_the_unread_count_is_cached_and_forgotten_on_change(
    alice, django_assert_num_queries, django_capture_on_commit_callbacks
):
    reminder = _queued(ReminderFactory(recipient=alice))
    assert services.unread_count(alice) == 0
    with django_assert_num_queries(0):
        assert services.unread_count(alice) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders([reminder.pk])
    assert services.unread_count(alice) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_read(user=alice)
    assert services.unread_count(alice) == 0


def test_notify_queues_one_message_after_commit_and_never_twice(alice, _no_broker, django_capture_on_commit_callbacks):
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
        reminder = services.notify(**values)
    assert reminder is not None and reminder.state == State.QUEUED
    assert _no_broker == [[reminder.pk]]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify(**values) is None
    assert Reminder.objects.count() == 1 and len(_no_broker) == 1


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
    assert _no_broker == [] and not Reminder.objects.exists()


def test_the_connection_commits_as_usual_after_a_batch(alice):
    from django.db import connection

    reminder = _queued(ReminderFactory(recipient=alice))
    services.send_reminders([reminder.pk])
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


def test_an_address_mail_cannot_carry_fails_that_row_and_the_rest_go_on(alice, bob):
    bad = _queued(ReminderFactory(recipient=alice))
    alice.email = "alice@school.test\r\nBcc: everyone@elsewhere.test"
    alice.save()
    good = _queued(ReminderFactory(recipient=bob))
    assert services.send_reminders([bad.pk, good.pk]) == 1
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.state == State.FAILED and "newlines" in bad.last_error
    assert good.state == State.SENT
    assert [message.to for message in mail.outbox] == [[bob.email]]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_marks_are_made_beside_the_mails_on_their_own_connection(alice, bob):
    """Production's path: each mark committed by a second thread while the next envelope is sent."""
    ids = [_queued(ReminderFactory(recipient=person)).pk for person in (alice, bob, alice)]
    assert services.send_reminders(ids) == 3
    assert set(Reminder.objects.values_list("state", flat=True)) == {State.SENT}
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 3
    assert services.send_reminders(ids) == 0  # run twice: nothing more
    assert len(mail.outbox) == 3
