"""Invitations leave through the outbox, a real Celery worker, a real Redis and a real SMTP server, and
survive the broker being down.

Each test starts its own Redis-compatible server as the broker; the worker is a subprocess reading
this test database and sending with Django's SMTP backend to a `MailSink` in this process, which
counts each message by its `X-Checkoff-Message` header."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from accounts import services
from accounts.emails import INVITATION
from accounts.models import User
from notifications import tasks
from notifications.models import Message, Notification
from tests.integration.celery_helpers import Worker, broker_at, environment, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(broker, sink, tmp_path) -> Iterator[Worker]:
    """A worker on this test's database and broker, mailing to the sink; started."""
    process = Worker(environment(broker, sink), tmp_path / "worker.log").start()
    yield process
    process.stop()


def _invitation_message(invitation_id: int) -> Message:
    return Message.objects.get(kind=INVITATION, context__invitation_id=invitation_id)


def test_an_invitation_is_delivered_by_the_worker_after_commit(worker, sink):
    person = User.objects.create_user("real.worker@school.test", first_name="Rosa")
    [invitation] = services.invite_users(users=[person], invited_by=None)  # commits: no surrounding transaction
    message = _invitation_message(invitation.pk)
    assert wait_for(lambda: Message.objects.get(pk=message.pk).state == Message.State.SENT, 45), (
        f"the worker sent nothing within 45 s:\n{worker.tail()}"
    )
    assert sink.message_counts() == {message.pk: 1}
    assert sink.received()[0].recipients == ("real.worker@school.test",)
    assert Message.objects.get(pk=message.pk).attempts == 1
    assert not Notification.objects.exists(), "an invitation is an email, not a notification in the app"


def test_with_the_broker_down_the_invitation_waits_in_the_outbox_until_a_sender_runs(worker, sink, caplog):
    person = User.objects.create_user("broker.down@school.test", first_name="Omar")
    started = time.monotonic()
    with broker_at("redis://127.0.0.1:9/0"):  # nothing listens there
        [invitation] = services.invite_users(users=[person], invited_by=None)
    assert time.monotonic() - started < 15, "a dead broker must not hold the request for long"
    assert "Could not queue the sender" in caplog.text
    message = _invitation_message(invitation.pk)
    assert (message.state, message.attempts) == (Message.State.PENDING, 0)
    assert sink.count == 0

    tasks.send_outbox.apply_async(queue="mail")  # beat's next tick, on the broker that is up
    assert wait_for(lambda: Message.objects.get(pk=message.pk).state == Message.State.SENT, 45), (
        f"the waiting invitation was never sent:\n{worker.tail()}"
    )
    assert sink.message_counts() == {message.pk: 1}
    assert sink.received()[0].recipients == ("broker.down@school.test",)
