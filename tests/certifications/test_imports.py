"""Exam results and graduate outcomes imports: reading, checking and planning a file, and applying
the plan through the certification services (certifications/imports.py)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.formats import date_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from certifications import imports, services
from certifications.models import (
    CertificationTrack,
    Credential,
    ExamAttempt,
    JobPlacement,
    PlacementStatus,
    ResultImport,
)
from curriculum.models import Enrollment
from externships.services.compliance import add_months
from tests import factories
from tests.certification_factories import ExamAttemptFactory, JobPlacementFactory

EXAM = ResultImport.Kind.EXAM_RESULTS
OUTCOMES = ResultImport.Kind.GRADUATE_OUTCOMES
EXAM_COLUMNS = imports.EXAM_RESULTS_FORMAT.columns
OUTCOME_COLUMNS = imports.GRADUATE_OUTCOMES_FORMAT.columns


def days_ago(program: Any, days: int) -> date:
    return program.today() - timedelta(days=days)


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> bytes:
    """A UTF-8 CSV with a header of the given columns; missing cells are empty."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else str(row[column]) for column in columns])
    return out.getvalue().encode()


def to_xlsx(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> bytes:
    """The same rows as a workbook, typed as spreadsheets save them: real dates and numbers."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def exam_row(student: Any, taken_on: date, /, **cells: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"email": student.email, "credential": "CMA", "taken_on": taken_on, "result": "pass"}
    row.update(cells)
    return row


def outcome_row(student: Any, /, **cells: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"email": student.email, "status": "in_field"}
    row.update(cells)
    return row


def plan(program: Any, kind: str, content: bytes, file_name: str = "file.csv") -> imports.ImportPlan:
    return imports.plan_import(kind=kind, program=program, content=content, file_name=file_name)


def apply(program: Any, kind: str, content: bytes, file_name: str = "file.csv") -> imports.ImportPlan:
    return imports.apply_import(kind=kind, program=program, content=content, file_name=file_name, by=None)


def written_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import may write, to compare before and after."""
    return {
        "attempts": list(
            ExamAttempt.objects.order_by("pk").values_list(
                "pk", "enrollment_id", "track_id", "taken_on", "result", "score", "source", "recorded_at"
            )
        ),
        "credentials": list(Credential.objects.order_by("pk").values_list("pk", "exam_attempt_id", "issued_on")),
        "placements": list(
            JobPlacement.objects.order_by("pk").values_list(
                "pk",
                "enrollment_id",
                "status",
                "employed_on",
                "employer",
                "position",
                "unavailable_reason",
                "recorded_at",
            )
        ),
    }


@pytest.fixture
def graduate(cohort):
    """Gina, who graduated from the cohort."""
    admitted = cohort.start_on
    return factories.EnrollmentFactory(
        cohort=cohort, student__first_name="Gina", admitted_on=admitted, graduated_on=admitted + timedelta(days=30)
    )


# --- Exam results: a good file ------------------------------------------------------------


def test_a_pass_is_recorded_as_imported_and_issues_the_credential(program, alice, bob):
    day = days_ago(program, 10)
    content = to_csv(
        [exam_row(alice, day, score="212"), exam_row(bob, day, credential="rma", result="FAIL")], EXAM_COLUMNS
    )

    result = apply(program, EXAM, content)

    assert result.summary == {"rows": 2, "new": 2, "changed": 0, "unchanged": 0, "errors": 0}
    passed = ExamAttempt.objects.get(enrollment__student=alice)
    assert (passed.track.code, passed.taken_on, passed.result, passed.score, passed.source) == (
        "CMA",
        day,
        "pass",
        Decimal("212.0"),
        ExamAttempt.Source.IMPORT,
    )
    credential = Credential.objects.get()
    assert credential.exam_attempt == passed
    assert credential.issued_on == day
    assert credential.expires_on == passed.track.expiry_for(day)
    failed = ExamAttempt.objects.get(enrollment__student=bob)
    assert (failed.track.code, failed.result, failed.score) == ("RMA", "fail", None)


def test_a_dry_run_plans_the_rows_and_writes_nothing(program, alice):
    content = to_csv([exam_row(alice, days_ago(program, 10))], EXAM_COLUMNS)

    result = plan(program, EXAM, content)

    assert [(row.line, row.action, row.enrollment.student) for row in result.rows] == [(2, "new", alice)]
    assert written_state() == {"attempts": [], "credentials": [], "placements": []}


def test_importing_the_same_exam_file_again_changes_nothing(program, alice, bob):
    day = days_ago(program, 10)
    content = to_csv([exam_row(alice, day, score="212"), exam_row(bob, day, result="fail")], EXAM_COLUMNS)
    apply(program, EXAM, content)
    before = written_state()

    again = plan(program, EXAM, content)
    applied = apply(program, EXAM, content)

    assert [row.action for row in again.rows] == ["unchanged", "unchanged"]
    assert applied.summary["unchanged"] == 2
    assert written_state() == before


def test_a_result_entered_on_a_page_matches_the_same_row_of_a_file(program, alice):
    enrollment = alice.enrollments.get()
    ExamAttemptFactory(enrollment=enrollment, taken_on=days_ago(program, 10), result="pass", score=Decimal(212))

    result = plan(program, EXAM, to_csv([exam_row(alice, days_ago(program, 10), score="212.0")], EXAM_COLUMNS))

    assert result.rows[0].action == "unchanged"


def test_a_corrected_result_for_the_same_day_updates_the_sitting(program, alice):
    day = days_ago(program, 10)
    apply(program, EXAM, to_csv([exam_row(alice, day, score="212")], EXAM_COLUMNS))
    sitting = ExamAttempt.objects.get()
    assert Credential.objects.filter(exam_attempt=sitting).exists()
    corrected = to_csv([exam_row(alice, day, result="fail", score="180")], EXAM_COLUMNS)

    planned = plan(program, EXAM, corrected)
    apply(program, EXAM, corrected)

    assert planned.rows[0].action == "change"
    assert planned.rows[0].changes == {"result": ("pass", "fail"), "score": (Decimal("212.0"), Decimal(180))}
    sitting.refresh_from_db()
    assert (sitting.result, sitting.score) == ("fail", Decimal(180))
    assert ExamAttempt.objects.count() == 1
    assert not Credential.objects.exists()

    apply(program, EXAM, to_csv([exam_row(alice, day, score="212")], EXAM_COLUMNS))
    assert Credential.objects.get().exam_attempt_id == sitting.pk


def test_a_file_without_a_score_column_keeps_the_score_on_record(program, alice):
    day = days_ago(program, 10)
    apply(program, EXAM, to_csv([exam_row(alice, day, score="212")], EXAM_COLUMNS))

    result = apply(program, EXAM, to_csv([exam_row(alice, day)], imports.EXAM_RESULTS_FORMAT.required))

    assert result.rows[0].action == "unchanged"
    assert ExamAttempt.objects.get().score == Decimal(212)


def test_an_empty_score_cell_clears_the_score(program, alice):
    day = days_ago(program, 10)
    apply(program, EXAM, to_csv([exam_row(alice, day, score="212")], EXAM_COLUMNS))

    result = apply(program, EXAM, to_csv([exam_row(alice, day, score="")], EXAM_COLUMNS))

    assert result.rows[0].changes == {"score": (Decimal("212.0"), None)}
    assert ExamAttempt.objects.get().score is None


def test_a_booking_for_the_track_is_filled_in(program, alice):
    enrollment = alice.enrollments.get()
    booking = ExamAttemptFactory(
        enrollment=enrollment, taken_on=None, result="", scheduled_on=days_ago(program, 10), location="Testing center"
    )

    apply(program, EXAM, to_csv([exam_row(alice, days_ago(program, 10))], EXAM_COLUMNS))

    booking.refresh_from_db()
    assert (booking.result, booking.taken_on, booking.source) == ("pass", days_ago(program, 10), "import")
    assert ExamAttempt.objects.count() == 1


def test_the_current_enrollment_is_chosen_else_the_most_recent(program, cohort, other_cohort, alice):
    first = alice.enrollments.get()
    Enrollment.objects.filter(pk=first.pk).update(graduated_on=first.admitted_on + timedelta(days=10))
    later = factories.EnrollmentFactory(
        student=alice, cohort=other_cohort, admitted_on=first.admitted_on + timedelta(days=20)
    )
    content = to_csv([exam_row(alice, days_ago(program, 1))], EXAM_COLUMNS)

    assert plan(program, EXAM, content).rows[0].enrollment == later

    Enrollment.objects.filter(pk=later.pk).update(withdrawn_on=later.admitted_on)
    assert plan(program, EXAM, content).rows[0].enrollment == later, "the most recent, with none current"

    Enrollment.objects.filter(pk=first.pk).update(graduated_on=None)
    assert plan(program, EXAM, content).rows[0].enrollment == first, "the current one, though admitted earlier"


def test_an_xlsx_file_imports_like_the_same_csv(program, alice, bob):
    day = days_ago(program, 10)
    rows = [exam_row(alice, day, score=212), exam_row(bob, day, result="fail", score=180.5)]

    result = apply(program, EXAM, to_xlsx(rows, EXAM_COLUMNS), "results.xlsx")

    assert result.summary["new"] == 2
    assert sorted(ExamAttempt.objects.values_list("score", "taken_on")) == [
        (Decimal("180.5"), day),
        (Decimal(212), day),
    ]
    assert [row.action for row in plan(program, EXAM, to_csv(rows, EXAM_COLUMNS)).rows] == ["unchanged"] * 2


# --- Exam results: history ----------------------------------------------------------------


def cma_rules(program: Any, **rules: Any) -> CertificationTrack:
    """The program's CMA track with the given rules, everything else out of the way: no retake limit,
    the window before completing the program open all through it, no limit after graduating."""
    track = CertificationTrack.objects.get(program=program, code="CMA")
    for name, value in {
        "retake_wait_days": None,
        "max_attempts": None,
        "wait_after_max_attempts_days": None,
        "completion_window_days": 3650,
        "graduate_window_months": None,
        **rules,
    }.items():
        setattr(track, name, value)
    track.save()
    return track


def test_a_past_retake_inside_the_wait_is_recorded_with_a_warning(program, alice):
    cma_rules(program, retake_wait_days=30)
    failed_on, retaken_on = days_ago(program, 50), days_ago(program, 40)
    content = to_csv([exam_row(alice, failed_on, result="fail"), exam_row(alice, retaken_on)], EXAM_COLUMNS)

    result = apply(program, EXAM, content)

    assert result.errors == []
    assert result.rows[0].warnings == []
    allowed = failed_on + timedelta(days=30)
    assert [(warning.line, warning.column) for warning in result.rows[1].warnings] == [(3, "taken_on")]
    assert f"may be retaken from {allowed.isoformat()}" in result.rows[1].warnings[0].message
    assert list(ExamAttempt.objects.order_by("taken_on").values_list("taken_on", "result")) == [
        (failed_on, "fail"),
        (retaken_on, "pass"),
    ]
    assert Credential.objects.get().issued_on == retaken_on


def test_a_sitting_past_the_attempt_limit_is_recorded_with_a_warning(program, alice):
    cma_rules(program, max_attempts=2)
    enrollment = Enrollment.objects.get(student=alice)
    for days in (50, 45):
        ExamAttemptFactory(enrollment=enrollment, taken_on=days_ago(program, days), result="fail")
    content = to_csv([exam_row(alice, days_ago(program, 20))], EXAM_COLUMNS)

    result = apply(program, EXAM, content)

    assert result.summary["new"] == 1
    assert "All 2 attempts allowed for CMA are used" in result.rows[0].warnings[0].message
    assert ExamAttempt.objects.filter(result="pass").count() == 1
    assert Credential.objects.get().issued_on == days_ago(program, 20)


def test_the_warning_reads_only_the_sittings_before_the_day(program, alice):
    """A sitting on record after the imported day says nothing of what the rule allowed on it."""
    cma_rules(program, retake_wait_days=30, max_attempts=1)
    ExamAttemptFactory(enrollment=Enrollment.objects.get(student=alice), taken_on=days_ago(program, 10), result="fail")

    result = plan(program, EXAM, to_csv([exam_row(alice, days_ago(program, 40), result="fail")], EXAM_COLUMNS))

    assert (result.rows[0].action, result.rows[0].errors, result.rows[0].warnings) == (imports.NEW, [], [])


def test_a_corrected_sitting_is_judged_by_its_new_result(program, alice):
    """A fail corrected to pass in the same file no longer stands before the next sitting."""
    cma_rules(program, retake_wait_days=30)
    enrollment = Enrollment.objects.get(student=alice)
    ExamAttemptFactory(enrollment=enrollment, taken_on=days_ago(program, 50), result="fail")
    content = to_csv(
        [exam_row(alice, days_ago(program, 50), result="pass"), exam_row(alice, days_ago(program, 40), result="fail")],
        EXAM_COLUMNS,
    )

    result = plan(program, EXAM, content)

    assert [row.action for row in result.rows] == [imports.CHANGE, imports.NEW]
    assert "already passed" in result.rows[1].warnings[0].message


def test_a_sitting_the_rules_allowed_has_no_warning(program, alice):
    cma_rules(program, retake_wait_days=30, max_attempts=3)
    content = to_csv(
        [exam_row(alice, days_ago(program, 50), result="fail"), exam_row(alice, days_ago(program, 20))], EXAM_COLUMNS
    )

    assert plan(program, EXAM, content).warnings == []


def test_a_warning_survives_the_stored_preview(program, alice, dana):
    cma_rules(program, retake_wait_days=30)
    content = to_csv(
        [exam_row(alice, days_ago(program, 50), result="fail"), exam_row(alice, days_ago(program, 40))], EXAM_COLUMNS
    )

    upload, previewed = imports.preview_result_import(
        program=program, kind=EXAM, uploaded_by=dana, file_name="results.csv", content=content
    )

    assert upload.plan is not None
    stored = imports.ImportPlan.from_json(EXAM, upload.plan)
    assert stored.warnings == previewed.warnings != []
    applied = imports.apply_result_import(upload=upload, applied_by=dana)
    assert applied.warnings == previewed.warnings
    assert ExamAttempt.objects.count() == 2


ELIGIBILITY_WARNING = "recorded as it happened, though the eligibility rules would have refused a booking that day: "


def _messages(row: imports.PlannedRow) -> list[str]:
    return [warning.message for warning in row.warnings]


def test_a_sitting_after_the_student_withdrew_is_recorded_with_a_warning(program, alice):
    cma_rules(program)
    enrollment = Enrollment.objects.get(student=alice)
    enrollment.withdrawn_on = days_ago(program, 20)
    enrollment.save()
    rows = [
        exam_row(alice, days_ago(program, 30), result="fail"),
        exam_row(alice, days_ago(program, 20), result="fail"),
        exam_row(alice, days_ago(program, 10)),
    ]

    result = apply(program, EXAM, to_csv(rows, EXAM_COLUMNS))

    assert result.errors == []
    # Before the withdrawal and on its day the student was still enrolled: no warning.
    assert [_messages(row) for row in result.rows[:2]] == [[], []]
    assert [(warning.line, warning.column) for warning in result.rows[2].warnings] == [(4, "taken_on")]
    assert _messages(result.rows[2]) == [
        ELIGIBILITY_WARNING
        + f"Withdrew from the program on {date_format(days_ago(program, 20))}: "
        + "the school route to this exam is closed."
    ]
    assert ExamAttempt.objects.count() == 3
    assert Credential.objects.get().issued_on == days_ago(program, 10)


def test_a_sitting_before_the_window_before_completion_is_recorded_with_a_warning(program, alice):
    cma_rules(program, completion_window_days=30)
    expected = Enrollment.objects.get(student=alice).cohort.expected_graduation_on
    day = days_ago(program, 10)

    result = apply(program, EXAM, to_csv([exam_row(alice, day)], EXAM_COLUMNS))

    assert result.summary["new"] == 1
    opens = expected - timedelta(days=30)
    assert _messages(result.rows[0]) == [
        ELIGIBILITY_WARNING
        + f"CMA may be taken from {date_format(opens)}, 30 days before completing the program "
        + f"(expected on {date_format(expected)})."
    ]
    assert Credential.objects.get().issued_on == day


def test_a_graduate_is_judged_by_the_day_of_graduation(program, graduate):
    """Gina graduated 30 days after admission: a sitting more than ten days before that was early."""
    cma_rules(program, completion_window_days=10)
    graduated_on = graduate.graduated_on
    rows = [
        exam_row(graduate.student, graduated_on - timedelta(days=11), result="fail"),
        exam_row(graduate.student, graduated_on - timedelta(days=10), result="fail"),
        exam_row(graduate.student, graduated_on + timedelta(days=1)),
    ]

    result = plan(program, EXAM, to_csv(rows, EXAM_COLUMNS))

    assert [len(row.warnings) for row in result.rows] == [1, 0, 0]
    assert f"CMA may be taken from {date_format(graduated_on - timedelta(days=10))}" in _messages(result.rows[0])[0]


def test_a_sitting_after_the_school_route_closed_is_recorded_with_a_warning(program, cohort):
    cma_rules(program, graduate_window_months=2)
    graduated_on = days_ago(program, 100)
    enrollment = factories.EnrollmentFactory(
        cohort=cohort, admitted_on=graduated_on - timedelta(days=300), graduated_on=graduated_on
    )
    rows = [
        exam_row(enrollment.student, graduated_on + timedelta(days=20), result="fail"),
        exam_row(enrollment.student, days_ago(program, 10)),
    ]

    result = apply(program, EXAM, to_csv(rows, EXAM_COLUMNS))

    closed = add_months(graduated_on, 2)
    assert _messages(result.rows[0]) == []
    assert _messages(result.rows[1]) == [
        ELIGIBILITY_WARNING + f"The school route to CMA closed on {date_format(closed)}, 2 months after graduating."
    ]
    assert ExamAttempt.objects.filter(enrollment=enrollment).count() == 2


def test_an_unchanged_sitting_is_not_warned_of_again(program, alice):
    cma_rules(program, completion_window_days=30)
    content = to_csv([exam_row(alice, days_ago(program, 10))], EXAM_COLUMNS)
    assert plan(program, EXAM, content).warnings != []
    apply(program, EXAM, content)

    assert plan(program, EXAM, content).warnings == []


def test_a_sitting_before_admission_is_an_error_and_writes_nothing(program, alice):
    admitted_on = Enrollment.objects.get(student=alice).admitted_on
    content = to_csv(
        [exam_row(alice, admitted_on), exam_row(alice, admitted_on - timedelta(days=1), result="fail")], EXAM_COLUMNS
    )

    with pytest.raises(imports.ImportRefused) as refusal:
        apply(program, EXAM, content)

    assert [(error.line, error.column) for error in refusal.value.plan.errors] == [(3, "taken_on")]
    assert admitted_on.isoformat() in refusal.value.plan.errors[0].message
    assert written_state()["attempts"] == []


# --- Exam results: errors -----------------------------------------------------------------


def test_a_file_with_an_error_anywhere_writes_nothing(program, alice, bob):
    day = days_ago(program, 10)
    carol = factories.EnrollmentFactory(cohort=alice.enrollments.get().cohort).student
    content = to_csv([exam_row(alice, day), exam_row(bob, day, result="passed"), exam_row(carol, day)], EXAM_COLUMNS)

    with pytest.raises(imports.ImportRefused) as refusal:
        apply(program, EXAM, content)

    assert [str(error) for error in refusal.value.plan.errors] == ["Row 3, result: “passed” is not one of: pass, fail"]
    assert refusal.value.messages == ["Row 3, result: “passed” is not one of: pass, fail"]
    assert written_state() == {"attempts": [], "credentials": [], "placements": []}


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"email": "not-an-email"}, "email", "“not-an-email” is not an email address"),
        ({"email": ""}, "email", "is required"),
        ({"email": "nobody@school.test"}, "email", "no student with this email in"),
        ({"credential": "CPT"}, "credential", "“CPT” is not a credential of this program (credentials: CMA, RMA"),
        ({"credential": ""}, "credential", "is required"),
        ({"taken_on": "06/14/2025"}, "taken_on", "“06/14/2025” is not a date; use YYYY-MM-DD"),
        ({"taken_on": "2025-02-30"}, "taken_on", "is not a date"),
        ({"taken_on": ""}, "taken_on", "is required"),
        ({"result": "no_show"}, "result", "“no_show” is not one of: pass, fail"),
        ({"result": ""}, "result", "is not one of: pass, fail"),
        ({"score": "-1"}, "score", "“-1” is not a number from 0 to 99999.9"),
        ({"score": "eighty"}, "score", "“eighty” is not a number"),
        ({"score": "NaN"}, "score", "is not a number"),
        ({"score": "100000"}, "score", "is not a number from 0"),
        ({"score": "85.25"}, "score", "“85.25” has more than one decimal place"),
    ],
)
def test_a_bad_exam_row_is_reported_with_its_row_and_column(program, alice, cells, column, message):
    content = to_csv(
        [exam_row(alice, days_ago(program, 5)), exam_row(alice, days_ago(program, 3), **cells)], EXAM_COLUMNS
    )

    result = plan(program, EXAM, content)

    assert [(error.line, error.column) for error in result.errors] == [(3, column)]
    assert message in result.errors[0].message
    assert [row.action for row in result.rows] == ["new", "error"]


def test_an_exam_day_in_the_future_is_an_error(program, alice):
    tomorrow = program.today() + timedelta(days=1)

    result = plan(program, EXAM, to_csv([exam_row(alice, tomorrow)], EXAM_COLUMNS))

    assert [str(error) for error in result.errors] == [f"Row 2, taken_on: {tomorrow.isoformat()} is in the future"]


def test_the_same_student_credential_and_day_twice_is_an_error_on_the_second_row(program, alice):
    day = days_ago(program, 5)
    content = to_csv(
        [exam_row(alice, day), exam_row(alice, day, credential="RMA"), exam_row(alice, day, credential="cma")],
        EXAM_COLUMNS,
    )

    result = plan(program, EXAM, content)

    assert [str(error) for error in result.errors] == [
        "Row 4, taken_on: the same student, credential and day are on row 2 already"
    ]


def test_a_student_of_another_program_is_unknown_here(program, alice):
    stranger = factories.EnrollmentFactory().student

    result = plan(program, EXAM, to_csv([exam_row(stranger, days_ago(program, 5))], EXAM_COLUMNS))

    assert [(error.column, error.message) for error in result.errors] == [
        ("email", f"no student with this email in {program.code}")
    ]


def test_a_row_with_more_cells_than_the_header_is_an_error(program, alice):
    text = f"email,credential,taken_on,result\n{alice.email},CMA,{days_ago(program, 5)},pass,surprise\n"

    result = plan(program, EXAM, text.encode())

    assert [(error.line, error.column) for error in result.errors] == [(2, "row")]


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (b"email,credential,taken_on,result,grade\n", ["Unknown columns: grade", "The exam results format has"]),
        (b"email,credential,result\n", ["Missing required columns: taken_on"]),
        (b"email,credential,taken_on,result,email\n", ["twice", "email"]),
        (b"", ["empty"]),
    ],
)
def test_an_exam_file_that_cannot_be_read_is_refused_whole(program, alice, content, names):
    with pytest.raises(imports.ImportFileError) as refusal:
        apply(program, EXAM, content)

    for name in names:
        assert name in str(refusal.value)
    assert not ExamAttempt.objects.exists()


def test_an_xlsx_with_an_unknown_column_is_refused(program):
    content = to_xlsx([], [*imports.EXAM_RESULTS_FORMAT.required, "Proctor"])

    with pytest.raises(imports.ImportFileError, match="Unknown columns: proctor"):
        plan(program, EXAM, content, "results.xlsx")


def test_a_sitting_recorded_between_planning_and_writing_is_corrected_not_doubled(program, alice, bob):
    """The bulk write meets the day's sitting the plan did not know of; the database refuses the
    batch, and each row goes through the service instead, which corrects that sitting."""
    day = days_ago(program, 5)
    planned = plan(program, EXAM, to_csv([exam_row(alice, day), exam_row(bob, day)], EXAM_COLUMNS))
    services.record_exam_result(
        enrollment=Enrollment.objects.get(student=bob),
        track=CertificationTrack.objects.get(program=program, code="CMA"),
        taken_on=day,
        result="fail",
        score=None,
        by=None,
    )

    with transaction.atomic():
        imports._write_plan(planned, None)

    assert planned.errors == []
    assert sorted(ExamAttempt.objects.values_list("enrollment__student__first_name", "taken_on", "result")) == [
        ("Alice", day, "pass"),
        ("Bob", day, "pass"),
    ]
    assert Credential.objects.count() == 2


# --- Graduate outcomes --------------------------------------------------------------------


def test_a_graduate_serving_in_the_military_is_imported_with_its_own_status_and_no_reason(program, graduate):
    content = to_csv([outcome_row(graduate.student, status="Military_Service")], OUTCOME_COLUMNS)

    result = apply(program, OUTCOMES, content)

    assert (result.errors, result.summary["new"]) == ([], 1)
    placement = JobPlacement.objects.get(enrollment=graduate)
    assert (placement.status, placement.unavailable_reason) == ("military_service", "")
    assert [row.action for row in plan(program, OUTCOMES, content).rows] == ["unchanged"]


def test_an_unknown_status_error_lists_military_service(program, graduate):
    result = plan(program, OUTCOMES, to_csv([outcome_row(graduate.student, status="army")], OUTCOME_COLUMNS))

    assert [(error.column, error.message) for error in result.errors] == [
        (
            "status",
            "“army” is not one of: in_field, related_field, not_employed, unavailable, continuing_education, "
            "military_service",
        )
    ]


def test_graduate_outcomes_are_recorded_and_a_second_import_changes_nothing(program, graduate):
    content = to_csv(
        [outcome_row(graduate.student, employed_on=days_ago(program, 2), employer="Lakeside Clinic", position="MA")],
        OUTCOME_COLUMNS,
    )

    first = apply(program, OUTCOMES, content)
    before = written_state()
    second = apply(program, OUTCOMES, content)

    assert first.summary == {"rows": 1, "new": 1, "changed": 0, "unchanged": 0, "errors": 0}
    placement = JobPlacement.objects.get()
    assert (placement.enrollment, placement.status, placement.employer, placement.position) == (
        graduate,
        PlacementStatus.IN_FIELD,
        "Lakeside Clinic",
        "MA",
    )
    assert second.summary["unchanged"] == 1
    assert written_state() == before


def test_a_changed_outcome_is_planned_as_a_change_and_updated(program, graduate):
    JobPlacementFactory(enrollment=graduate, status=PlacementStatus.NOT_EMPLOYED)
    content = to_csv(
        [outcome_row(graduate.student, status="unavailable", unavailable_reason="Military deployment")],
        OUTCOME_COLUMNS,
    )

    planned = plan(program, OUTCOMES, content)
    apply(program, OUTCOMES, content)

    assert planned.rows[0].changes == {
        "status": ("not_employed", "unavailable"),
        "unavailable_reason": ("", "Military deployment"),
    }
    placement = JobPlacement.objects.get()
    assert (placement.status, placement.unavailable_reason) == ("unavailable", "Military deployment")


def test_a_column_left_out_of_an_outcomes_file_keeps_what_is_stored(program, graduate):
    JobPlacementFactory(enrollment=graduate, status=PlacementStatus.IN_FIELD, employer="Lakeside Clinic")

    result = apply(program, OUTCOMES, to_csv([outcome_row(graduate.student)], ("email", "status")))

    assert result.rows[0].action == "unchanged"
    assert JobPlacement.objects.get().employer == "Lakeside Clinic"


def test_an_outcomes_xlsx_imports_with_date_cells(program, graduate):
    employed = days_ago(program, 3)

    apply(program, OUTCOMES, to_xlsx([outcome_row(graduate.student, employed_on=employed)], OUTCOME_COLUMNS), "o.xlsx")

    assert JobPlacement.objects.get().employed_on == employed


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"status": "employed"}, "status", "“employed” is not one of: in_field, related_field, not_employed"),
        ({"status": ""}, "status", "is required"),
        ({"status": "unavailable"}, "unavailable_reason", "is required when the status is unavailable"),
        ({"employed_on": "2025/01/02"}, "employed_on", "is not a date; use YYYY-MM-DD"),
        ({"employed_on": "2000-01-01"}, "employed_on", "is before the student was admitted"),
        ({"employer": "x" * 201}, "employer", "is longer than 200 characters"),
        ({"email": "nobody@school.test"}, "email", "no student with this email in"),
        ({"email": "nobody"}, "email", "is not an email address"),
    ],
)
def test_a_bad_outcome_row_is_reported_with_its_row_and_column(program, graduate, cells, column, message):
    result = plan(program, OUTCOMES, to_csv([outcome_row(graduate.student, **cells)], OUTCOME_COLUMNS))

    assert [(error.line, error.column) for error in result.errors] == [(2, column)]
    assert message in result.errors[0].message


def test_an_employment_day_in_the_future_is_an_error(program, graduate):
    tomorrow = program.today() + timedelta(days=1)

    result = plan(program, OUTCOMES, to_csv([outcome_row(graduate.student, employed_on=tomorrow)], OUTCOME_COLUMNS))

    assert [str(error) for error in result.errors] == [f"Row 2, employed_on: {tomorrow.isoformat()} is in the future"]


def test_an_unavailable_graduate_without_the_reason_column_or_a_stored_reason_is_an_error(program, graduate):
    result = plan(program, OUTCOMES, to_csv([outcome_row(graduate.student, status="unavailable")], ("email", "status")))

    assert [(error.column, error.message) for error in result.errors] == [
        ("unavailable_reason", "is required when the status is unavailable")
    ]


def test_only_graduates_have_outcomes(program, alice):
    result = plan(program, OUTCOMES, to_csv([outcome_row(alice)], OUTCOME_COLUMNS))

    assert len(result.errors) == 1
    assert result.errors[0].column == "email"
    assert result.errors[0].message.startswith("is not a graduate")


def test_a_graduate_twice_in_the_file_is_an_error_on_the_second_row(program, graduate):
    content = to_csv(
        [outcome_row(graduate.student), outcome_row(graduate.student, status="not_employed")], OUTCOME_COLUMNS
    )

    with pytest.raises(imports.ImportRefused) as refusal:
        apply(program, OUTCOMES, content)

    assert refusal.value.messages == ["Row 3, email: appears again (first on row 2)"]
    assert not JobPlacement.objects.exists()


def test_an_outcomes_file_with_an_unknown_column_is_refused(program):
    with pytest.raises(imports.ImportFileError, match="The graduate outcomes format has: email, status, employed_on"):
        plan(program, OUTCOMES, b"email,status,salary\n")


# --- Cost ---------------------------------------------------------------------------------


def _graduates_file(program: Any, count: int) -> bytes:
    cohort = factories.CohortFactory(program=program)
    rows = []
    for number in range(count):
        enrollment = factories.EnrollmentFactory(cohort=cohort, graduated_on=cohort.start_on + timedelta(days=1))
        if number % 2:
            JobPlacementFactory(enrollment=enrollment, status=PlacementStatus.NOT_EMPLOYED)
        rows.append(outcome_row(enrollment.student))
    return to_csv(rows, OUTCOME_COLUMNS)


def _sittings_file(program: Any, count: int) -> bytes:
    cohort = factories.CohortFactory(program=program)
    rows = []
    for number in range(count):
        # Some withdrew after the sitting, so every rule of the warnings is judged.
        enrollment = factories.EnrollmentFactory(
            cohort=cohort, withdrawn_on=days_ago(program, 1) if number % 3 == 2 else None
        )
        if number % 2:
            ExamAttemptFactory(enrollment=enrollment, taken_on=days_ago(program, 3), result="fail")
        rows.append(exam_row(enrollment.student, days_ago(program, 3)))
    return to_csv(rows, EXAM_COLUMNS)


@pytest.mark.parametrize(("kind", "make_file"), [(EXAM, _sittings_file), (OUTCOMES, _graduates_file)])
def test_planning_costs_the_same_queries_whatever_the_number_of_rows(db, kind, make_file):
    counts = []
    for size in (2, 10):
        program = factories.ProgramFactory()
        content = make_file(program, size)
        with CaptureQueriesContext(connection) as queries:
            result = plan(program, kind, content)
        assert result.errors == []
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_rows_beyond_one_lookup_batch_are_all_planned(program, alice, monkeypatch):
    monkeypatch.setattr(imports, "LOOKUP_BATCH", 2)
    content = to_csv([exam_row(alice, days_ago(program, day)) for day in range(1, 6)], EXAM_COLUMNS)

    apply(program, EXAM, content)

    assert ExamAttempt.objects.count() == 5
    assert [row.action for row in plan(program, EXAM, content).rows] == ["unchanged"] * 5


def test_rows_beyond_one_write_batch_are_all_written(program, alice, bob, monkeypatch):
    monkeypatch.setattr(imports, "WRITE_BATCH", 2)
    day = days_ago(program, 5)
    apply(program, EXAM, to_csv([exam_row(alice, day, result="fail")], EXAM_COLUMNS))
    rows = [exam_row(alice, day), exam_row(bob, day, credential="RMA"), exam_row(bob, days_ago(program, 4))]

    result = apply(program, EXAM, to_csv(rows, EXAM_COLUMNS))

    assert [row.action for row in result.rows] == ["change", "new", "new"]
    assert ExamAttempt.objects.filter(result="pass").count() == 3
    assert Credential.objects.count() == 3


def _mixed_exam_file(program: Any, count: int) -> bytes:
    """New sittings, corrections both ways and filled bookings, so applying issues every statement."""
    cohort = factories.CohortFactory(program=program)
    day = days_ago(program, 3)
    rows = []
    for number in range(count):
        enrollment = factories.EnrollmentFactory(cohort=cohort)
        kind = number % 4
        if kind == 1:
            ExamAttemptFactory(enrollment=enrollment, taken_on=day, result="fail")
        elif kind == 2:
            services.record_exam_result(
                enrollment=enrollment,
                track=CertificationTrack.objects.get(program=program, code="CMA"),
                taken_on=day,
                result="pass",
                score=None,
                by=None,
            )
        elif kind == 3:
            ExamAttemptFactory(enrollment=enrollment, taken_on=None, result="", scheduled_on=day)
        rows.append(exam_row(enrollment.student, day, result="fail" if kind == 2 else "pass"))
    return to_csv(rows, EXAM_COLUMNS)


@pytest.mark.parametrize(("kind", "make_file"), [(EXAM, _mixed_exam_file), (OUTCOMES, _graduates_file)])
def test_applying_costs_the_same_queries_at_one_and_five_times_the_rows_of_a_batch(db, kind, make_file):
    counts = []
    for size in (4, 20):
        program = factories.ProgramFactory()
        content = make_file(program, size)
        with CaptureQueriesContext(connection) as queries:
            result = apply(program, kind, content)
        assert result.summary["new"] + result.summary["changed"] == size
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_pass_issues_a_credential_lapsing_at_the_end_of_the_tracks_cycle(program, alice):
    CertificationTrack.objects.filter(program=program, code="CMA").update(recertification_months=60)
    day = days_ago(program, 10)

    apply(program, EXAM, to_csv([exam_row(alice, day)], EXAM_COLUMNS))

    credential = Credential.objects.get()
    track = CertificationTrack.objects.get(program=program, code="CMA")
    assert (credential.issued_on, credential.expires_on) == (day, track.expiry_for(day))
    assert credential.expires_on is not None and credential.expires_on.year == day.year + 5


def test_an_import_records_who_imported_each_row_and_when(program, alice, graduate, dana):
    imports.apply_import(
        kind=EXAM,
        program=program,
        content=to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS),
        file_name="results.csv",
        by=dana,
    )
    imports.apply_import(
        kind=OUTCOMES,
        program=program,
        content=to_csv([outcome_row(graduate.student)], OUTCOME_COLUMNS),
        file_name="outcomes.csv",
        by=dana,
    )

    sitting, placement = ExamAttempt.objects.get(), JobPlacement.objects.get()
    assert (sitting.created_by, sitting.recorded_by, sitting.source) == (dana, dana, "import")
    assert sitting.recorded_at is not None and sitting.created_at is not None
    assert (placement.recorded_by, placement.enrollment) == (dana, graduate)


# --- Uploads kept for their preview -------------------------------------------------------


def test_an_upload_is_applied_once(program, alice, dana):
    content = to_csv([exam_row(alice, days_ago(program, 5))], EXAM_COLUMNS)
    upload, planned = imports.preview_result_import(
        program=program, kind=EXAM, uploaded_by=dana, file_name="results.csv", content=content
    )
    assert upload.summary == planned.summary
    assert not ExamAttempt.objects.exists()

    imports.apply_result_import(upload=upload, applied_by=dana)
    first = written_state()
    with pytest.raises(ValidationError, match="This file was imported already"):
        imports.apply_result_import(upload=upload, applied_by=dana)

    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert upload.summary["new"] == 1
    assert written_state() == first
    assert ExamAttempt.objects.get().recorded_by == dana


# --- Any text at all ----------------------------------------------------------------------

IMPORT_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["2025-01-05", "2999-01-01", "pass", "FAIL", "cma", "212.5", "-1", "1e9", "NaN", "unavailable", ""]
    ),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    kind=st.sampled_from([EXAM, OUTCOMES]),
    columns=st.lists(st.sampled_from([*EXAM_COLUMNS, *OUTCOME_COLUMNS]), min_size=1, max_size=8, unique=True),
    rows=st.lists(st.lists(IMPORT_CELLS, max_size=9), max_size=6),
)
def test_any_rows_plan_as_actions_and_row_errors_or_refuse_the_file(program, alice, kind, columns, rows):
    """Planning writes nothing, so the examples share one database state."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    try:
        result = plan(program, kind, out.getvalue().encode("utf-8", "surrogatepass"))
    except imports.ImportFileError as refused:
        assert str(refused)
        return
    for row in result.rows:
        assert row.action in (imports.NEW, imports.CHANGE, imports.UNCHANGED, imports.ERROR)
        assert (row.action == imports.ERROR) == bool(row.errors)
    assert imports.ImportPlan.from_json(kind, result.as_json()).summary == result.summary
