"""Which exams count becomes each accreditor's own choice: `counts_for_maerb` and `counts_for_abhes`
replace `counts_for_outcomes`, which served both.

MAERB keeps what the old flag said: it was seeded from the medical assisting credentials MAERB names,
and a director who changed it made a MAERB choice (its label was "counts as a medical assisting
credentialing exam"). ABHES counts the credentials the program prepares students for: every track
the program offers. The values' origins move with them, so the track pages still say where each came
from and ask for the ABHES default to be confirmed.

Frozen here rather than imported from the app, so the migration means the same whenever it runs.
"""

from django.db import migrations, models

ABHES_DEFAULT_ORIGIN = {
    "source": "ABHES counts the credentials the program prepares for: every track the program offers",
    "confidence": "secondary",
}


def split_the_flag(apps, schema_editor):
    Track = apps.get_model("certifications", "CertificationTrack")
    tracks = list(Track.objects.all())
    for track in tracks:
        track.counts_for_maerb = track.counts_for_outcomes
        track.counts_for_abhes = track.is_offered
        provenance = dict(track.provenance or {})
        if "counts_for_outcomes" in provenance:
            provenance["counts_for_maerb"] = provenance.pop("counts_for_outcomes")
        provenance.setdefault("counts_for_abhes", ABHES_DEFAULT_ORIGIN)
        track.provenance = provenance
    Track.objects.bulk_update(tracks, ["counts_for_maerb", "counts_for_abhes", "provenance"], batch_size=500)


def join_the_flags(apps, schema_editor):
    """Back to one flag: MAERB's, the one it was copied from."""
    Track = apps.get_model("certifications", "CertificationTrack")
    tracks = list(Track.objects.all())
    for track in tracks:
        track.counts_for_outcomes = track.counts_for_maerb
        provenance = dict(track.provenance or {})
        provenance.pop("counts_for_abhes", None)
        if "counts_for_maerb" in provenance:
            provenance["counts_for_outcomes"] = provenance.pop("counts_for_maerb")
        track.provenance = provenance
    Track.objects.bulk_update(tracks, ["counts_for_outcomes", "provenance"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("certifications", "0004_import_previews_are_stored")]

    operations = [
        migrations.AddField(
            model_name="certificationtrack",
            name="counts_for_maerb",
            field=models.BooleanField(
                default=False,
                help_text="Counted for MAERB's credentialing exam participation and passage.",
                verbose_name="counts for MAERB",
            ),
        ),
        migrations.AddField(
            model_name="certificationtrack",
            name="counts_for_abhes",
            field=models.BooleanField(
                default=True, help_text="Counted for ABHES's credentialing rate.", verbose_name="counts for ABHES"
            ),
        ),
        migrations.RunPython(split_the_flag, join_the_flags),
        migrations.RemoveField(model_name="certificationtrack", name="counts_for_outcomes"),
    ]
