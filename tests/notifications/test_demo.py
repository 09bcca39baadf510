"""The demo `make run` shows: reminders planned from the demo's data, one due at once whatever the
hour, delivered into the demo mailbox by `send_reminders` and shown in the app."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.core.management import call_command
from django.utils import timezone

from curriculum.models import Program
from notifications import planner
from notifications.mail import kept_messages
from notifications.models import Notification, Reminder


@pytest.fixture
def seeded(demo_for_module, db, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "notifications.mail.DemoMailboxBackend"
    settings.DEMO_MAILBOX_DIR = tmp_path / "mail"
    return Program.objects.get(code="MA-DIPLOMA")


@pytest.mark.parametrize("hour", [0, 8, 10, 23])
def test_an_exam_reminder_is_due_at_whatever_hour_the_demo_starts(seeded, hour):
    """The demo books first sittings in 6 and 7 days: before 9:00 the first one's 7-day reminder (yesterday
    at 9:00) is due, from 9:00 the second one's (today at 9:00)."""
    now = datetime.combine(seeded.today(), time(hour), tzinfo=seeded.zone)
    planner.plan(now=now)
    assert Reminder.objects.filter(kind="exam_upcoming", occasion__endswith="/7", due_at__lte=now).exists()


def test_the_demos_reminders_reach_the_mailbox_and_the_app(seeded, capsys):
    planner.plan()
    due = Reminder.objects.filter(kind="exam_upcoming", due_at__lte=timezone.now())
    assert due.exists()
    call_command("send_reminders")
    assert "sent" in capsys.readouterr().out
    assert not Reminder.objects.filter(pk__in=due.values("pk")).exclude(state=Reminder.State.SENT).exists()
    subjects = [message.subject for message in kept_messages()]
    assert any("exam is in 7 days" in subject for subject in subjects)
    assert Notification.objects.filter(kind="exam_upcoming").exists()


def test_planning_the_demo_twice_plans_nothing_new(seeded):
    planner.plan()
    assert planner.plan().planned == 0
