"""The hours rules the service checks, checked again by PostgreSQL for any writer.

Besides the check constraints (end after start, at most 12 hours a shift) and the exclusion
constraint (no overlapping shifts for a student), a trigger refuses a shift whose student is not
the placement's, whose date is outside the placement's dates or is not the shift's local date,
that ends in the future, or that takes the student's day past 12 hours.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION checkoff_check_hours_entry() RETURNS trigger AS $$
DECLARE
    placement record;
    day_total interval;
BEGIN
    SELECT p.start_on, p.end_on, e.student_id, prog.time_zone
      INTO placement
      FROM externships_placement p
      JOIN curriculum_enrollment e ON e.id = p.enrollment_id
      JOIN curriculum_cohort c ON c.id = e.cohort_id
      JOIN curriculum_program prog ON prog.id = c.program_id
     WHERE p.id = NEW.placement_id;
    IF NEW.student_id <> placement.student_id THEN
        RAISE EXCEPTION 'checkoff: hours of student % on placement of student % refused',
            NEW.student_id, placement.student_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.work_date < placement.start_on OR NEW.work_date > placement.end_on THEN
        RAISE EXCEPTION 'checkoff: shift on % outside the placement (% to %) refused',
            NEW.work_date, placement.start_on, placement.end_on USING ERRCODE = 'check_violation';
    END IF;
    IF (NEW.starts_at AT TIME ZONE placement.time_zone)::date <> NEW.work_date THEN
        RAISE EXCEPTION 'checkoff: shift date % is not its local start date', NEW.work_date
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.ends_at > now() THEN
        RAISE EXCEPTION 'checkoff: shift ending in the future refused' USING ERRCODE = 'check_violation';
    END IF;
    SELECT coalesce(sum(ends_at - starts_at), interval '0')
      INTO day_total
      FROM externships_hoursentry
     WHERE student_id = NEW.student_id AND work_date = NEW.work_date AND id IS DISTINCT FROM NEW.id;
    IF day_total + (NEW.ends_at - NEW.starts_at) > interval '12 hours' THEN
        RAISE EXCEPTION 'checkoff: more than 12 hours on % refused', NEW.work_date USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER hours_entry_rules
    BEFORE INSERT OR UPDATE OF placement_id, student_id, work_date, starts_at, ends_at ON externships_hoursentry
    FOR EACH ROW EXECUTE FUNCTION checkoff_check_hours_entry();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS hours_entry_rules ON externships_hoursentry;
DROP FUNCTION IF EXISTS checkoff_check_hours_entry();
"""


class Migration(migrations.Migration):
    dependencies = [("externships", "0002_signed_and_approved_records_are_immutable")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
