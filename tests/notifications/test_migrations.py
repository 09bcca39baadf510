"""Moving to one outbox: reminders keep their history, rows in flight wait again, and invitations and
welcomes the old design had not sent yet are in the outbox, to be sent by the one sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("notifications", "0001_reminders"),
    ("accounts", "0007_trigger_functions_pin_search_path"),
    ("externships", "0007_trigger_functions_pin_search_path"),
]


def migrate_to(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest() -> list[tuple[str, str]]:
    graph = MigrationExecutor(connection).loader.graph
    return [graph.leaf_nodes(app)[0] for app in ("notifications", "accounts", "externships")]


@pytest.mark.django_db(transaction=True)
def test_the_three_outboxes_become_one():
    apps = migrate_to(BEFORE)
    try:
        User = apps.get_model("accounts", "User")
        Program = apps.get_model("curriculum", "Program")
        Site = apps.get_model("externships", "Site")
        Preceptor = apps.get_model("externships", "Preceptor")
        Invitation = apps.get_model("accounts", "Invitation")
        Reminder = apps.get_model("notifications", "Reminder")
        Notification = apps.get_model("notifications", "Notification")
        now = timezone.now()
        program = Program.objects.create(code="MIG", name="Migrated", accreditor="caahep")
        gone_program_id = program.pk + 1000  # a program deleted since: the old column had no key
        people = {name: User.objects.create(email=f"{name}@migrated.test", password="!") for name in "abcdefg"}
        site = Site.objects.create(program=program, name="Clinic")
        owed = Preceptor.objects.create(site=site, user=people["a"], welcome_due_at=now)
        Preceptor.objects.create(site=Site.objects.create(program=program, name="Other"), user=people["b"])  # welcomed
        unsent = Invitation.objects.create(user=people["c"], created_at=now - timedelta(hours=1))
        Invitation.objects.create(user=people["d"], created_at=now, sent_at=now)  # sent already
        due = {"kind": "exam_upcoming", "subject": "exam:1", "due_at": now - timedelta(minutes=5)}
        Reminder.objects.create(
            recipient=people["e"], occasion="q", state="queued", queued_at=now, program_id=program.pk, **due
        )
        sent = Reminder.objects.create(
            recipient=people["f"],
            occasion="s",
            state="sent",
            sent_at=now,
            channel="email",
            program_id=gone_program_id,
            **due,
        )
        Notification.objects.create(recipient=people["f"], reminder=sent, kind="exam_upcoming")

        apps = migrate_to(latest())
        Message = apps.get_model("notifications", "Message")
        rows = {row.recipient.email[0]: row for row in Message.objects.select_related("recipient")}
        assert set(rows) == {"a", "c", "e", "f"}
        assert (rows["e"].state, rows["e"].next_attempt_at, rows["e"].program_id) == (
            "pending",
            due["due_at"],
            program.pk,
        )
        assert (rows["f"].state, rows["f"].program_id) == ("sent", None)
        assert apps.get_model("notifications", "Notification").objects.get().message_id == rows["f"].pk
        assert (rows["c"].kind, rows["c"].state, rows["c"].context) == (
            "invitation",
            "pending",
            {"invitation_id": unsent.pk},
        )
        assert rows["c"].subject == f"invitation:{unsent.pk}"
        assert (rows["a"].kind, rows["a"].state, rows["a"].program_id) == ("preceptor_welcome", "pending", program.pk)
        assert rows["a"].context == {"preceptor_id": owed.pk}
    finally:
        migrate_to(latest())
