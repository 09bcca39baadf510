"""`manage.py import_roster`: the roster import from the command line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import Invitation, User
from curriculum import roster
from curriculum.models import Enrollment
from tests.curriculum.test_roster import (
    INTAKE_CREATED_MEANWHILE,
    race_for_an_intake,
    roster_csv,
    roster_xlsx,
    spring_rows,
    student_row,
)


def import_roster(path: Path, **options: Any) -> tuple[str, str]:
    """Run the command; return what it printed to stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_roster", str(path), stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def good_file(tmp_path, cohort) -> Path:
    path = tmp_path / "students.csv"
    path.write_bytes(roster_csv([student_row(cohort, 1), student_row(cohort, 2)]))
    return path


@pytest.fixture
def bad_file(tmp_path, cohort) -> Path:
    path = tmp_path / "students.csv"
    path.write_bytes(
        roster_csv([student_row(cohort, 1), student_row(cohort, 2, admitted_on="2026-13-01"), student_row(cohort, 3)])
    )
    return path


def test_a_dry_run_prints_the_summary_and_writes_nothing(good_file, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out, err = import_roster(good_file, program=cohort.program.code, dry_run=True)

    assert out.strip() == (
        "Would import 2 rows: 2 new students, 0 new enrollments, 0 updated, 0 unchanged, 0 with errors."
    )
    assert err == ""
    assert not User.objects.filter(email__endswith="@school.test").exists()
    assert not Enrollment.objects.exists()
    assert not Invitation.objects.exists()
    assert callbacks == []


def test_it_imports_a_roster_and_invites_the_new_students(good_file, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = import_roster(good_file, program=cohort.program.code, invite=True)

    assert out.strip() == "Imported 2 rows: 2 new students, 0 new enrollments, 0 updated, 0 unchanged, 0 with errors."
    assert Enrollment.objects.filter(cohort=cohort).count() == 2
    assert Invitation.objects.filter(invited_by=None).count() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["student1@school.test", "student2@school.test"]


def test_running_it_twice_changes_nothing_the_second_time(good_file, cohort):
    import_roster(good_file, program=cohort.program.code, invite=True)

    out, _err = import_roster(good_file, program=cohort.program.code, invite=True)

    assert "0 new students, 0 new enrollments, 0 updated, 2 unchanged" in out
    assert Enrollment.objects.count() == 2
    assert Invitation.objects.count() == 2


def test_it_imports_an_xlsx_file(tmp_path, cohort):
    path = tmp_path / "students.xlsx"
    path.write_bytes(roster_xlsx([student_row(cohort, 1, student_number=17)]))

    import_roster(path, program=cohort.program.code)

    assert Enrollment.objects.get().student_number == "17"


def test_with_a_bad_row_it_fails_and_writes_nothing(bad_file, cohort, django_capture_on_commit_callbacks):
    stderr = io.StringIO()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(CommandError, match=r"Nothing was imported: 1 errors\. Fix them, or pass --skip-bad-rows\."),
    ):
        call_command("import_roster", str(bad_file), program=cohort.program.code, stderr=stderr)

    assert "Row 3, admitted_on: “2026-13-01” is not a date; use YYYY-MM-DD" in stderr.getvalue()
    assert not User.objects.filter(email__endswith="@school.test").exists()
    assert not Enrollment.objects.exists()
    assert not Invitation.objects.exists()
    assert callbacks == []


def test_a_dry_run_with_a_bad_row_lists_it_and_fails(bad_file, cohort):
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 errors; a real import would write nothing"):
        call_command(
            "import_roster", str(bad_file), program=cohort.program.code, dry_run=True, stdout=stdout, stderr=stderr
        )

    assert "2 new students" in stdout.getvalue()
    assert "1 with errors" in stdout.getvalue()
    assert "Row 3, admitted_on" in stderr.getvalue()
    assert not Enrollment.objects.exists()


def test_skip_bad_rows_imports_the_good_rows(bad_file, cohort):
    out, err = import_roster(bad_file, program=cohort.program.code, skip_bad_rows=True)

    assert out.strip() == (
        "Imported 3 rows: 2 new students, 0 new enrollments, 0 updated, 0 unchanged, 1 with errors (skipped)."
    )
    assert "Row 3, admitted_on" in err
    assert set(Enrollment.objects.values_list("student__email", flat=True)) == {
        "student1@school.test",
        "student3@school.test",
    }


def test_an_unreadable_file_is_a_command_error_naming_the_columns(tmp_path, cohort):
    path = tmp_path / "students.csv"
    path.write_bytes(b"email,first_name,cohort,admitted_on,nickname\n")

    with pytest.raises(CommandError, match="Unknown columns: nickname"):
        import_roster(path, program=cohort.program.code)


def test_an_unknown_program_or_a_missing_file_is_a_command_error(good_file, tmp_path, cohort):
    with pytest.raises(CommandError, match="No program with code 'NOPE'"):
        import_roster(good_file, program="NOPE")
    with pytest.raises(CommandError, match="No file at"):
        import_roster(tmp_path / "missing.csv", program=cohort.program.code)


@pytest.fixture
def intakes_file(tmp_path, cohort) -> Path:
    """Students of "2021 Spring", an intake the program lacks, one graduated and one withdrawn."""
    path = tmp_path / "alumni.csv"
    path.write_bytes(
        roster_csv(
            [
                student_row(cohort, 1, cohort="2021 Spring", admitted_on="2021-03-01", graduated_on="2022-03-05"),
                student_row(cohort, 2, cohort="2021 spring", admitted_on="2021-02-15", withdrawn_on="2021-06-01"),
                student_row(cohort, 3, cohort=cohort.name),
            ]
        )
    )
    return path


def test_a_dry_run_lists_the_intakes_the_program_lacks_with_their_dates(intakes_file, cohort):
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="2 errors"):
        call_command(
            "import_roster", str(intakes_file), program=cohort.program.code, dry_run=True, stdout=stdout, stderr=stderr
        )

    assert "Intakes the program lacks (pass --create-cohorts to create them):" in stdout.getvalue()
    assert "2021-SPRING '2021 Spring': 2021-02-15 to 2022-03-05, 2 rows" in stdout.getvalue()
    assert "Row 2, cohort: no intake named “2021 Spring”" in stderr.getvalue()
    out, _err = import_roster(intakes_file, program=cohort.program.code, dry_run=True, create_cohorts=True)
    assert "Intakes that would be created:" in out
    assert not Enrollment.objects.exists()


def test_create_cohorts_creates_the_intakes_and_invites_nobody_without_invite(
    intakes_file, cohort, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out, _err = import_roster(intakes_file, program=cohort.program.code, create_cohorts=True)

    assert "Intakes created:" in out
    spring = cohort.program.cohorts.get(code="2021-SPRING")
    assert spring.enrollments.count() == 2
    assert Enrollment.objects.filter(cohort=cohort).count() == 1
    assert not Invitation.objects.exists()
    assert callbacks == []


def test_invite_invites_only_the_current_students(intakes_file, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_roster(intakes_file, program=cohort.program.code, create_cohorts=True, invite=True)

    assert [message.to for message in mail.outbox] == [["student3@school.test"]]


def test_a_dry_run_names_a_new_intake_as_most_rows_spell_it(tmp_path, cohort):
    path = tmp_path / "alumni.csv"
    path.write_bytes(
        roster_csv(
            [
                student_row(cohort, 1, cohort="2021 spring", admitted_on="2021-03-01"),
                student_row(cohort, 2, cohort="2021  Spring", admitted_on="2021-03-01"),
                student_row(cohort, 3, cohort="2021 Spring", admitted_on="2021-03-01"),
            ]
        )
    )

    out, _err = import_roster(path, program=cohort.program.code, dry_run=True, create_cohorts=True)

    assert "2021-SPRING '2021 Spring': 2021-03-01 to" in out
    assert "3 rows" in out


def test_its_row_errors_name_its_options_and_the_page_keeps_its_wording(intakes_file, cohort):
    """Refused, dry run and skipped: each way the command prints the row errors names --create-cohorts."""
    refused, dry_run = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="pass --skip-bad-rows"):
        call_command("import_roster", str(intakes_file), program=cohort.program.code, stderr=refused)
    with pytest.raises(CommandError, match="2 errors; a real import would write nothing"):
        call_command("import_roster", str(intakes_file), program=cohort.program.code, dry_run=True, stderr=dry_run)
    _out, skipped = import_roster(intakes_file, program=cohort.program.code, skip_bad_rows=True)

    for printed in (refused.getvalue(), dry_run.getvalue(), skipped):
        assert "Row 2, cohort: no intake named “2021 Spring” in " in printed
        assert "pass --create-cohorts or import a cohorts file first" in printed
        assert "tick" not in printed
    # The wording is the command's only while it runs: the page, planning afterwards, keeps its own.
    page_plan = roster.plan_roster(program=cohort.program, content=intakes_file.read_bytes(), file_name="a.csv")
    assert "tick “create the missing intakes” or import a cohorts file first" in page_plan.errors[0].message


@pytest.mark.django_db(transaction=True)
def test_an_intake_another_import_created_meanwhile_ends_with_a_clear_message(tmp_path, program, monkeypatch):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(roster_csv(spring_rows(1, 2)))
    second.write_bytes(roster_csv(spring_rows(3, 4)))

    outcome = race_for_an_intake(
        monkeypatch,
        lambda: import_roster(first, program=program.code, create_cohorts=True),
        lambda: import_roster(second, program=program.code, create_cohorts=True),
    )

    assert "Imported 2 rows: 2 new students" in outcome["first"][0]
    assert isinstance(outcome["second"], CommandError), outcome["second"]
    assert str(outcome["second"]) == f"Nothing was imported: {INTAKE_CREATED_MEANWHILE}"
    assert Enrollment.objects.count() == 2
    assert not User.objects.filter(email__in=["student3@school.test", "student4@school.test"]).exists()

    out, _err = import_roster(second, program=program.code, create_cohorts=True)

    assert "Intakes" not in out
    assert "Imported 2 rows: 2 new students" in out
    assert Enrollment.objects.filter(cohort__code="2021-SPRING").count() == 4
