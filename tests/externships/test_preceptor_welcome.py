"""The preceptor's welcome leaves through the outbox: sent once, sent even when the broker was down,
and never to someone deactivated since."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail

from externships.models import Preceptor
from externships.reminders import PRECEPTOR_WELCOME
from externships.services import sites as services
from notifications import services as outbox
from notifications.models import Message, Notification

pytestmark = pytest.mark.django_db


def add_preceptor(site, carlos, email="rosa@clinic.test") -> Preceptor:
    return services.add_preceptor(
        site=site, email=email, first_name="Rosa", last_name="Díaz", title="CMA", phone="", added_by=carlos
    )


def added_with_the_broker_down(site, carlos, capture) -> Preceptor:
    down = mock.patch("notifications.tasks.send_outbox.apply_async", side_effect=ConnectionError("broker down"))
    with down, capture(execute=True):
        return add_preceptor(site, carlos)


def test_the_welcome_is_sent_once_by_email_only_and_shown_in_the_programs_outbox(
    site, carlos, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        preceptor = add_preceptor(site, carlos)
    assert [message.to for message in mail.outbox] == [["rosa@clinic.test"]]
    welcome = Message.objects.get(kind=PRECEPTOR_WELCOME)
    assert (welcome.state, welcome.channel, welcome.program_id) == (Message.State.SENT, "email", site.program_id)
    assert welcome.context == {"preceptor_id": preceptor.pk}
    assert not Notification.objects.exists()  # an account's own email: not in the app
    assert outbox.send_due() == 0  # a second run sends nothing
    assert len(mail.outbox) == 1


def test_a_welcome_the_broker_never_heard_of_is_sent_by_the_next_run(site, carlos, django_capture_on_commit_callbacks):
    added_with_the_broker_down(site, carlos, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert Message.objects.get(kind=PRECEPTOR_WELCOME).state == Message.State.PENDING
    outbox.send_due()  # beat's next run
    outbox.send_due()
    assert [message.to for message in mail.outbox] == [["rosa@clinic.test"]]


def test_a_failed_send_is_tried_again_later(site, carlos, django_capture_on_commit_callbacks):
    added_with_the_broker_down(site, carlos, django_capture_on_commit_callbacks)
    mail_down = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("mail server down")
    )
    with mail_down:
        outbox.send_due()
    welcome = Message.objects.get(kind=PRECEPTOR_WELCOME)
    assert (welcome.state, welcome.attempts, welcome.last_error) == (
        Message.State.PENDING,
        1,
        "OSError: mail server down",
    )


def test_resending_sends_it_again(site, carlos, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        preceptor = add_preceptor(site, carlos)
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_welcome(preceptor=preceptor)
    assert len(mail.outbox) == 2
    assert Message.objects.filter(kind=PRECEPTOR_WELCOME, state=Message.State.SENT).count() == 2


def test_a_preceptor_deactivated_before_it_left_is_not_welcomed(site, carlos, django_capture_on_commit_callbacks):
    preceptor = added_with_the_broker_down(site, carlos, django_capture_on_commit_callbacks)
    services.deactivate_preceptor(preceptor=preceptor)
    outbox.send_due()
    assert mail.outbox == []
    welcome = Message.objects.get(kind=PRECEPTOR_WELCOME)
    assert (welcome.state, welcome.last_error) == (Message.State.CANCELLED, "no longer a preceptor at the site")
