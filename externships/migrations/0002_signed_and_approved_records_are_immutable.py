"""Approved hours and submitted evaluations never change, even through raw SQL.

An hours entry may change or go while waiting for approval or returned; once approved it is locked.
An evaluation and its answers never change once written, and an evaluation takes no answer beyond
the number it was submitted with. Corrections are new rows.

Programs that exist before this app get the reference compliance requirements and evaluation forms,
frozen here as externships/reference/ gave them when this was written rather than read through
`externships.defaults`, so the migration means the same whenever it runs and does not break when the
app's code changes. A new program gets them from the app (externships/signals.py).
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


REQUIREMENTS = [{'name': 'MMR (measles, mumps, rubella)',
  'category': 'immunization',
  'validity_months': None,
  'is_required': True,
  'notes': '2 doses at least 28 days apart, or lab titer showing immunity; born before 1957 may differ; no '
           'expiry once met',
  'source': 'cdc.gov/vaccines/adults/rec-vac/hcw.html (CDC vaccines for healthcare workers); cocc.edu '
            'medical-assistant requirements',
  'confidence': 'verified'},
 {'name': 'Varicella (chickenpox)',
  'category': 'immunization',
  'validity_months': None,
  'is_required': True,
  'notes': '2 doses 4 weeks apart, or titer showing immunity; some sites accept documented history of '
           'disease; no expiry once met',
  'source': 'CDC HCP table (docstoc copy); cocc.edu; wmcarey.edu',
  'confidence': 'verified'},
 {'name': 'Hepatitis B series',
  'category': 'immunization',
  'validity_months': None,
  'is_required': True,
  'notes': '3-dose series (0, 1, 6 months) or 2-dose Heplisav-B, then anti-HBs titer 1-2 months after last '
           'dose; many programs accept series in progress or a signed declination',
  'source': 'cdc.gov/vaccines/adults/rec-vac/hcw.html (CDC vaccines for healthcare workers); cocc.edu',
  'confidence': 'verified'},
 {'name': 'Hepatitis B declination',
  'category': 'immunization',
  'validity_months': None,
  'is_required': False,
  'notes': 'signed OSHA bloodborne pathogens declination form when a student refuses the series; sites may '
           'not accept it',
  'source': 'OSHA 29 CFR 1910.1030 (not re-seen)',
  'confidence': 'recalled'},
 {'name': 'Tdap',
  'category': 'immunization',
  'validity_months': 120,
  'is_required': True,
  'notes': 'one adult Tdap dose; Td or Tdap booster every 10 years; some programs ask for Tdap within 10 '
           'years',
  'source': 'CDC HCP table (docstoc copy); pmc.ncbi.nlm.nih.gov PMC8196372; wmcarey.edu',
  'confidence': 'verified'},
 {'name': 'Influenza',
  'category': 'immunization',
  'validity_months': 12,
  'is_required': True,
  'notes': 'one dose each flu season (typically required Oct-Mar); record season, not just date',
  'source': 'CDC HCP table; edgecombe.edu clinical requirements; sinclair.edu',
  'confidence': 'verified'},
 {'name': 'COVID-19 vaccination',
  'category': 'immunization',
  'validity_months': None,
  'is_required': False,
  'notes': 'only if the site requires it; rules vary by site and change often; allow exemption records',
  'source': 'site policies (not researched)',
  'confidence': 'recalled'},
 {'name': 'TB screening (baseline)',
  'category': 'tuberculosis',
  'validity_months': None,
  'is_required': True,
  'notes': 'IGRA blood test or TST (2-step TST if no recent test) before placement; positive result needs '
           'symptom review and chest x-ray',
  'source': 'cdc.gov/tb-healthcare-settings screening-testing frequency; CDC MMWR 2019 68(19)',
  'confidence': 'verified'},
 {'name': 'TB test (annual, program/site rule)',
  'category': 'tuberculosis',
  'validity_months': 12,
  'is_required': False,
  'notes': 'CDC (2019) no longer recommends routine annual testing of health care personnel, but many '
           'programs and sites still require a test within 12 months; state rules may apply',
  'source': 'cocc.edu (TB tests good for one year); wmcarey.edu; cdc.gov',
  'confidence': 'secondary'},
 {'name': 'BLS/CPR (AHA BLS Provider or equivalent)',
  'category': 'certification',
  'validity_months': 24,
  'is_required': True,
  'notes': 'AHA cards are valid 2 years through the end of the month issued; must include hands-on skills; '
           'some programs require annual renewal; MAERB I.P.12 requires documentation of provider-level CPR',
  'source': 'cpr.heart.org course card information; edgecombe.edu (annual); henderson.kctcs.edu',
  'confidence': 'verified'},
 {'name': 'First aid certificate',
  'category': 'certification',
  'validity_months': 24,
  'is_required': False,
  'notes': 'required by some programs or sites; AHA course cards valid 2 years',
  'source': 'cpr.heart.org course card information; uaa.alaska.edu (via domain.md)',
  'confidence': 'secondary'},
 {'name': 'Criminal background check',
  'category': 'background',
  'validity_months': None,
  'is_required': True,
  'notes': 'usually once before clinical placement; sites may require a repeat at any time or after a break '
           'in enrollment; often ordered through a vendor',
  'source': 'edgecombe.edu clinical requirements; cocc.edu',
  'confidence': 'secondary'},
 {'name': 'Drug screen (e.g., 10-panel urine)',
  'category': 'background',
  'validity_months': None,
  'is_required': True,
  'notes': 'usually once before placement; sites may require a repeat; some sites want results within a set '
           'number of days before start',
  'source': 'cocc.edu (10-panel); edgecombe.edu',
  'confidence': 'secondary'},
 {'name': 'Health insurance',
  'category': 'insurance',
  'validity_months': 12,
  'is_required': True,
  'notes': 'proof of current personal health coverage; check coverage dates run through the rotation end',
  'source': 'uaa.alaska.edu; clcillinois.edu (via domain.md)',
  'confidence': 'secondary'},
 {'name': 'Physical exam / health statement',
  'category': 'health',
  'validity_months': 12,
  'is_required': True,
  'notes': 'signed by a licensed provider on a school form; validity period set by program',
  'source': 'sinclair.edu medical assisting immunization page; wmcarey.edu',
  'confidence': 'secondary'},
 {'name': 'Bloodborne pathogens training',
  'category': 'training',
  'validity_months': 12,
  'is_required': True,
  'notes': 'OSHA requires annual training for workers with exposure; MAERB III.P.1 is participation in BBP '
           'training',
  'source': 'OSHA 29 CFR 1910.1030 (not re-seen)',
  'confidence': 'recalled'},
 {'name': 'HIPAA privacy training',
  'category': 'training',
  'validity_months': 12,
  'is_required': True,
  'notes': 'commonly required by sites before access to patient information; some require site-specific '
           'modules',
  'source': 'site policies (not researched)',
  'confidence': 'recalled'},
 {'name': 'Professional liability insurance',
  'category': 'insurance',
  'validity_months': 12,
  'is_required': False,
  'notes': 'often provided by the school as a blanket policy; some sites ask for a certificate',
  'source': 'site policies (not researched)',
  'confidence': 'recalled'}]

# kind → [(section, text)], in order; the student form serves both midpoint and final.
STUDENT_FORM = [('Professionalism', 'Arrives on time, in uniform, and prepared for the shift'),
 ('Professionalism', 'Follows site policies, HIPAA and infection control'),
 ('Professionalism', 'Accepts feedback and acts on it'),
 ('Professionalism', "Works within the medical assistant's scope of practice"),
 ('Clinical skills', 'Measures and records vital signs accurately'),
 ('Clinical skills', 'Performs injections and specimen collection safely'),
 ('Clinical skills', 'Prepares patients and rooms for examinations and procedures'),
 ('Clinical skills', 'Documents care accurately in the health record'),
 ('Administrative skills', 'Schedules appointments and manages the patient flow'),
 ('Administrative skills', 'Verifies insurance and handles referrals and authorizations'),
 ('Administrative skills', 'Uses the practice management and EHR systems correctly'),
 ('Communication', 'Communicates clearly and respectfully with patients'),
 ('Communication', 'Works well with the care team'),
 ('Communication', 'Gives patient instructions the patient can follow')]
SITE_FORM = [('Orientation', 'I received an orientation to the site, its policies and its safety procedures'),
 ('Supervision', 'My preceptor was available and supervised my work'),
 ('Supervision', 'I received useful feedback on my performance'),
 ('Learning opportunities', 'I could practise the clinical skills of my program'),
 ('Learning opportunities', 'I could practise the administrative skills of my program'),
 ('Overall', 'I would recommend this site to other students')]
EVALUATION_ITEMS = {"midpoint": STUDENT_FORM, "final": STUDENT_FORM, "site": SITE_FORM}


def install_defaults(apps, schema_editor):
    """Programs that exist before this app get the reference requirements and forms too."""
    Requirement = apps.get_model("externships", "ComplianceRequirement")
    Item = apps.get_model("externships", "EvaluationItem")
    for program in apps.get_model("curriculum", "Program").objects.all():
        existing = set(
            Requirement.objects.filter(program_id=program.pk, site__isnull=True).values_list("name", flat=True)
        )
        Requirement.objects.bulk_create(
            [
                Requirement(program_id=program.pk, order=position, **row)
                for position, row in enumerate(REQUIREMENTS, start=1)
                if row["name"] not in existing
            ]
        )
        items = []
        for kind, rows in EVALUATION_ITEMS.items():
            if Item.objects.filter(program_id=program.pk, kind=kind).exists():
                continue  # the program has its own form for this kind
            items += [
                Item(program_id=program.pk, kind=kind, section=section, text=text, order=position)
                for position, (section, text) in enumerate(rows, start=1)
            ]
        Item.objects.bulk_create(items)


class Migration(migrations.Migration):
    dependencies = [
        ("externships", "0001_externships"),
        ("curriculum", "0003_signed_records_are_immutable"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(install_defaults, migrations.RunPython.noop),
    ]
