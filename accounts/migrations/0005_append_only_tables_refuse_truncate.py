"""The access log refuses TRUNCATE, as it refuses UPDATE and DELETE.

A row trigger never sees TRUNCATE: it empties a table without deleting rows one by one, so until
now it went around every append-only trigger. A statement-level BEFORE TRUNCATE trigger refuses it.
The function is shared: the other apps' append-only tables use it too (their migrations depend on
this one).
"""

from django.db import migrations

REFUSE = """
CREATE OR REPLACE FUNCTION checkoff_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'checkoff: TRUNCATE of % refused: its records are append-only', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_log_refuses_truncate
    BEFORE TRUNCATE ON accounts_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION checkoff_refuse_truncate();
"""

ALLOW = """
DROP TRIGGER IF EXISTS access_log_refuses_truncate ON accounts_accesslog;
DROP FUNCTION IF EXISTS checkoff_refuse_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_access_log_externship_actions")]

    operations = [migrations.RunSQL(REFUSE, ALLOW)]
