"""Attempts, step results, signatures and revocations refuse TRUNCATE.

The row triggers of migration 0003 never fire on TRUNCATE, which empties a table at once; a
statement-level BEFORE TRUNCATE trigger refuses it (the function is accounts/0005's).
"""

from django.db import migrations

TABLES = {
    "curriculum_attempt": "attempt_refuses_truncate",
    "curriculum_stepresult": "step_result_refuses_truncate",
    "curriculum_signature": "signature_refuses_truncate",
    "curriculum_revocation": "revocation_refuses_truncate",
}

REFUSE = "\n".join(
    f"CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION checkoff_refuse_truncate();"
    for table, trigger in TABLES.items()
)
ALLOW = "\n".join(f"DROP TRIGGER IF EXISTS {trigger} ON {table};" for table, trigger in TABLES.items())


class Migration(migrations.Migration):
    dependencies = [
        ("curriculum", "0004_import_previews_are_stored"),
        ("accounts", "0005_append_only_tables_refuse_truncate"),
    ]

    operations = [migrations.RunSQL(REFUSE, ALLOW)]
