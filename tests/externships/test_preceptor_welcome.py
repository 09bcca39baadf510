"""The preceptor's welcome is its own outbox: sent once, and sent even when the queue lost it."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from externships import tasks
from externships.models import Preceptor
from externships.services import sites as services


def add_preceptor(site, carlos, email="rosa@clinic.test") -> Preceptor:
    return services.add_preceptor(
        site=site, email=email, first_name="Rosa", last_name="Díaz", title="CMA", phone="", added_by=carlos
    )


def added_but_not_sent(site, carlos, capture, **delay) -> Preceptor:
    """Rosa added, her welcome queued into a broker that lost it (or refused it: delay's side effect)."""
    with mock.patch.object(tasks.send_preceptor_welcome, "delay", **delay), capture(execute=True):
        return add_preceptor(site, carlos)


def test_the_welcome_is_sent_once_and_marked(site, carlos, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        preceptor = add_preceptor(site, carlos)
    preceptor.refresh_from_db()
    assert len(mail.outbox) == 1
    assert preceptor.welcome_due_at is None and preceptor.welcome_sent_at is not None
    assert services.send_preceptor_welcome(preceptor_id=preceptor.pk) is False  # a second run sends nothing
    assert len(mail.outbox) == 1


def test_a_welcome_the_queue_lost_is_sent_by_the_sweeper(site, carlos, django_capture_on_commit_callbacks):
    preceptor = added_but_not_sent(
        site, carlos, django_capture_on_commit_callbacks, side_effect=ConnectionError("broker down")
    )
    assert mail.outbox == []
    Preceptor.objects.filter(pk=preceptor.pk).update(welcome_due_at=timezone.now() - timedelta(minutes=5))
    tasks.send_owed_welcomes()
    tasks.send_owed_welcomes()
    assert [message.to for message in mail.outbox] == [["rosa@clinic.test"]]


def test_a_sender_that_died_mid_send_is_taken_over_later(site, carlos, django_capture_on_commit_callbacks):
    preceptor = added_but_not_sent(site, carlos, django_capture_on_commit_callbacks)
    long_ago = timezone.now() - timedelta(minutes=30)
    Preceptor.objects.filter(pk=preceptor.pk).update(welcome_due_at=long_ago, welcome_claimed_at=timezone.now())
    tasks.send_owed_welcomes()
    assert mail.outbox == []  # someone is sending it right now
    Preceptor.objects.filter(pk=preceptor.pk).update(welcome_claimed_at=long_ago)
    tasks.send_owed_welcomes()
    assert len(mail.outbox) == 1


def test_a_failed_send_stays_owed(site, carlos, django_capture_on_commit_callbacks):
    preceptor = added_but_not_sent(site, carlos, django_capture_on_commit_callbacks)
    mail_down = mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("mail server down"))
    with mail_down, pytest.raises(OSError):
        services.send_preceptor_welcome(preceptor_id=preceptor.pk)
    preceptor.refresh_from_db()
    assert preceptor.welcome_due_at is not None and preceptor.welcome_claimed_at is None


def test_resending_owes_it_again(site, carlos, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        preceptor = add_preceptor(site, carlos)
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_welcome(preceptor=preceptor)
    assert len(mail.outbox) == 2


def test_a_deactivated_preceptor_is_not_welcomed(site, carlos, django_capture_on_commit_callbacks):
    preceptor = added_but_not_sent(site, carlos, django_capture_on_commit_callbacks)
    services.deactivate_preceptor(preceptor=preceptor)
    Preceptor.objects.filter(pk=preceptor.pk).update(welcome_due_at=timezone.now() - timedelta(minutes=5))
    tasks.send_owed_welcomes()
    assert mail.outbox == []
