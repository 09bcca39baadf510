"""A program starts with its own copy of the five reference tracks; outcome measures are seeded once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certifications import defaults
from certifications.models import CertificationTrack, OutcomeMeasure
from tests.certification_factories import track

pytestmark = pytest.mark.django_db


def test_a_new_program_gets_the_five_tracks_with_their_outlines(program):
    codes = list(program.certification_tracks.values_list("code", flat=True))
    assert codes == ["CMA", "RMA", "CCMA", "CMAA", "NCMA"]
    cma = track(program, "CMA")
    assert (cma.completion_window_days, cma.max_attempts, cma.retake_wait_days) == (30, 3, None)
    assert cma.recertification_months == 60
    assert [(d.name, d.weight_percent) for d in cma.domains.all()] == [
        ("Clinical Competency", Decimal(59)),
        ("General", Decimal(21)),
        ("Administrative", Decimal(20)),
    ]
    assert "vitals" in cma.domains.get(name="Clinical Competency").tags


def test_each_value_keeps_where_it_came_from_and_how_sure_we_are(program):
    cma = track(program, "CMA")
    assert cma.confidence_of("max_attempts") == "verified"
    assert cma.confidence_of("retake_wait_days") == "recalled"
    assert cma.source_of("recertification_months").startswith("aama-ntl.org")
    assert "retake_wait_days" in cma.unconfirmed_fields
    assert "max_attempts" not in cma.unconfirmed_fields


def test_loading_again_adds_nothing_and_keeps_a_directors_edit(program):
    CertificationTrack.objects.filter(program=program, code="CCMA").update(retake_wait_days=21)
    assert defaults.install_tracks(program) == 0
    assert track(program, "CCMA").retake_wait_days == 21
    assert defaults.install_measures() == 0


def test_the_outcome_measures_and_thresholds_are_seeded():
    thresholds = dict(OutcomeMeasure.objects.filter(accreditor="maerb").values_list("key", "threshold_percent"))
    assert thresholds["retention"] == 60
    assert thresholds["credentialing_exam_participation"] == 30
    placement = OutcomeMeasure.objects.get(accreditor="abhes", key="placement")
    assert placement.placed_statuses == ["in_field", "related_field"]
    assert placement.excluded_statuses == ["unavailable", "continuing_education", "military_service"]
    job_placement = OutcomeMeasure.objects.get(accreditor="maerb", key="job_placement")
    assert job_placement.placed_statuses == ["in_field", "related_field", "continuing_education", "military_service"]
    assert job_placement.excluded_statuses == []
    assert OutcomeMeasure.objects.get(accreditor="maerb", key="retention").confidence == "verified"


@pytest.mark.parametrize(
    ("issued", "months", "expires"),
    [("2025-03-10", 60, "2030-03-31"), ("2025-01-31", 24, "2027-01-31"), ("2024-11-05", 36, "2027-11-30")],
)
def test_a_credential_lapses_at_the_end_of_the_month_the_cycle_ends(program, issued, months, expires):
    from datetime import date

    cma = track(program, "CMA")
    cma.recertification_months = months
    assert cma.expiry_for(date.fromisoformat(issued)) == date.fromisoformat(expires)


def test_the_tracks_counted_for_maerb_are_the_credentials_maerb_names():
    # outcome_thresholds.yaml names them as "CMA (AAMA)", "RMA (AMT)"…; CMAC (AMCA) is not one of our tracks.
    import yaml

    measures = yaml.safe_load((defaults.REFERENCE / "outcome_thresholds.yaml").read_text(encoding="utf-8"))
    named = {
        exam.split(" ")[0] for measure in measures["maerb"]["measures"] for exam in measure.get("counted_exams", [])
    }
    rows = defaults.track_rows()
    assert {row.code for row in rows if row.values["counts_for_maerb"]} == named & {row.code for row in rows}
    assert all(row.values["counts_for_abhes"] for row in rows)  # ABHES: every track the program offers
    assert {row.provenance["counts_for_abhes"].confidence for row in rows} == {"secondary"}
