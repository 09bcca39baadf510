"""Setting a program up from files: the cohorts and courses formats (curriculum/setup_imports.py),
writing their plans (curriculum/services/setup_imports.py) and the commands."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from openpyxl import Workbook

from curriculum import services, setup_imports, spreadsheets
from curriculum.models import Cohort, Course, Program, StaffRole
from tests import factories


def sheet_csv(columns: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if cell is None else str(cell) for cell in row])
    return out.getvalue().encode()


def sheet_xlsx(columns: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


COHORT_COLUMNS = ["code", "name", "starts_on", "expected_graduation_on", "instructors"]
COURSE_COLUMNS = ["code", "title", "hours", "is_trigger_course"]


def cohorts_csv(*rows: list[Any], columns: list[str] = COHORT_COLUMNS) -> bytes:
    return sheet_csv(columns, list(rows))


def courses_csv(*rows: list[Any], columns: list[str] = COURSE_COLUMNS) -> bytes:
    return sheet_csv(columns, list(rows))


FALL = ["2026-FALL", "Fall 2026", "2026-09-01", "2027-06-30", ""]
SPRING = ["2027-SPRING", "Spring 2027", "2027-01-15", "2027-12-15", ""]
MA101 = ["MA101", "Anatomy and Physiology", "90", ""]
MA102 = ["MA102", "Clinical Procedures", "120", "yes"]


def plan_cohorts(program: Program, content: bytes, file_name: str = "cohorts.csv") -> setup_imports.SetupPlan:
    return setup_imports.plan_cohorts(program=program, content=content, file_name=file_name)


def plan_courses(program: Program, content: bytes, file_name: str = "courses.csv") -> setup_imports.SetupPlan:
    return setup_imports.plan_courses(program=program, content=content, file_name=file_name)


def errors_by_column(plan: setup_imports.SetupPlan) -> dict[tuple[int, str], str]:
    return {(error.line, error.column): error.message for error in plan.errors}


def cohorts_state(program: Program) -> list[tuple[Any, ...]]:
    cohorts = Cohort.objects.filter(program=program).prefetch_related("instructors").order_by("code")
    return [
        (
            cohort.code,
            cohort.name,
            cohort.start_on,
            cohort.expected_graduation_on,
            tuple(sorted(user.email for user in cohort.instructors.all())),
        )
        for cohort in cohorts
    ]


def courses_state(program: Program) -> list[tuple[Any, ...]]:
    program.refresh_from_db()
    return [
        (course.code, course.title, course.clock_hours, course.pk == program.trigger_course_id)
        for course in Course.objects.filter(program=program).order_by("code")
    ]


def instructor(program: Program, email: str) -> Any:
    return factories.StaffFactory(program=program, role=StaffRole.Role.INSTRUCTOR, user__email=email).user


# --- Cohorts ------------------------------------------------------------------------------


def test_a_cohorts_file_plans_new_cohorts_and_writes_nothing(program):
    plan = plan_cohorts(program, cohorts_csv(FALL, SPRING))

    assert [row.action for row in plan.rows] == ["create", "create"]
    assert plan.summary == {"rows": 2, "new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert not Cohort.objects.filter(program=program).exists()


def test_it_creates_the_cohorts_with_their_dates_and_instructors(program):
    irene = instructor(program, "irene@school.test")
    ivan = instructor(program, "ivan@school.test")
    fall = [*FALL[:4], "irene@school.test; IVAN@school.test"]

    plan = services.apply_cohorts(program=program, content=cohorts_csv(fall, SPRING), file_name="cohorts.csv")

    assert plan.summary["new"] == 2
    assert cohorts_state(program) == [
        ("2026-FALL", "Fall 2026", date(2026, 9, 1), date(2027, 6, 30), tuple(sorted([irene.email, ivan.email]))),
        ("2027-SPRING", "Spring 2027", date(2027, 1, 15), date(2027, 12, 15), ()),
    ]


def test_importing_the_same_cohorts_file_again_changes_nothing(program):
    instructor(program, "irene@school.test")
    content = cohorts_csv([*FALL[:4], "irene@school.test"], SPRING)
    services.apply_cohorts(program=program, content=content, file_name="cohorts.csv")
    before = cohorts_state(program)

    again = services.apply_cohorts(program=program, content=content, file_name="cohorts.csv")

    assert [row.action for row in again.rows] == ["unchanged", "unchanged"]
    assert cohorts_state(program) == before


def test_a_workbook_with_real_dates_imports_like_the_csv(program):
    content = sheet_xlsx(COHORT_COLUMNS[:4], [["2026-FALL", "Fall 2026", date(2026, 9, 1), date(2027, 6, 30)]])

    services.apply_cohorts(program=program, content=content, file_name="cohorts.xlsx")

    assert cohorts_state(program) == [("2026-FALL", "Fall 2026", date(2026, 9, 1), date(2027, 6, 30), ())]


def test_it_updates_a_cohort_found_by_its_code_in_any_case(program, cohort):
    row = [cohort.code.lower(), "Renamed", "2026-09-01", "2027-06-30", ""]

    plan = services.apply_cohorts(program=program, content=cohorts_csv(row), file_name="cohorts.csv")

    assert plan.rows[0].action == "update"
    assert set(plan.rows[0].changes) == {"name", "starts_on", "expected_graduation_on"}
    cohort.refresh_from_db()
    assert (cohort.code, cohort.name, cohort.start_on) == (cohort.code, "Renamed", date(2026, 9, 1))


def test_an_empty_instructors_cell_leaves_a_cohorts_instructors_alone(program, cohort, irene):
    row = [cohort.code, cohort.name, cohort.start_on.isoformat(), cohort.expected_graduation_on.isoformat(), ""]

    plan = services.apply_cohorts(program=program, content=cohorts_csv(row), file_name="cohorts.csv")

    assert plan.rows[0].action == "unchanged"
    assert list(cohort.instructors.all()) == [irene]


def test_a_filled_instructors_cell_is_the_cohorts_whole_list(program, cohort, irene, ivan):
    row = [cohort.code, cohort.name, cohort.start_on.isoformat(), cohort.expected_graduation_on.isoformat(), ivan.email]

    plan = services.apply_cohorts(program=program, content=cohorts_csv(row), file_name="cohorts.csv")

    assert plan.rows[0].changes == {"instructors": ((irene.email,), (ivan.email,))}
    assert list(cohort.instructors.all()) == [ivan]


def test_it_refuses_an_instructor_who_is_not_an_instructor_of_the_program(program, dana, olga):
    other_program = factories.ProgramFactory()
    stranger = factories.StaffFactory(program=other_program, role=StaffRole.Role.INSTRUCTOR).user
    rows = [
        [*FALL[:4], olga.email],
        [*SPRING[:4], stranger.email],
        ["2027-FALL", "Fall 2027", "2027-09-01", "2028-06-30", dana.email],
        ["2028-FALL", "Fall 2028", "2028-09-01", "2029-06-30", "nobody@school.test"],
    ]

    plan = plan_cohorts(program, cohorts_csv(*rows))

    assert [(error.line, error.column) for error in plan.errors] == [
        (2, "instructors"),
        (3, "instructors"),
        (4, "instructors"),
        (5, "instructors"),
    ]
    assert plan.errors[3].message == (
        f"nobody@school.test is not an instructor of {program.code}; add them on the program page first"
    )
    with pytest.raises(ValidationError):
        services.apply_cohorts(program=program, content=cohorts_csv(*rows), file_name="cohorts.csv")
    assert not Cohort.objects.filter(program=program).exists()


def test_instructors_may_be_separated_by_semicolons_commas_or_spaces(program):
    people = [instructor(program, f"teacher{number}@school.test") for number in range(3)]
    cell = "teacher0@school.test, teacher1@school.test;teacher2@school.test  teacher0@school.test"

    services.apply_cohorts(program=program, content=cohorts_csv([*FALL[:4], cell]), file_name="cohorts.csv")

    assert cohorts_state(program)[0][4] == tuple(sorted(person.email for person in people))


def test_a_row_of_many_unknown_instructors_gets_one_error_naming_a_few(program):
    cell = ";".join(f"stranger{number}@school.test" for number in range(400))

    plan = plan_cohorts(program, cohorts_csv([*FALL[:4], cell]))

    assert [str(error) for error in plan.errors] == [
        "Row 2, instructors: stranger0@school.test, stranger1@school.test, stranger2@school.test, "
        f"stranger3@school.test, stranger4@school.test and 395 more are not instructors of {program.code}; "
        "add them on the program page first"
    ]


def test_each_bad_cohort_cell_is_an_error_naming_its_column(program):
    rows = [
        ["", "No code", "2026-09-01", "2027-06-30", ""],
        ["has space", "Bad code", "2026-09-01", "2027-06-30", ""],
        ["A", "", "2026-09-01", "2027-06-30", ""],
        ["B", "Bad start", "09/01/2026", "2027-06-30", ""],
        ["C", "No graduation", "2026-09-01", "", ""],
        ["D", "Graduates first", "2026-09-01", "2026-09-01", ""],
        ["E", "Bad month", "2026-13-01", "2027-06-30", ""],
        ["a", "Twice", "2026-09-01", "2027-06-30", ""],
        ["F", "x" * 201, "2026-09-01", "2027-06-30", ""],
    ]

    plan = plan_cohorts(program, cohorts_csv(*rows))

    assert errors_by_column(plan) == {
        (2, "code"): "is required",
        (3, "code"): "“has space” may hold only letters, digits, dots, dashes or underscores, from a letter or digit",
        (4, "name"): "is required",
        (5, "starts_on"): "“09/01/2026” is not a date; use YYYY-MM-DD",
        (6, "expected_graduation_on"): "is required",
        (7, "expected_graduation_on"): "must be after starts_on",
        (8, "starts_on"): "“2026-13-01” is not a date; use YYYY-MM-DD",
        (9, "code"): "appears again (first on row 4)",
        (10, "name"): "is longer than 200 characters",
    }
    assert all(row.action == "error" for row in plan.rows if row.line != 4)


def test_one_bad_row_writes_no_cohort_at_all(program, cohort):
    before = cohorts_state(program)
    rows = [
        FALL,
        [cohort.code, "Renamed", "2026-09-01", "2027-06-30", ""],
        ["X", "Bad", "2026-09-01", "2025-01-01", ""],
    ]

    with pytest.raises(ValidationError) as refusal:
        services.apply_cohorts(program=program, content=cohorts_csv(*rows), file_name="cohorts.csv")

    assert refusal.value.messages == ["Row 4, expected_graduation_on: must be after starts_on"]
    assert cohorts_state(program) == before


def test_an_unknown_column_makes_the_cohorts_file_unreadable(program):
    with pytest.raises(spreadsheets.UnreadableFile, match=r"Unknown columns: room\. The cohorts format has"):
        plan_cohorts(program, cohorts_csv([*FALL[:4], "101"], columns=[*COHORT_COLUMNS[:4], "room"]))


def test_a_missing_column_makes_the_cohorts_file_unreadable(program):
    with pytest.raises(spreadsheets.UnreadableFile, match="Missing required columns: expected_graduation_on"):
        plan_cohorts(program, cohorts_csv(FALL[:3], columns=COHORT_COLUMNS[:3]))


def test_another_programs_cohort_with_the_same_code_is_left_alone(program):
    elsewhere = factories.CohortFactory(code="2026-FALL", name="Theirs")

    services.apply_cohorts(program=program, content=cohorts_csv(FALL), file_name="cohorts.csv")

    elsewhere.refresh_from_db()
    assert elsewhere.name == "Theirs"
    assert Cohort.objects.filter(program=program, code="2026-FALL").exists()


# --- Courses ------------------------------------------------------------------------------


def test_it_creates_courses_and_sets_the_trigger_course(program):
    plan = services.apply_courses(program=program, content=courses_csv(MA101, MA102), file_name="courses.csv")

    assert plan.summary == {"rows": 2, "new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert courses_state(program) == [
        ("MA101", "Anatomy and Physiology", 90, False),
        ("MA102", "Clinical Procedures", 120, True),
    ]


def test_importing_the_same_courses_file_again_changes_nothing(program):
    content = courses_csv(MA101, MA102)
    services.apply_courses(program=program, content=content, file_name="courses.csv")
    before = courses_state(program)

    again = services.apply_courses(program=program, content=content, file_name="courses.csv")

    assert [row.action for row in again.rows] == ["unchanged", "unchanged"]
    assert courses_state(program) == before


def test_it_updates_a_courses_title_and_hours(program):
    course = factories.CourseFactory(program=program, code="MA101", title="Old", clock_hours=80)

    plan = plan_courses(program, courses_csv(MA101))

    assert plan.rows[0].action == "update"
    assert plan.rows[0].changes == {"title": ("Old", "Anatomy and Physiology"), "hours": (80, 90)}
    services.apply_courses(program=program, content=courses_csv(MA101), file_name="courses.csv")
    course.refresh_from_db()
    assert (course.title, course.clock_hours) == ("Anatomy and Physiology", 90)


def test_each_bad_course_cell_is_an_error_naming_its_column(program):
    rows = [
        ["", "No code", "10", ""],
        ["A", "", "10", ""],
        ["B", "No hours", "", ""],
        ["C", "Zero hours", "0", ""],
        ["D", "Fractional hours", "1.5", ""],
        ["E", "Negative hours", "-3", ""],
        ["F", "Words", "ten", ""],
        ["G", "Maybe", "10", "maybe"],
        ["a", "Twice", "10", ""],
        ["H", "Too many hours", "10001", ""],
    ]

    plan = plan_courses(program, courses_csv(*rows))

    assert errors_by_column(plan) == {
        (2, "code"): "is required",
        (3, "title"): "is required",
        (4, "hours"): "is required",
        (5, "hours"): "“0” is not a whole number of hours from 1 to 10000",
        (6, "hours"): "“1.5” is not a whole number of hours from 1 to 10000",
        (7, "hours"): "“-3” is not a whole number of hours from 1 to 10000",
        (8, "hours"): "“ten” is not a whole number of hours from 1 to 10000",
        (9, "is_trigger_course"): "“maybe” is not yes or no (yes, no, true, false, 1, 0)",
        (10, "code"): "appears again (first on row 3)",
        (11, "hours"): "“10001” is not a whole number of hours from 1 to 10000",
    }


@pytest.mark.parametrize("yes", ["yes", "YES", "true", "True", "1"])
def test_it_reads_every_spelling_of_yes(program, yes):
    plan = plan_courses(program, courses_csv([*MA101[:3], yes]))

    assert plan.rows[0].values["is_trigger_course"] is True


@pytest.mark.parametrize("no", ["no", "No", "false", "FALSE", "0", ""])
def test_it_reads_every_spelling_of_no_and_an_empty_cell_as_no_trigger_course(program, no):
    services.apply_courses(program=program, content=courses_csv([*MA101[:3], no]), file_name="courses.csv")

    assert courses_state(program) == [("MA101", "Anatomy and Physiology", 90, False)]


def test_it_refuses_two_trigger_courses_in_one_file(program):
    plan = plan_courses(program, courses_csv([*MA101[:3], "yes"], MA102))

    assert errors_by_column(plan) == {
        (3, "is_trigger_course"): "a program has one trigger course, and row 2 names one already"
    }


def test_it_refuses_a_second_trigger_course_beside_the_programs(program):
    current = factories.CourseFactory(program=program, code="MA090")
    program.trigger_course = current
    program.save()

    with pytest.raises(ValidationError) as refusal:
        services.apply_courses(program=program, content=courses_csv(MA101, MA102), file_name="courses.csv")

    assert refusal.value.messages == [
        "Row 3, is_trigger_course: the program's trigger course is another course; say no on its row to move it"
    ]
    assert courses_state(program) == [("MA090", current.title, None, True)]


def test_saying_no_on_the_current_trigger_course_moves_it_to_the_new_one(program):
    current = factories.CourseFactory(program=program, code="MA090", title="Intro", clock_hours=30)
    program.trigger_course = current
    program.save()

    plan = services.apply_courses(
        program=program, content=courses_csv(["MA090", "Intro", "30", "no"], MA102), file_name="courses.csv"
    )

    assert [row.changes.get("is_trigger_course") for row in plan.rows] == [(True, False), (False, True)]
    assert courses_state(program) == [("MA090", "Intro", 30, False), ("MA102", "Clinical Procedures", 120, True)]


def test_saying_no_on_the_trigger_course_alone_clears_it(program):
    current = factories.CourseFactory(program=program, code="MA101", title=MA101[1], clock_hours=90)
    program.trigger_course = current
    program.save()

    services.apply_courses(program=program, content=courses_csv([*MA101[:3], "no"]), file_name="courses.csv")

    assert courses_state(program) == [("MA101", MA101[1], 90, False)]


def test_an_empty_trigger_cell_leaves_the_programs_trigger_course_alone(program):
    current = factories.CourseFactory(program=program, code="MA101", title=MA101[1], clock_hours=90)
    program.trigger_course = current
    program.save()

    plan = services.apply_courses(program=program, content=courses_csv(MA101), file_name="courses.csv")

    assert plan.rows[0].action == "unchanged"
    assert courses_state(program) == [("MA101", MA101[1], 90, True)]


def test_the_trigger_course_column_may_be_left_out(program):
    content = courses_csv(MA101[:3], columns=COURSE_COLUMNS[:3])

    services.apply_courses(program=program, content=content, file_name="courses.csv")

    assert courses_state(program) == [("MA101", "Anatomy and Physiology", 90, False)]


def test_an_unknown_column_makes_the_courses_file_unreadable(program):
    with pytest.raises(spreadsheets.UnreadableFile, match=r"Unknown columns: credits\. The courses format has"):
        plan_courses(program, courses_csv([*MA101, "3"], columns=[*COURSE_COLUMNS, "credits"]))


def test_a_plan_survives_its_json_round_trip(program, irene):
    plan = plan_cohorts(program, cohorts_csv([*FALL[:4], irene.email]))

    restored = [setup_imports.SetupRow.from_json(row) for row in plan.as_json()]

    assert restored == plan.rows


# --- Commands -----------------------------------------------------------------------------


def run(command: str, path: Path, stderr: io.StringIO | None = None, **options: Any) -> tuple[str, str]:
    """Run the command; return what it printed to stdout and stderr."""
    stdout, stderr = io.StringIO(), stderr or io.StringIO()
    call_command(command, str(path), stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def test_the_cohorts_command_dry_run_writes_nothing(program, tmp_path):
    path = tmp_path / "cohorts.csv"
    path.write_bytes(cohorts_csv(FALL, SPRING))

    out, err = run("import_cohorts", path, program=program.code, dry_run=True)

    assert out.strip() == "Would import 2 rows: 2 new cohorts, 0 updated, 0 unchanged, 0 with errors."
    assert err == ""
    assert not Cohort.objects.filter(program=program).exists()


def test_the_cohorts_command_imports_and_a_second_run_changes_nothing(program, tmp_path):
    path = tmp_path / "cohorts.csv"
    path.write_bytes(cohorts_csv(FALL, SPRING))

    first, _err = run("import_cohorts", path, program=program.code)
    second, _err = run("import_cohorts", path, program=program.code)

    assert first.strip() == "Imported 2 rows: 2 new cohorts, 0 updated, 0 unchanged, 0 with errors."
    assert second.strip() == "Imported 2 rows: 0 new cohorts, 0 updated, 2 unchanged, 0 with errors."


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_courses_command_fails_with_the_row_errors(program, tmp_path, dry_run):
    path = tmp_path / "courses.csv"
    path.write_bytes(courses_csv(MA101, ["MA102", "Clinical", "lots", ""]))

    stderr = io.StringIO()

    with pytest.raises(CommandError, match="1 errors"):
        run("import_courses", path, stderr=stderr, program=program.code, dry_run=dry_run)

    assert "Row 3, hours: “lots” is not a whole number of hours from 1 to 10000" in stderr.getvalue()
    assert not Course.objects.filter(program=program).exists()


@pytest.mark.parametrize(
    ("dry_run", "message"),
    [(True, "1 errors; a real import would write nothing."), (False, "Nothing was imported: 1 errors.")],
)
def test_the_courses_command_says_what_a_bad_row_did_in_its_own_words(program, tmp_path, dry_run, message):
    """The import commands share their scaffolding (curriculum/management/imports.py); each keeps its wording."""
    path = tmp_path / "courses.csv"
    path.write_bytes(courses_csv(MA101, ["MA102", "Clinical", "lots", ""]))

    with pytest.raises(CommandError) as refusal:
        run("import_courses", path, program=program.code, dry_run=dry_run)

    assert str(refusal.value) == message


def test_the_cohorts_command_says_the_records_changed_when_a_write_collides(program, tmp_path, monkeypatch):
    def collides(**_kwargs: Any) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "apply_cohorts", collides)
    path = tmp_path / "cohorts.csv"
    path.write_bytes(cohorts_csv(FALL))

    with pytest.raises(CommandError) as refusal:
        run("import_cohorts", path, program=program.code)

    assert str(refusal.value) == "Nothing was imported: the cohorts changed meanwhile. Run it again."


def test_the_courses_command_imports_the_courses(program, tmp_path):
    path = tmp_path / "courses.csv"
    path.write_bytes(courses_csv(MA101, MA102))

    out, _err = run("import_courses", path, program=program.code)

    assert out.strip() == "Imported 2 rows: 2 new courses, 0 updated, 0 unchanged, 0 with errors."
    assert courses_state(program)[1] == ("MA102", "Clinical Procedures", 120, True)


def test_the_commands_refuse_an_unknown_program_and_an_unreadable_file(program, tmp_path):
    path = tmp_path / "courses.txt"
    path.write_bytes(b"code,title,hours\n")

    with pytest.raises(CommandError, match="No program with code 'NOPE'"):
        run("import_courses", path, program="NOPE")
    with pytest.raises(CommandError, match=r"must be a \.csv or \.xlsx file"):
        run("import_cohorts", path, program=program.code)
