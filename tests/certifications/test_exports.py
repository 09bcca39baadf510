"""The outcomes export as CSV, XLSX and from the command line, and the annual report PDF."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from certifications.exports import EXPORT_COLUMNS, annual_report_pdf, outcomes_csv, outcomes_xlsx
from certifications.models import ExamAttempt, OutcomeMeasure, PlacementStatus
from curriculum.models import Accreditor, Program
from tests.certification_factories import ExamAttemptFactory, JobPlacementFactory, track
from tests.factories import CohortFactory, EnrollmentFactory, ProgramFactory

pytestmark = pytest.mark.django_db

# The program below, figure by figure. Admitted 2023, all three completed the trigger course; one withdrew
# after it, two graduated in 2024: one employed in the field who passed the CMA, one not employed who sat nothing.
#   retention 2023: 2 / 3 = 66.7 ≥ 60          job placement 2024: 1 / 2 = 50.0 < 60
#   participation 2024: 1 / 2 = 50.0 ≥ 30      passage 2024: 1 / 1 = 100.0 ≥ 60
# Every measure has a row for each year with data (2023, 2024; 0/0 has no rate and no flag) and a 5-year row.
# Nobody is still enrolled and both years are over: every row is final.
NAME = "Medical Assisting Diploma"
EXPECTED = [
    EXPORT_COLUMNS,
    ["MA-DIP", NAME, "maerb", "retention", "2023", "2", "3", "66.7", "60", "yes", "yes", ""],
    ["MA-DIP", NAME, "maerb", "retention", "2024", "0", "0", "", "60", "", "yes", ""],
    ["MA-DIP", NAME, "maerb", "retention", "5yr", "2", "3", "66.7", "60", "yes", "yes", ""],
    ["MA-DIP", NAME, "maerb", "job_placement", "2023", "0", "0", "", "60", "", "yes", ""],
    ["MA-DIP", NAME, "maerb", "job_placement", "2024", "1", "2", "50.0", "60", "no", "yes", ""],
    ["MA-DIP", NAME, "maerb", "job_placement", "5yr", "1", "2", "50.0", "60", "no", "yes", ""],
    ["MA-DIP", NAME, "maerb", "credentialing_exam_participation", "2023", "0", "0", "", "30", "", "yes", ""],
    ["MA-DIP", NAME, "maerb", "credentialing_exam_participation", "2024", "1", "2", "50.0", "30", "yes", "yes", ""],
    ["MA-DIP", NAME, "maerb", "credentialing_exam_participation", "5yr", "1", "2", "50.0", "30", "yes", "yes", ""],
    ["MA-DIP", NAME, "maerb", "credentialing_exam_passage", "2023", "0", "0", "", "60", "", "yes", ""],
    ["MA-DIP", NAME, "maerb", "credentialing_exam_passage", "2024", "1", "1", "100.0", "60", "yes", "yes", ""],
    ["MA-DIP", NAME, "maerb", "credentialing_exam_passage", "5yr", "1", "1", "100.0", "60", "yes", "yes", ""],
]


@pytest.fixture
def diploma(db) -> Program:
    program = ProgramFactory.create(code="MA-DIP", name=NAME, accreditor=Accreditor.CAAHEP)
    cohort = CohortFactory.create(program=program, start_on=date(2023, 1, 9), expected_graduation_on=date(2024, 5, 20))
    admitted, trigger = date(2023, 1, 9), date(2023, 3, 1)
    EnrollmentFactory.create(
        cohort=cohort, admitted_on=admitted, trigger_course_completed_on=trigger, withdrawn_on=date(2023, 6, 1)
    )
    employed, unemployed = (
        EnrollmentFactory.create(
            cohort=cohort, admitted_on=admitted, trigger_course_completed_on=trigger, graduated_on=date(2024, 5, 20)
        )
        for _ in range(2)
    )
    JobPlacementFactory.create(enrollment=employed, status=PlacementStatus.IN_FIELD)
    JobPlacementFactory.create(enrollment=unemployed, status=PlacementStatus.NOT_EMPLOYED)
    ExamAttemptFactory.create(
        enrollment=employed, track=track(program, "CMA"), taken_on=date(2024, 6, 10), result=ExamAttempt.Result.PASS
    )
    return program


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_has_the_header_and_one_row_per_measure_per_year(diploma):
    assert read_csv(outcomes_csv([diploma])) == EXPECTED


def test_a_threshold_is_written_as_stored_without_trailing_zeros(diploma):
    OutcomeMeasure.objects.filter(accreditor="maerb", key="retention").update(threshold_percent=Decimal("66.80"))
    row = read_csv(outcomes_csv([diploma]))[1]
    assert row[7:10] == ["66.7", "66.8", "no"]


def test_an_abhes_program_is_exported_by_report_year_without_an_average(db):
    program = ProgramFactory.create(code="MA-CERT", accreditor=Accreditor.ABHES)
    # Admitted 2024-09-01 and graduated 2025-06-30: both in report year 2025. NS 1, G 1: retention 1 / 1.
    EnrollmentFactory.create(
        cohort=CohortFactory.create(program=program), admitted_on=date(2024, 9, 1), graduated_on=date(2025, 6, 30)
    )
    rows = read_csv(outcomes_csv([program]))[1:]
    assert [[row[0], *row[2:5]] for row in rows] == [
        ["MA-CERT", "abhes", "retention", "2025"],
        ["MA-CERT", "abhes", "placement", "2025"],
        ["MA-CERT", "abhes", "credentialing", "2025"],
    ]
    assert rows[0][5:] == ["1", "1", "100.0", "70", "yes", "yes", ""]
    assert rows[1][5:] == ["0", "1", "0.0", "70", "no", "yes", ""]  # a graduate with no record stays in G − U


def rate_as_text(value: object) -> str:
    """A rate cell as the CSV writes it: 66.7 and 50 read back as "66.7" and "50.0"."""
    return "" if value is None else format(Decimal(str(value)), ".1f")


def test_the_xlsx_holds_the_same_rows_with_counts_and_percentages_as_numbers(diploma):
    sheet = load_workbook(io.BytesIO(outcomes_xlsx([diploma]))).active
    assert sheet is not None
    header, *rows = sheet.iter_rows(values_only=True)
    assert list(header) == EXPORT_COLUMNS
    assert all(isinstance(row[5], int) and isinstance(row[6], int) for row in rows)
    assert isinstance(rows[0][7], float) and isinstance(rows[0][8], int)  # 66.7 and 60
    as_csv = [
        [*row[:7], rate_as_text(row[7]), "" if row[8] is None else str(row[8]), row[9] or "", row[10], row[11] or ""]
        for row in rows
    ]
    assert [[str(cell) for cell in row] for row in as_csv] == EXPECTED[1:]
    assert sheet["H2"].number_format == "0.0"  # the rate


def test_the_pdf_shows_the_program_and_its_figures(diploma):
    reader = PdfReader(io.BytesIO(annual_report_pdf(diploma)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Medical Assisting Diploma" in text
    assert "Annual outcomes report" in text
    assert "66.7%" in text
    assert "Credentialing exam passage" in text
    assert "5-year average" in text
    assert "Exam pass rates by track and graduation year" in text


def test_the_pdf_speaks_the_active_language_and_keeps_the_figures(diploma):
    with translation.override("es"):
        content = annual_report_pdf(diploma)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "66.7%" in text
    assert "Medical Assisting Diploma" in text


def test_the_command_writes_the_same_csv_to_standard_output(diploma):
    out = io.StringIO()
    call_command("export_outcomes", "--program", "MA-DIP", "--format", "csv", stdout=out)
    assert out.getvalue() == outcomes_csv([diploma])


def test_the_command_exports_every_program_when_none_is_named(diploma):
    other = ProgramFactory.create(code="MA-ZZ", accreditor=Accreditor.ABHES)
    out = io.StringIO()
    call_command("export_outcomes", stdout=out)
    assert out.getvalue() == outcomes_csv(Program.objects.order_by("code"))
    assert {row[0] for row in read_csv(out.getvalue())[1:]} == {"MA-DIP"}  # the other program has no students
    assert outcomes_csv([other]) == ",".join(EXPORT_COLUMNS) + "\r\n"


def test_the_command_names_an_unknown_program(diploma):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("export_outcomes", "--program", "NOPE", stdout=io.StringIO())


def test_the_command_writes_xlsx_only_to_a_file(diploma, tmp_path):
    with pytest.raises(CommandError, match="--output"):
        call_command("export_outcomes", "--format", "xlsx", stdout=io.StringIO())
    target = tmp_path / "outcomes.xlsx"
    call_command(
        "export_outcomes", "--format", "xlsx", "--output", str(target), stdout=io.StringIO(), stderr=io.StringIO()
    )
    sheet = load_workbook(target).active
    assert sheet is not None
    assert [cell.value for cell in sheet[2]][:5] == ["MA-DIP", NAME, "maerb", "retention", "2023"]


def test_a_year_in_progress_has_no_rate_says_it_is_not_final_and_how_many_are_enrolled(diploma):
    # One more student admitted in 2023 completed the trigger course and is still enrolled. Retention 2023 so far:
    # 3 not withdrawn (two graduates and her) of 4; no rate, no flag; final "no", enrolled 1. The 5-year average
    # has no final year with data left to pool (2024 has no one admitted): 0 / 0.
    EnrollmentFactory.create(
        cohort=diploma.cohorts.get(), admitted_on=date(2023, 1, 9), trigger_course_completed_on=date(2023, 3, 1)
    )
    rows = {(row[3], row[4]): row for row in read_csv(outcomes_csv([diploma]))[1:]}
    assert rows[("retention", "2023")][5:] == ["3", "4", "", "60", "", "no", "1"]
    assert rows[("retention", "5yr")][5:] == ["0", "0", "", "60", "", "yes", ""]
    # The graduation years are over and her class was expected to graduate in 2024: those rows stay final.
    assert rows[("job_placement", "2024")][5:] == ["1", "2", "50.0", "60", "no", "yes", ""]


def test_the_command_exports_the_accreditor_asked_or_both(diploma):
    def exported(*arguments: str) -> list[list[str]]:
        out = io.StringIO()
        call_command("export_outcomes", "--program", "MA-DIP", *arguments, stdout=out)
        return read_csv(out.getvalue())

    assert exported() == EXPECTED  # the program's own: MAERB, for a CAAHEP program
    assert exported("--accreditor", "maerb") == EXPECTED
    abhes = exported("--accreditor", "abhes")
    # Report years: admitted 2023-01-09 → 2023; withdrew 2023-06-01 → 2023; graduated 2024-05-20 → 2024.
    # Retention 2024: BE 2 (the graduates, enrolled on 2023-07-01), EE 0, G 2: 2 / 2 = 100.0.
    # Credentialing 2024: GP 1 / GT 1 (the CMA pass) = 100.0.
    assert {row[2] for row in abhes[1:]} == {"abhes"}
    by_key = {(row[3], row[4]): row[5:10] for row in abhes[1:]}
    assert by_key[("retention", "2024")] == ["2", "2", "100.0", "70", "yes"]
    assert by_key[("credentialing", "2024")] == ["1", "1", "100.0", "70", "yes"]
    both = exported("--accreditor", "both")
    assert both == EXPECTED + abhes[1:]
    with pytest.raises(CommandError):
        call_command("export_outcomes", "--accreditor", "joint", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_half_way_rate_is_written_rounded_up(db):
    # 16 graduates of 2024, one sat (and passed) the CMA: participation 1 / 16 = 6.25 % → "6.3", below 30.
    program = ProgramFactory.create(code="MA-16", accreditor=Accreditor.CAAHEP)
    cohort = CohortFactory.create(program=program, start_on=date(2023, 6, 5), expected_graduation_on=date(2024, 5, 20))
    graduates = [
        EnrollmentFactory.create(cohort=cohort, admitted_on=date(2023, 6, 5), graduated_on=date(2024, 5, 20))
        for _ in range(16)
    ]
    ExamAttemptFactory.create(
        enrollment=graduates[0], track=track(program, "CMA"), taken_on=date(2024, 6, 10), result=ExamAttempt.Result.PASS
    )
    rows = {(row[3], row[4]): row for row in read_csv(outcomes_csv([program]))[1:]}
    assert rows[("credentialing_exam_participation", "2024")][5:10] == ["1", "16", "6.3", "30", "no"]


def test_a_military_graduate_is_placed_for_maerb_and_left_out_for_abhes(db):
    """Graduated 2025-03-01 (MAERB year 2025, ABHES report year 2025): one in the field, one serving in
    the military, one not employed.
    MAERB job placement 2025 = (in field + military) / 3 = 2 / 3 = 66.7 (threshold 60: meets).
    ABHES placement 2025 = F + R / (G − U) = 1 / (3 − 1) = 50.0 (benchmark 70: below)."""
    program = ProgramFactory.create(code="MA-MIL", accreditor=Accreditor.CAAHEP)
    cohort = CohortFactory.create(program=program, start_on=date(2024, 3, 4), expected_graduation_on=date(2025, 3, 1))
    for status in (PlacementStatus.IN_FIELD, PlacementStatus.MILITARY_SERVICE, PlacementStatus.NOT_EMPLOYED):
        enrollment = EnrollmentFactory.create(
            cohort=cohort, admitted_on=date(2024, 3, 4), graduated_on=date(2025, 3, 1)
        )
        JobPlacementFactory.create(enrollment=enrollment, status=status)

    rows = read_csv(outcomes_csv([program], "both"))[1:]
    placement = {(row[2], row[3], row[4]): row[5:] for row in rows if row[3] in ("job_placement", "placement")}

    assert placement[("maerb", "job_placement", "2025")] == ["2", "3", "66.7", "60", "yes", "yes", ""]
    assert placement[("abhes", "placement", "2025")] == ["1", "2", "50.0", "70", "no", "yes", ""]
    for accreditor in ("maerb", "abhes"):
        text = "\n".join(
            page.extract_text() for page in PdfReader(io.BytesIO(annual_report_pdf(program, accreditor))).pages
        )
        assert "Serving in the military" in " ".join(text.split()), accreditor
