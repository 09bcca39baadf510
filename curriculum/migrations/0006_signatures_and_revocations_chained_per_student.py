"""Each student's signatures, and each student's revocations, form a keyed hash chain.

A signature's digest covers its attempt; the chain covers the signature rows themselves, so a deleted
signature (or revocation) or one slipped in shows too. Each row names its student, whose chain it is
a link of. The rows already written are sealed here in order (signing or revoking time, then id),
with the sealing logic frozen below rather than imported (it must compute what the app computes: a
test checks it). The immutability triggers are off only while this migration seals the rows.
"""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SIGNATURE_FIELDS = ("attempt_id", "student_id", "signer_id", "signed_at", "meaning", "digest")
REVOCATION_FIELDS = ("signature_id", "student_id", "revoked_by_id", "revoked_at", "reason")


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


def seal_signatures_and_revocations(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        # Foreign keys checked as each statement ends, not at commit: ALTER TABLE below (and the
        # migration's later steps) refuse to run while deferred checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE curriculum_signature DISABLE TRIGGER signature_is_immutable")
        cursor.execute("ALTER TABLE curriculum_revocation DISABLE TRIGGER revocation_is_immutable")
        cursor.execute(
            "UPDATE curriculum_signature AS signature SET student_id = enrollment.student_id "
            "FROM curriculum_attempt AS attempt JOIN curriculum_enrollment AS enrollment "
            "ON enrollment.id = attempt.enrollment_id WHERE attempt.id = signature.attempt_id"
        )
        cursor.execute(
            "UPDATE curriculum_revocation AS revocation SET student_id = signature.student_id "
            "FROM curriculum_signature AS signature WHERE signature.id = revocation.signature_id"
        )
    seal_table(
        connection, table="curriculum_signature", kind="signature", fields=SIGNATURE_FIELDS, order="signed_at"
    )
    seal_table(
        connection, table="curriculum_revocation", kind="revocation", fields=REVOCATION_FIELDS, order="revoked_at"
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE curriculum_signature ENABLE TRIGGER signature_is_immutable")
        cursor.execute("ALTER TABLE curriculum_revocation ENABLE TRIGGER revocation_is_immutable")


def chained(model_name):
    """The fields a chained table gains, nullable until the rows are sealed."""
    return [
        migrations.AddField(
            model_name=model_name,
            name="student",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name=model_name, name="chain_position", field=models.PositiveIntegerField(editable=False, null=True)
        ),
        migrations.AddField(
            model_name=model_name,
            name="chain_digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
    ]


def required(model_name, constraint):
    """Once sealed, every row is a link: the fields are required and a position is held once."""
    return [
        migrations.AlterField(
            model_name=model_name,
            name="student",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AlterField(
            model_name=model_name, name="chain_position", field=models.PositiveIntegerField(editable=False)
        ),
        migrations.AlterField(
            model_name=model_name, name="chain_digest", field=models.CharField(editable=False, max_length=64)
        ),
        migrations.AddConstraint(
            model_name=model_name,
            constraint=models.UniqueConstraint(fields=("student", "chain_position"), name=constraint),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("curriculum", "0005_signed_records_refuse_truncate"),
        ("accounts", "0006_access_log_chained_per_student"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *chained("signature"),
        *chained("revocation"),
        migrations.RunPython(seal_signatures_and_revocations, migrations.RunPython.noop),
        *required("signature", "signature_chain_position_unique"),
        *required("revocation", "revocation_chain_position_unique"),
    ]
