"""A student hears, through the outbox and once, that a document was reviewed or a shift came back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from externships.models import ComplianceRecord
from externships.services import compliance as compliance_services
from externships.services import hours as hours_services
from notifications import services as notifications
from notifications.models import Message, Notification
from tests.externship_factories import ComplianceRecordFactory, RequirementFactory, shift

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    """Senders started after commit (the worker's), counted here rather than run."""
    started: list[bool] = []
    monkeypatch.setattr(notifications, "send_soon", lambda: started.append(True))
    return started


@pytest.fixture
def pending(program, alice):
    return ComplianceRecordFactory(
        student=alice, requirement=RequirementFactory(program=program, name="Hepatitis B"), state="pending"
    )


def test_an_approved_document_tells_the_student(pending, alice, carlos, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.approve_record(record=pending, by=carlos)
    reminder = Message.objects.get(recipient=alice)
    assert reminder.kind == "document_approved" and reminder.state == Message.State.PENDING
    assert queued == [True]
    notifications.send_due()
    [message] = mail.outbox
    assert message.subject == "[Checkoff] Your Hepatitis B document was approved"
    assert "Carlos" in message.body and "/my/compliance/" in message.body


def test_a_rejected_document_gives_the_reason(pending, alice, dana, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.reject_record(record=pending, by=dana, reason="The date is cut off.")
    assert Message.objects.get(recipient=alice).kind == "document_rejected"
    notifications.send_due()
    [message] = mail.outbox
    assert message.subject == "[Checkoff] Your Hepatitis B document was not accepted"
    assert "The date is cut off." in message.body


def test_a_review_that_rolls_back_tells_nobody(pending, carlos, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        compliance_services.approve_record(record=pending, by=carlos)
        raise RuntimeError("something after the review failed")
    assert not Message.objects.exists() and queued == []
    pending.refresh_from_db()
    assert pending.state == ComplianceRecord.State.PENDING


def test_a_returned_shift_tells_the_student_each_time(active, alice, paula, django_capture_on_commit_callbacks):
    entry = shift(active, active.start_on + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        hours_services.return_entry(entry=entry, by=paula, reason="You left at 11")
    notice = Message.objects.get(recipient=alice, kind="shift_returned")
    notifications.send_due()
    notice.refresh_from_db()
    assert notice.state == Message.State.SENT
    notification = Notification.objects.get(recipient=alice)
    assert notification.context["reason"] == "You left at 11"
    assert "Paula" in mail.outbox[0].body
    # Corrected, then returned again: a second message, not refused as a duplicate.
    hours_services.correct_shift(
        entry=entry, by=alice, work_date=entry.work_date, start=entry.starts_at.time(), end=entry.ends_at.time()
    )
    with django_capture_on_commit_callbacks(execute=True):
        hours_services.return_entry(entry=entry, by=paula, reason="Still wrong")
    assert Message.objects.filter(recipient=alice, kind="shift_returned").count() == 2
