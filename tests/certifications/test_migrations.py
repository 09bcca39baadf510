"""The migration that splits the one "counts for outcomes" flag into one flag per accreditor."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("certifications", "0004_import_previews_are_stored")
AFTER = ("certifications", "0005_tracks_counted_per_accreditor")


def migrate_to(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_maerb_keeps_the_old_flag_and_abhes_counts_every_offered_track():
    apps = migrate_to(BEFORE)
    try:
        Program = apps.get_model("curriculum", "Program")
        Track = apps.get_model("certifications", "CertificationTrack")
        program = Program.objects.create(code="MIG", name="Migrated", accreditor="abhes")
        seeded = {"source": "outcome_thresholds.yaml counted_exams", "confidence": "secondary"}
        edited = {"source": "edited by Dana", "confidence": "confirmed_by_admin"}
        # As 0002 seeded them (CMAA not a MAERB credential), but the director had turned RMA off for
        # outcomes and stopped offering NCMA.
        rows = [
            ("CMA", True, True, seeded),
            ("RMA", False, True, edited),
            ("CMAA", False, True, seeded),
            ("NCMA", True, False, seeded),
        ]
        for order, (code, counts, offered, origin) in enumerate(rows):
            Track.objects.create(
                program=program,
                code=code,
                name=code,
                awarding_body="",
                order=order,
                counts_for_outcomes=counts,
                is_offered=offered,
                provenance={"counts_for_outcomes": origin},
            )

        apps = migrate_to(AFTER)
        Track = apps.get_model("certifications", "CertificationTrack")
        after = {
            track.code: (track.counts_for_maerb, track.counts_for_abhes, track.provenance)
            for track in Track.objects.filter(program__code="MIG")
        }
        abhes_origin = after["CMA"][2]["counts_for_abhes"]
        assert abhes_origin["confidence"] == "secondary"  # a default the director is asked to confirm
        assert after == {
            "CMA": (True, True, {"counts_for_maerb": seeded, "counts_for_abhes": abhes_origin}),
            "RMA": (False, True, {"counts_for_maerb": edited, "counts_for_abhes": abhes_origin}),
            "CMAA": (False, True, {"counts_for_maerb": seeded, "counts_for_abhes": abhes_origin}),
            "NCMA": (True, False, {"counts_for_maerb": seeded, "counts_for_abhes": abhes_origin}),
        }

        # Back again: the one flag is MAERB's.
        apps = migrate_to(BEFORE)
        Track = apps.get_model("certifications", "CertificationTrack")
        assert dict(Track.objects.filter(program__code="MIG").values_list("code", "counts_for_outcomes")) == {
            "CMA": True,
            "RMA": False,
            "CMAA": False,
            "NCMA": True,
        }
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes("certifications")[0])
