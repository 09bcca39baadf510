"""Approved hours and submitted evaluations never change, even through raw SQL.

An hours entry may change or go while waiting for approval or returned; once approved it is locked.
An evaluation and its answers never change once written, and an evaluation takes no answer beyond
the number it was submitted with. Corrections are new rows.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION checkoff_refuse_change_of_approved_hours() RETURNS trigger AS $$
BEGIN
    IF OLD.state = 'approved' THEN
        RAISE EXCEPTION 'checkoff: % of approved hours entry % refused: approved hours never change',
            TG_OP, OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION checkoff_refuse_late_evaluation_answer() RETURNS trigger AS $$
BEGIN
    IF (SELECT count(*) FROM externships_evaluationanswer WHERE evaluation_id = NEW.evaluation_id)
       >= (SELECT answer_count FROM externships_evaluation WHERE id = NEW.evaluation_id) THEN
        RAISE EXCEPTION 'checkoff: answer added to submitted evaluation % refused: signed records never change',
            NEW.evaluation_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER hours_approved_is_immutable
    BEFORE UPDATE OR DELETE ON externships_hoursentry
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_change_of_approved_hours();
CREATE TRIGGER evaluation_is_immutable
    BEFORE UPDATE OR DELETE ON externships_evaluation
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_change();
CREATE TRIGGER evaluation_answer_is_immutable
    BEFORE UPDATE OR DELETE ON externships_evaluationanswer
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_change();
CREATE TRIGGER evaluation_answer_only_while_submitting
    BEFORE INSERT ON externships_evaluationanswer
    FOR EACH ROW EXECUTE FUNCTION checkoff_refuse_late_evaluation_answer();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS evaluation_answer_only_while_submitting ON externships_evaluationanswer;
DROP TRIGGER IF EXISTS evaluation_answer_is_immutable ON externships_evaluationanswer;
DROP TRIGGER IF EXISTS evaluation_is_immutable ON externships_evaluation;
DROP TRIGGER IF EXISTS hours_approved_is_immutable ON externships_hoursentry;
DROP FUNCTION IF EXISTS checkoff_refuse_late_evaluation_answer();
DROP FUNCTION IF EXISTS checkoff_refuse_change_of_approved_hours();
"""


def install_defaults(apps, schema_editor):
    """Programs that exist before this app get the reference requirements and forms too."""
    from externships import defaults

    for program in apps.get_model("curriculum", "Program").objects.all():
        defaults.install(
            program,
            requirement_model=apps.get_model("externships", "ComplianceRequirement"),
            item_model=apps.get_model("externships", "EvaluationItem"),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("externships", "0001_externships"),
        ("curriculum", "0003_signed_records_are_immutable"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(install_defaults, migrations.RunPython.noop),
    ]
