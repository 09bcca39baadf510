"""`manage.py import_exam_results` and `manage.py import_graduate_outcomes`: the imports from the command line."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from certifications.models import CertificationTrack, Credential, ExamAttempt, JobPlacement
from tests import factories
from tests.certifications.test_imports import (
    EXAM_COLUMNS,
    OUTCOME_COLUMNS,
    days_ago,
    exam_row,
    outcome_row,
    to_csv,
    to_xlsx,
    written_state,
)

NOTHING: dict[str, list[tuple[Any, ...]]] = {"attempts": [], "credentials": [], "placements": []}


@pytest.fixture(autouse=True)
def open_completion_windows(program):
    """Alice and Bob are months from completing the program: with every track open to them all
    through it, the only warnings printed are those a test sets up."""
    CertificationTrack.objects.filter(program=program).update(completion_window_days=3650)


def run(command: str, path: Path, **options: Any) -> tuple[str, str]:
    """Run the command; return what it printed to stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(command, str(path), stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def run_refused(command: str, path: Path, **options: Any) -> tuple[str, str, str]:
    """Run a command that must fail; return stdout, stderr and the CommandError's message."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as refusal:
        call_command(command, str(path), stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue(), str(refusal.value)


@pytest.fixture
def results_file(tmp_path, program, alice, bob) -> Path:
    path = tmp_path / "results.csv"
    path.write_bytes(
        to_csv(
            [exam_row(alice, days_ago(program, 3), score="212"), exam_row(bob, days_ago(program, 3), result="fail")],
            EXAM_COLUMNS,
        )
    )
    return path


@pytest.fixture
def bad_results_file(tmp_path, program, alice, bob) -> Path:
    path = tmp_path / "results.csv"
    path.write_bytes(
        to_csv(
            [
                exam_row(alice, days_ago(program, 3)),
                exam_row(bob, days_ago(program, 3), credential="XYZ"),
                exam_row(bob, program.today() + timedelta(days=2), score="-4"),
            ],
            EXAM_COLUMNS,
        )
    )
    return path


@pytest.fixture
def outcomes_file(tmp_path, program, cohort) -> Path:
    graduate = factories.EnrollmentFactory(cohort=cohort, graduated_on=cohort.start_on + timedelta(days=30))
    path = tmp_path / "outcomes.csv"
    path.write_bytes(
        to_csv(
            [outcome_row(graduate.student, employer="Lakeside Clinic", employed_on=days_ago(program, 1))],
            OUTCOME_COLUMNS,
        )
    )
    return path


# --- Exam results -------------------------------------------------------------------------


def test_a_dry_run_prints_a_past_retake_inside_the_wait_as_a_warning_and_succeeds(tmp_path, program, alice):
    CertificationTrack.objects.filter(program=program, code="CMA").update(retake_wait_days=30, max_attempts=None)
    path = tmp_path / "results.csv"
    path.write_bytes(
        to_csv(
            [exam_row(alice, days_ago(program, 50), result="fail"), exam_row(alice, days_ago(program, 40))],
            EXAM_COLUMNS,
        )
    )

    out, err = run("import_exam_results", path, program=program.code, dry_run=True)

    assert out.strip() == "Would import 2 rows: 2 new, 0 changed, 0 unchanged, 0 with errors."
    assert err.startswith("Warning: Row 3, taken_on: ")
    assert "may be retaken from" in err
    assert written_state() == NOTHING
    run("import_exam_results", path, program=program.code)
    assert ExamAttempt.objects.count() == 2


def test_a_dry_run_prints_the_summary_and_writes_nothing(results_file, program):
    out, err = run("import_exam_results", results_file, program=program.code, dry_run=True)

    assert out.strip() == "Would import 2 rows: 2 new, 0 changed, 0 unchanged, 0 with errors."
    assert err == ""
    assert written_state() == NOTHING


def test_it_imports_exam_results_and_issues_credentials(results_file, program, alice):
    out, err = run("import_exam_results", results_file, program=program.code)

    assert out.strip() == "Imported 2 rows: 2 new, 0 changed, 0 unchanged, 0 with errors."
    assert err == ""
    assert ExamAttempt.objects.filter(source=ExamAttempt.Source.IMPORT, recorded_by=None).count() == 2
    assert Credential.objects.get().enrollment.student == alice


def test_running_it_twice_changes_nothing_the_second_time(results_file, program):
    run("import_exam_results", results_file, program=program.code)
    before = written_state()

    out, _err = run("import_exam_results", results_file, program=program.code)

    assert out.strip() == "Imported 2 rows: 0 new, 0 changed, 2 unchanged, 0 with errors."
    assert written_state() == before


def test_errors_go_to_stderr_by_row_and_nothing_is_written(bad_results_file, program):
    out, err, message = run_refused("import_exam_results", bad_results_file, program=program.code)

    tomorrow_but_one = (program.today() + timedelta(days=2)).isoformat()
    assert err.splitlines() == [
        "Row 3, credential: “XYZ” is not a credential of this program (credentials: CMA, RMA, CCMA, CMAA, NCMA)",
        f"Row 4, taken_on: {tomorrow_but_one} is in the future",
        "Row 4, score: “-4” is not a number from 0 to 99999.9",
    ]
    assert out.strip() == "Checked 3 rows: 1 new, 0 changed, 0 unchanged, 2 with errors."
    assert message == "Nothing was imported: 3 errors."
    assert written_state() == NOTHING


def test_a_dry_run_with_errors_fails_and_writes_nothing(bad_results_file, program):
    out, err, message = run_refused("import_exam_results", bad_results_file, program=program.code, dry_run=True)

    assert len(err.splitlines()) == 3
    assert out.strip() == "Would import 3 rows: 1 new, 0 changed, 0 unchanged, 2 with errors."
    assert message == "3 errors; a real import would write nothing."
    assert written_state() == NOTHING


def test_it_imports_an_xlsx_file(tmp_path, program, alice):
    path = tmp_path / "results.xlsx"
    path.write_bytes(to_xlsx([exam_row(alice, days_ago(program, 3), score=201)], EXAM_COLUMNS))

    run("import_exam_results", path, program=program.code)

    assert ExamAttempt.objects.get().score == 201


@pytest.mark.parametrize(
    ("content", "file_name", "options", "message"),
    [
        (b"email,credential,taken_on,result,proctor\n", "results.csv", {}, "Unknown columns: proctor"),
        (b"email,credential,taken_on,result\n", "results.txt", {}, "The file must be a .csv or .xlsx file."),
        (b"email,credential,taken_on,result\n", "results.csv", {"program": "NOPE"}, "No program with code 'NOPE'."),
    ],
)
def test_a_bad_file_or_program_is_refused(tmp_path, program, content, file_name, options, message):
    path = tmp_path / file_name
    path.write_bytes(content)

    _out, _err, refusal = run_refused("import_exam_results", path, **{"program": program.code, **options})

    assert message in refusal


def test_a_missing_file_is_refused(tmp_path, program):
    _out, _err, refusal = run_refused("import_exam_results", tmp_path / "absent.csv", program=program.code)

    assert refusal == f"No file at {tmp_path / 'absent.csv'}."


# --- Graduate outcomes --------------------------------------------------------------------


def test_it_imports_graduate_outcomes_and_a_rerun_changes_nothing(outcomes_file, program):
    dry, _err = run("import_graduate_outcomes", outcomes_file, program=program.code, dry_run=True)
    assert dry.strip() == "Would import 1 rows: 1 new, 0 changed, 0 unchanged, 0 with errors."
    assert not JobPlacement.objects.exists()

    out, _err = run("import_graduate_outcomes", outcomes_file, program=program.code)
    before = written_state()
    again, _err = run("import_graduate_outcomes", outcomes_file, program=program.code)

    assert out.strip() == "Imported 1 rows: 1 new, 0 changed, 0 unchanged, 0 with errors."
    assert again.strip() == "Imported 1 rows: 0 new, 0 changed, 1 unchanged, 0 with errors."
    assert JobPlacement.objects.get().employer == "Lakeside Clinic"
    assert written_state() == before


def test_an_unavailable_graduate_without_a_reason_is_refused(tmp_path, program, alice):
    path = tmp_path / "outcomes.csv"
    path.write_bytes(to_csv([outcome_row(alice, status="unavailable")], OUTCOME_COLUMNS))

    _out, err, message = run_refused("import_graduate_outcomes", path, program=program.code)

    assert err.splitlines() == ["Row 2, unavailable_reason: is required when the status is unavailable"]
    assert message == "Nothing was imported: 1 error."
    assert not JobPlacement.objects.exists()


def test_an_outcomes_file_with_a_student_who_has_not_graduated_names_the_row(tmp_path, program, alice):
    path = tmp_path / "outcomes.csv"
    path.write_bytes(to_csv([outcome_row(alice)], OUTCOME_COLUMNS))

    _out, err, _message = run_refused("import_graduate_outcomes", path, program=program.code)

    assert err.startswith("Row 2, email: is not a graduate")
