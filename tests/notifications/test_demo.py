"""The demo `make run` shows: reminders planned from the demo's data, some due at once whatever the
hour, delivered into the demo mailbox by `send_reminders` and shown in the app."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications import planner
from notifications.mail import kept_messages
from notifications.models import Notification, Reminder


@pytest.fixture
def seeded(settings, db, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "notifications.mail.DemoMailboxBackend"
    settings.DEMO_MAILBOX_DIR = tmp_path / "mail"
    call_command("seed_demo")


def test_the_demo_has_an_exam_reminder_due_now_and_it_reaches_the_mailbox(seeded, capsys):
    planner.plan()
    due = Reminder.objects.filter(kind="exam_upcoming", due_at__lte=timezone.now())
    assert due.exists(), "the demo books exams in 7 and 8 days so that one 7-day reminder is due at any hour"
    call_command("send_reminders")
    assert "sent" in capsys.readouterr().out
    assert not Reminder.objects.filter(pk__in=due.values("pk")).exclude(state=Reminder.State.SENT).exists()
    subjects = [message.subject for message in kept_messages()]
    assert any("exam is in 7 days" in subject for subject in subjects)
    assert Notification.objects.filter(kind="exam_upcoming").exists()


def test_planning_the_demo_twice_plans_nothing_new(seeded):
    planner.plan()
    assert planner.plan().planned == 0
