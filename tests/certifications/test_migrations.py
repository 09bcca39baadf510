"""The certifications data migrations: the one "counts for outcomes" flag split into one flag per
accreditor, and military service added to the placement measures' statuses."""

from __future__ import annotations

from datetime import date

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


MILITARY_BEFORE = ("certifications", "0006_result_imports_apply_in_the_background")
MILITARY_AFTER = ("certifications", "0007_military_service_placement_status")


@pytest.mark.django_db(transaction=True)
def test_military_service_joins_maerb_placed_and_abhes_excluded_statuses():
    apps = migrate_to(MILITARY_BEFORE)
    try:
        Measure = apps.get_model("certifications", "OutcomeMeasure")
        Placement = apps.get_model("certifications", "JobPlacement")
        # As seeded before the status existed, except that a director had taken continuing education
        # off ABHES's excluded statuses; an "unavailable" graduate whose reason is military duty.
        # (A transactional test before this one may have emptied the tables the seeding filled.)
        seeded = {
            ("maerb", "job_placement"): (["in_field", "related_field", "continuing_education"], []),
            ("abhes", "placement"): (["in_field", "related_field"], ["unavailable"]),
            ("maerb", "retention"): ([], []),
            ("abhes", "retention"): ([], []),
        }
        for (accreditor, key), (placed, excluded) in seeded.items():
            Measure.objects.update_or_create(
                accreditor=accreditor,
                key=key,
                defaults={"formula": key, "placed_statuses": placed, "excluded_statuses": excluded},
            )
        Program = apps.get_model("curriculum", "Program")
        Cohort = apps.get_model("curriculum", "Cohort")
        Enrollment = apps.get_model("curriculum", "Enrollment")
        User = apps.get_model("accounts", "User")
        program = Program.objects.create(code="MIL", name="Military")
        cohort = Cohort.objects.create(
            program=program, code="C1", name="C1", start_on=date(2024, 1, 8), expected_graduation_on=date(2025, 1, 8)
        )
        student = User.objects.create(email="mil@school.test", password="!")
        enrollment = Enrollment.objects.create(
            student=student, cohort=cohort, admitted_on=date(2024, 1, 8), graduated_on=date(2025, 1, 8)
        )
        Placement.objects.create(enrollment=enrollment, status="unavailable", unavailable_reason="Active duty")

        apps = migrate_to(MILITARY_AFTER)
        Measure = apps.get_model("certifications", "OutcomeMeasure")
        statuses = {
            (measure.accreditor, measure.key): (measure.placed_statuses, measure.excluded_statuses)
            for measure in Measure.objects.filter(key__in=["job_placement", "placement", "retention"])
        }
        assert statuses == {
            ("maerb", "job_placement"): (
                ["in_field", "related_field", "continuing_education", "military_service"],
                [],
            ),
            ("abhes", "placement"): (["in_field", "related_field"], ["unavailable", "military_service"]),
            ("maerb", "retention"): ([], []),
            ("abhes", "retention"): ([], []),
        }
        # A free-text reason is not a status: the graduate stays "unavailable".
        Placement = apps.get_model("certifications", "JobPlacement")
        assert Placement.objects.get(enrollment__student__email="mil@school.test").status == "unavailable"

        # Back again: the statuses without it.
        apps = migrate_to(MILITARY_BEFORE)
        Measure = apps.get_model("certifications", "OutcomeMeasure")
        assert not Measure.objects.filter(placed_statuses__contains=["military_service"]).exists()
        assert not Measure.objects.filter(excluded_statuses__contains=["military_service"]).exists()
        Placement = apps.get_model("certifications", "JobPlacement")
        Placement.objects.filter(enrollment__student__email="mil@school.test").delete()
        Enrollment.objects.filter(cohort__program__code="MIL").delete()
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes("certifications")[0])
