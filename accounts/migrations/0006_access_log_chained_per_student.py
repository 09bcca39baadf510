"""Each student's access-log rows form a keyed hash chain, with a sealed head per chain.

The rows already written are sealed here, in order (time, then id), so that the chain starts with
the first row ever written. The sealing logic is frozen below rather than imported: a migration
must keep working whatever the app's code becomes. It must compute exactly what
`accounts.models.ChainedRecord.link_digest` and `ChainHead.compute_seal` compute (a test checks
that). Chain heads only grow: a trigger refuses to shorten, move or delete one.
"""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACCESS_LOG_FIELDS = ("actor_id", "student_id", "action", "target", "at", "ip_address", "user_agent")


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


def seal_access_log(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        # Foreign keys checked as each statement ends, not at commit: ALTER TABLE below (and the
        # migration's later steps) refuse to run while deferred checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE accounts_accesslog DISABLE TRIGGER access_log_is_append_only")
    seal_table(connection, table="accounts_accesslog", kind="access_log", fields=ACCESS_LOG_FIELDS, order="at")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accounts_accesslog ENABLE TRIGGER access_log_is_append_only")


HEADS_ONLY_GROW = """
CREATE OR REPLACE FUNCTION checkoff_chain_head_only_grows() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.kind <> OLD.kind OR NEW.student_id <> OLD.student_id
       OR NEW.length <= OLD.length THEN
        RAISE EXCEPTION 'checkoff: % of the % chain head of student % refused: a chain only grows',
            TG_OP, OLD.kind, OLD.student_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER chain_head_only_grows
    BEFORE UPDATE OR DELETE ON accounts_chainhead
    FOR EACH ROW EXECUTE FUNCTION checkoff_chain_head_only_grows();
CREATE TRIGGER chain_head_refuses_truncate
    BEFORE TRUNCATE ON accounts_chainhead
    FOR EACH STATEMENT EXECUTE FUNCTION checkoff_refuse_truncate();
"""

HEADS_ANY_CHANGE = """
DROP TRIGGER IF EXISTS chain_head_refuses_truncate ON accounts_chainhead;
DROP TRIGGER IF EXISTS chain_head_only_grows ON accounts_chainhead;
DROP FUNCTION IF EXISTS checkoff_chain_head_only_grows();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_append_only_tables_refuse_truncate")]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=40)),
                ("length", models.PositiveIntegerField(default=0)),
                ("last_digest", models.CharField(blank=True, max_length=64)),
                ("seal", models.CharField(max_length=64)),
                (
                    "student",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "student"), name="chain_head_once_per_student")
                ],
            },
        ),
        migrations.AddField(
            model_name="accesslog",
            name="chain_position",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="chain_digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(seal_access_log, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accesslog",
            name="chain_position",
            field=models.PositiveIntegerField(editable=False),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="chain_digest",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="accesslog",
            constraint=models.UniqueConstraint(
                fields=("student", "chain_position"), name="access_log_chain_position_unique"
            ),
        ),
        migrations.RunSQL(HEADS_ONLY_GROW, HEADS_ANY_CHANGE),
    ]
