"""Each student's evaluations, and each student's hours approvals, form a keyed hash chain.

An evaluation's digest covers its answers; the chain covers the evaluation rows themselves. For
hours, the approval is the event chained: an entry takes its place in the student's chain when it
is approved, and only then (a check constraint says approved exactly when linked). The rows already
written are sealed here in order (submission or approval time, then id), with the sealing logic
frozen below rather than imported (it must compute what the app computes: a test checks it). The
immutability triggers are off only while this migration seals the rows.
"""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

EVALUATION_FIELDS = (
    "placement_id",
    "student_id",
    "kind",
    "evaluator_id",
    "submitted_at",
    "comments",
    "answer_count",
    "meaning",
    "digest",
)
APPROVED_HOURS_FIELDS = (
    "id",
    "placement_id",
    "student_id",
    "work_date",
    "starts_at",
    "ends_at",
    "activity",
    "state",
    "reviewed_by_id",
    "reviewed_at",
)


def keyed_digest(payload):
    content = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(settings.SIGNATURE_KEY.encode(), content, hashlib.sha256).hexdigest()


def chain_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def seal_table(connection, *, table, kind, fields, order, where="TRUE"):
    """Link the table's rows into per-student chains in the given order, and write the heads."""
    columns = ", ".join(fields)
    heads = []
    with connection.chunked_cursor() as rows, connection.cursor() as writer:
        rows.execute(f"SELECT id, student_id, {columns} FROM {table} WHERE {where} ORDER BY student_id, {order}, id")
        student, position, previous, updates = None, 0, "", []
        while batch := rows.fetchmany(2000):
            for row_id, student_id, *values in batch:
                if student_id != student:
                    if student is not None:
                        heads.append((student, position, previous))
                    student, position, previous = student_id, 0, ""
                position += 1
                previous = keyed_digest(
                    {
                        "chain": kind,
                        "student": student_id,
                        "position": position,
                        "previous": previous,
                        "row": [chain_value(value) for value in values],
                    }
                )
                updates.append((position, previous, row_id))
            writer.executemany(f"UPDATE {table} SET chain_position = %s, chain_digest = %s WHERE id = %s", updates)
            updates = []
        if student is not None:
            heads.append((student, position, previous))
        writer.executemany(
            "INSERT INTO accounts_chainhead (kind, student_id, length, last_digest, seal) VALUES (%s, %s, %s, %s, %s)",
            [
                (kind, student_id, length, last, keyed_digest({"head": kind, "student": student_id, "length": length, "last": last}))
                for student_id, length, last in heads
            ],
        )


def seal_evaluations_and_approved_hours(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        # Foreign keys checked as each statement ends, not at commit: ALTER TABLE below (and the
        # migration's later steps) refuse to run while deferred checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE externships_evaluation DISABLE TRIGGER evaluation_is_immutable")
        cursor.execute("ALTER TABLE externships_hoursentry DISABLE TRIGGER hours_approved_is_immutable")
        cursor.execute(
            "UPDATE externships_evaluation AS evaluation SET student_id = enrollment.student_id "
            "FROM externships_placement AS placement JOIN curriculum_enrollment AS enrollment "
            "ON enrollment.id = placement.enrollment_id WHERE placement.id = evaluation.placement_id"
        )
    seal_table(
        connection, table="externships_evaluation", kind="evaluation", fields=EVALUATION_FIELDS, order="submitted_at"
    )
    seal_table(
        connection,
        table="externships_hoursentry",
        kind="approved_hours",
        fields=APPROVED_HOURS_FIELDS,
        order="reviewed_at",
        where="state = 'approved'",
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE externships_evaluation ENABLE TRIGGER evaluation_is_immutable")
        cursor.execute("ALTER TABLE externships_hoursentry ENABLE TRIGGER hours_approved_is_immutable")


class Migration(migrations.Migration):
    dependencies = [
        ("externships", "0005_signed_and_approved_records_refuse_truncate"),
        ("accounts", "0006_access_log_chained_per_student"),
        ("curriculum", "0006_signatures_and_revocations_chained_per_student"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluation",
            name="student",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="chain_position",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="chain_digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="hoursentry",
            name="chain_position",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="hoursentry",
            name="chain_digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(seal_evaluations_and_approved_hours, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="evaluation",
            name="student",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AlterField(
            model_name="evaluation",
            name="chain_position",
            field=models.PositiveIntegerField(editable=False),
        ),
        migrations.AlterField(
            model_name="evaluation",
            name="chain_digest",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="evaluation",
            constraint=models.UniqueConstraint(
                fields=("student", "chain_position"), name="evaluation_chain_position_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="hoursentry",
            constraint=models.CheckConstraint(
                condition=Q(state="approved", chain_position__isnull=False, chain_digest__isnull=False)
                | (~Q(state="approved") & Q(chain_position__isnull=True, chain_digest__isnull=True)),
                name="hours_approved_is_linked",
            ),
        ),
        migrations.AddConstraint(
            model_name="hoursentry",
            constraint=models.UniqueConstraint(fields=("student", "chain_position"), name="hours_chain_position_unique"),
        ),
    ]
