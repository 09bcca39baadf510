"""The access log only grows: a PostgreSQL trigger refuses UPDATE and DELETE, even from raw SQL."""

from django.db import migrations

REFUSE = """
CREATE OR REPLACE FUNCTION checkoff_refuse_log_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'checkoff: % on % refused: the access log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_log_is_append_only
    BEFORE UPDATE OR DELETE ON accounts_accesslog
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_log_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS access_log_is_append_only ON accounts_accesslog;
DROP FUNCTION IF EXISTS checkoff_refuse_log_change();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_access_log")]

    operations = [migrations.RunSQL(REFUSE, ALLOW)]
