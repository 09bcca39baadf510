"""Signed check-offs never change, even through raw SQL.

An attempt, and each of its step results, may change or go only while unsigned. A signature and
a revocation never change once written. Corrections are new rows: a new attempt, a revocation.
"""

from django.db import migrations

REFUSE = """
CREATE OR REPLACE FUNCTION checkoff_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'checkoff: % on % refused: signed records never change; add a new row instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION checkoff_refuse_change_of_signed_attempt() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM curriculum_signature WHERE attempt_id = OLD.id) THEN
        RAISE EXCEPTION 'checkoff: % of signed attempt % refused: signed records never change',
            TG_OP, OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION checkoff_refuse_step_change_of_signed_attempt() RETURNS trigger AS $$
DECLARE
    attempt bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        attempt := NEW.attempt_id;
    ELSE
        attempt := OLD.attempt_id;
    END IF;
    IF EXISTS (SELECT 1 FROM curriculum_signature WHERE attempt_id = attempt)
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM curriculum_signature WHERE attempt_id = NEW.attempt_id)) THEN
        RAISE EXCEPTION 'checkoff: % of a step of signed attempt % refused: signed records never change',
            TG_OP, attempt USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER attempt_signed_is_immutable
    BEFORE UPDATE OR DELETE ON curriculum_attempt
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_change_of_signed_attempt();
CREATE TRIGGER step_result_of_signed_attempt_is_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON curriculum_stepresult
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_step_change_of_signed_attempt();
CREATE TRIGGER signature_is_immutable
    BEFORE UPDATE OR DELETE ON curriculum_signature
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_change();
CREATE TRIGGER revocation_is_immutable
    BEFORE UPDATE OR DELETE ON curriculum_revocation
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS attempt_signed_is_immutable ON curriculum_attempt;
DROP TRIGGER IF EXISTS step_result_of_signed_attempt_is_immutable ON curriculum_stepresult;
DROP TRIGGER IF EXISTS signature_is_immutable ON curriculum_signature;
DROP TRIGGER IF EXISTS revocation_is_immutable ON curriculum_revocation;
DROP FUNCTION IF EXISTS checkoff_refuse_step_change_of_signed_attempt();
DROP FUNCTION IF EXISTS checkoff_refuse_change_of_signed_attempt();
DROP FUNCTION IF EXISTS checkoff_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("curriculum", "0002_competencies")]

    operations = [migrations.RunSQL(REFUSE, ALLOW)]
