"""Existing programs get the reference certification tracks; everyone gets the outcome measures."""

from django.db import migrations


def install(apps, schema_editor):
    from certifications import defaults

    Program = apps.get_model("curriculum", "Program")
    Track = apps.get_model("certifications", "CertificationTrack")
    Domain = apps.get_model("certifications", "ContentDomain")
    Measure = apps.get_model("certifications", "OutcomeMeasure")
    for program in Program.objects.all():
        defaults.install_tracks(program, track_model=Track, domain_model=Domain)
    defaults.install_measures(measure_model=Measure)


class Migration(migrations.Migration):
    dependencies = [("certifications", "0001_certifications")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
