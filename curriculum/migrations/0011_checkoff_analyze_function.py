"""A function that gathers the planner's statistics of the app's own tables, callable by the app role.

PostgreSQL lets only a table's owner (or a superuser) ANALYZE it, and on a server set up from
deploy/postgres-roles.sql the app connects as a role that owns nothing: its ANALYZE would be skipped
with a warning. `checkoff_analyze(names)` runs with its owner's rights (SECURITY DEFINER), ANALYZEs
each name that is a table of the app's schema and ignores anything else, so it lends the app exactly
that and no more. Its search_path is pinned to the app's schema, as the trigger functions' are.

Imports call it on the tables they filled (curriculum/imports.py): on a database whose statistics
predate an import, the planner may choose a plan that reads every row of a large table once per row
of another.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION checkoff_analyze(names text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    name text;
    analyzed integer := 0;
BEGIN
    FOREACH name IN ARRAY names LOOP
        IF EXISTS (
            SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = name AND n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ) THEN
            EXECUTE format('ANALYZE %I.%I', current_schema(), name);
            analyzed := analyzed + 1;
        END IF;
    END LOOP;
    RETURN analyzed;
END $$;
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION checkoff_analyze(text[]) SET search_path = %I, pg_temp', current_schema());
END $$;
"""
DROP = "DROP FUNCTION checkoff_analyze(text[]);"


class Migration(migrations.Migration):
    dependencies = [("curriculum", "0010_imports_apply_in_the_background")]

    operations = [migrations.RunSQL(CREATE, DROP)]
