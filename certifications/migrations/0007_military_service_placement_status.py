"""Military service becomes a placement status of its own: MAERB counts it as placed, ABHES leaves
it out of the placement denominator (U). Until now a graduate in the military could only be recorded
as "unavailable" with a reason, which MAERB counts as not placed.

The outcome measures holding each accreditor's placed and excluded statuses gain the new status. A
measure a director edited gains it too: nobody could have chosen a status that did not exist, and the
accreditors' rules name military service. Graduates recorded as "unavailable" are left as they are:
their reasons are free text, not a status to guess from.

Frozen here rather than imported from the app, so the migration means the same whenever it runs.
"""

import django.contrib.postgres.fields
from django.db import migrations, models

MILITARY_SERVICE = "military_service"
# (accreditor, measure key) → the list of statuses the new one joins.
JOINS = {
    ("maerb", "job_placement"): "placed_statuses",
    ("abhes", "placement"): "excluded_statuses",
}


def add_military_service(apps, schema_editor):
    OutcomeMeasure = apps.get_model("certifications", "OutcomeMeasure")
    for (accreditor, key), field in JOINS.items():
        for measure in OutcomeMeasure.objects.filter(accreditor=accreditor, key=key):
            statuses = list(getattr(measure, field))
            if MILITARY_SERVICE not in statuses:
                setattr(measure, field, [*statuses, MILITARY_SERVICE])
                measure.save(update_fields=[field])


def remove_military_service(apps, schema_editor):
    """Back to the statuses without it; a graduate recorded as serving must be recorded otherwise first."""
    OutcomeMeasure = apps.get_model("certifications", "OutcomeMeasure")
    JobPlacement = apps.get_model("certifications", "JobPlacement")
    if JobPlacement.objects.filter(status=MILITARY_SERVICE).exists():
        raise RuntimeError(
            "Some graduates are recorded as serving in the military: record them otherwise before going back."
        )
    for measure in OutcomeMeasure.objects.all():
        for field in ("placed_statuses", "excluded_statuses"):
            statuses = list(getattr(measure, field))
            if MILITARY_SERVICE in statuses:
                setattr(measure, field, [status for status in statuses if status != MILITARY_SERVICE])
                measure.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0006_result_imports_apply_in_the_background"),
    ]

    operations = [
        migrations.AlterField(
            model_name="jobplacement",
            name="status",
            field=models.CharField(
                choices=[
                    ("in_field", "Employed in the field"),
                    ("related_field", "Employed in a related field"),
                    ("not_employed", "Not employed"),
                    ("unavailable", "Unavailable for employment"),
                    ("continuing_education", "Continuing education"),
                    ("military_service", "Serving in the military"),
                ],
                max_length=30,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="outcomemeasure",
            name="excluded_statuses",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("in_field", "Employed in the field"),
                        ("related_field", "Employed in a related field"),
                        ("not_employed", "Not employed"),
                        ("unavailable", "Unavailable for employment"),
                        ("continuing_education", "Continuing education"),
                        ("military_service", "Serving in the military"),
                    ],
                    max_length=30,
                ),
                blank=True,
                default=list,
                size=None,
            ),
        ),
        migrations.AlterField(
            model_name="outcomemeasure",
            name="placed_statuses",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("in_field", "Employed in the field"),
                        ("related_field", "Employed in a related field"),
                        ("not_employed", "Not employed"),
                        ("unavailable", "Unavailable for employment"),
                        ("continuing_education", "Continuing education"),
                        ("military_service", "Serving in the military"),
                    ],
                    max_length=30,
                ),
                blank=True,
                default=list,
                size=None,
            ),
        ),
        migrations.RunPython(add_military_service, remove_military_service),
    ]
