"""Evaluations, their answers and hours entries refuse TRUNCATE.

The row triggers of migration 0002 never fire on TRUNCATE, which empties a table at once; a
statement-level BEFORE TRUNCATE trigger refuses it (the function is accounts/0005's). The hours
table holds shifts still waiting too, but a statement cannot tell them apart: emptying it is refused.
"""

from django.db import migrations

TABLES = {
    "externships_evaluation": "evaluation_refuses_truncate",
    "externships_evaluationanswer": "evaluation_answer_refuses_truncate",
    "externships_hoursentry": "hours_refuse_truncate",
}

REFUSE = "\n".join(
    f"CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION checkoff_refuse_truncate();"
    for table, trigger in TABLES.items()
)
ALLOW = "\n".join(f"DROP TRIGGER IF EXISTS {trigger} ON {table};" for table, trigger in TABLES.items())


class Migration(migrations.Migration):
    dependencies = [
        ("externships", "0004_preceptor_welcome_outbox"),
        ("accounts", "0005_append_only_tables_refuse_truncate"),
    ]

    operations = [migrations.RunSQL(REFUSE, ALLOW)]
