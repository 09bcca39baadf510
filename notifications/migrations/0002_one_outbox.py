"""One outbox for every message: the reminder table becomes `Message`, claimed by one sender.

Rows in flight under the old design (queued, or sending) wait again: the new sender claims them. A
row's program becomes a real foreign key; a row naming a program that no longer exists keeps none.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("curriculum", "0010_imports_apply_in_the_background"),
        ("notifications", "0001_reminders"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="reminder", name="reminder_pending_due"),
        migrations.RemoveIndex(model_name="reminder", name="reminder_in_flight"),
        migrations.RemoveConstraint(model_name="reminder", name="reminder_planned_once"),
        migrations.RemoveConstraint(model_name="reminder", name="reminder_sent_has_time"),
        migrations.RenameModel(old_name="Reminder", new_name="Message"),
        migrations.RenameField(model_name="notification", old_name="reminder", new_name="message"),
        migrations.RenameField(model_name="message", old_name="started_at", new_name="claimed_at"),
        migrations.AddField(
            model_name="message",
            name="next_attempt_at",
            field=models.DateTimeField(null=True, verbose_name="next attempt"),
        ),
        # The foreign keys' checks run as each statement ends (not at commit): the table is altered next,
        # which PostgreSQL refuses while checks are still pending.
        migrations.RunSQL(
            "SET CONSTRAINTS ALL IMMEDIATE; "
            "UPDATE notifications_message SET next_attempt_at = due_at, "
            "state = CASE WHEN state IN ('queued', 'sending') THEN 'pending' ELSE state END, "
            "claimed_at = NULL; "
            "SET CONSTRAINTS ALL DEFERRED",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="message",
            name="next_attempt_at",
            field=models.DateTimeField(verbose_name="next attempt"),
        ),
        migrations.RemoveField(model_name="message", name="queued_at"),
        migrations.RenameField(model_name="message", old_name="program_id", new_name="old_program_id"),
        migrations.AddField(
            model_name="message",
            name="program",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="curriculum.program",
                verbose_name="program",
            ),
        ),
        migrations.RunSQL(
            "SET CONSTRAINTS ALL IMMEDIATE; "
            "UPDATE notifications_message AS message SET program_id = message.old_program_id "
            "WHERE EXISTS (SELECT 1 FROM curriculum_program AS program WHERE program.id = message.old_program_id); "
            "SET CONSTRAINTS ALL DEFERRED",
            "SET CONSTRAINTS ALL IMMEDIATE; "
            "UPDATE notifications_message SET old_program_id = program_id; "
            "SET CONSTRAINTS ALL DEFERRED",
        ),
        migrations.RemoveField(model_name="message", name="old_program_id"),
        migrations.AlterField(
            model_name="message",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=10,
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="occasion",
            field=models.CharField(help_text="Which message of it, e.g. 30d.", max_length=100, verbose_name="occasion"),
        ),
        migrations.AlterField(
            model_name="message",
            name="recipient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to=settings.AUTH_USER_MODEL,
                verbose_name="recipient",
            ),
        ),
        migrations.AlterModelOptions(
            name="message",
            options={"ordering": ["-due_at", "-pk"], "verbose_name": "message", "verbose_name_plural": "messages"},
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("recipient", "kind", "subject", "occasion"), name="message_once"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("state", "sent"), _negated=True), ("sent_at__isnull", False), _connector="OR"),
                name="message_sent_has_time",
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(condition=models.Q(("state", "pending")), fields=["next_attempt_at"], name="message_pending_next"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(condition=models.Q(("state", "sending")), fields=["claimed_at"], name="message_sending_since"),
        ),
    ]
