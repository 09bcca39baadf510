"""The trigger functions look their tables up in the app's own schema, never in a temporary one.

An unqualified table name in a function is looked up through the caller's search_path, where
PostgreSQL puts pg_temp first: any role allowed temporary tables could create an empty
temporary table of the same name and so blind the function (an update of a signed row would
then pass). Pinning each function's search_path to the schema it was created in, with pg_temp
last, closes that.
"""

from django.db import migrations

FUNCTIONS = ["checkoff_refuse_change", "checkoff_refuse_change_of_signed_attempt", "checkoff_refuse_step_change_of_signed_attempt"]

PIN = "\n".join(
    f"DO $$ BEGIN EXECUTE format('ALTER FUNCTION {name}() SET search_path = %I, pg_temp', current_schema()); END $$;"
    for name in FUNCTIONS
)
UNPIN = "\n".join(f"ALTER FUNCTION {name}() RESET search_path;" for name in FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [("curriculum", "0006_signatures_and_revocations_chained_per_student")]

    operations = [migrations.RunSQL(PIN, UNPIN)]
