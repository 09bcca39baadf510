"""Roster import: reading, checking and planning a file (curriculum/roster.py), writing the plan
(curriculum/services.py) and the upload → preview → apply pages."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from accounts.models import Invitation, User
from curriculum import roster, services, spreadsheets
from curriculum.models import Cohort, Enrollment, RosterImport, StaffRole
from curriculum.services import coursework
from notifications.models import Message
from tests import factories
from tests.imports import post_applying
from tests.queries import queries_for

COLUMNS = (*roster.REQUIRED_COLUMNS, *roster.OPTIONAL_COLUMNS)


def student_row(cohort: Any, number: int, /, **values: Any) -> dict[str, Any]:
    """One roster row for a new student of the cohort; keyword arguments override its cells."""
    row: dict[str, Any] = {
        "email": f"student{number}@school.test",
        "first_name": f"First{number}",
        "last_name": f"Last{number}",
        "cohort": cohort.code,
        "admitted_on": cohort.start_on,
    }
    row.update(values)
    return row


def roster_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    """A UTF-8 CSV with a header of the given columns, or of every column the rows use."""
    if columns is None:
        columns = [column for column in COLUMNS if any(column in row for row in rows)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else str(row[column]) for column in columns])
    return out.getvalue().encode()


def roster_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """The same rows as a workbook, typed the way spreadsheet programs save them: real dates and numbers."""
    columns = [column for column in COLUMNS if any(column in row for row in rows)]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def apply(program: Any, content: bytes, file_name: str = "roster.csv", **options: Any) -> roster.RosterPlan:
    return services.apply_roster(program=program, content=content, file_name=file_name, imported_by=None, **options)


def plan(program: Any, content: bytes, file_name: str = "roster.csv") -> roster.RosterPlan:
    return roster.plan_roster(program=program, content=content, file_name=file_name)


def written_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import may write, to compare before and after."""
    return {
        "users": list(
            User.objects.order_by("pk").values_list("pk", "email", "first_name", "last_name", "preferred_language")
        ),
        "enrollments": list(
            Enrollment.objects.order_by("pk").values_list(
                "pk",
                "student_id",
                "cohort_id",
                "student_number",
                "admitted_on",
                "trigger_course_completed_on",
                "withdrawn_on",
                "graduated_on",
            )
        ),
        "email_addresses": list(EmailAddress.objects.order_by("pk").values_list("pk", "user_id", "email")),
        "invitations": list(Invitation.objects.order_by("pk").values_list("pk", "user_id")),
    }


# --- A good file --------------------------------------------------------------------------


def test_a_good_file_creates_students_enrollments_and_invitations(cohort, dana, django_capture_on_commit_callbacks):
    rows = [
        student_row(cohort, 1, student_number="S-1", preferred_language="es"),
        student_row(cohort, 2, trigger_course_completed_on=cohort.start_on + timedelta(days=30)),
        student_row(cohort, 3),
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = services.apply_roster(
            program=cohort.program, content=roster_csv(rows), file_name="roster.csv", imported_by=dana, invite=True
        )
        assert mail.outbox == [], "invitations leave only after commit"

    assert result.summary == {
        "rows": 3,
        "new_students": 3,
        "new_enrollments": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    students = User.objects.filter(email__endswith="@school.test").order_by("email")
    assert [(s.email, s.first_name, s.last_name, s.preferred_language) for s in students] == [
        ("student1@school.test", "First1", "Last1", "es"),
        ("student2@school.test", "First2", "Last2", ""),
        ("student3@school.test", "First3", "Last3", ""),
    ]
    assert not any(student.has_usable_password() for student in students)
    assert len({student.password for student in students}) == 3
    enrollments = Enrollment.objects.filter(cohort=cohort).order_by("student__email")
    assert [(e.student.email, e.student_number, e.admitted_on, e.trigger_course_completed_on) for e in enrollments] == [
        ("student1@school.test", "S-1", cohort.start_on, None),
        ("student2@school.test", "", cohort.start_on, cohort.start_on + timedelta(days=30)),
        ("student3@school.test", "", cohort.start_on, None),
    ]
    invitations = Invitation.objects.filter(user__in=students)
    assert invitations.count() == 3
    assert all(invitation.invited_by == dana for invitation in invitations)
    assert set(
        Message.objects.filter(kind="invitation", recipient__in=students).values_list("state", "program_id")
    ) == {(Message.State.SENT, cohort.program_id)}
    assert EmailAddress.objects.filter(user__in=students, verified=False, primary=True).count() == 3
    assert len(callbacks) == 1  # one sender started for the whole file
    assert sorted(message.to[0] for message in mail.outbox) == [
        "student1@school.test",
        "student2@school.test",
        "student3@school.test",
    ]


def test_importing_the_same_file_again_changes_nothing(cohort, alice, django_capture_on_commit_callbacks):
    enrollment = alice.enrollments.get()
    rows = [
        student_row(cohort, 1, student_number="S-1", preferred_language="es"),
        student_row(cohort, 2, withdrawn_on=cohort.start_on + timedelta(days=10)),
        student_row(cohort, 3, graduated_on=cohort.start_on + timedelta(days=200)),
        student_row(
            cohort,
            4,
            email=alice.email.upper(),
            first_name=alice.first_name,
            last_name="Renamed",
            admitted_on=enrollment.admitted_on,
        ),
    ]
    content = roster_csv(rows)
    with django_capture_on_commit_callbacks(execute=True):
        apply(cohort.program, content, invite=True)
    before = written_state()
    sent = len(mail.outbox)

    again = plan(cohort.program, content)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        applied = apply(cohort.program, content, invite=True)

    assert [row.action for row in again.rows] == ["unchanged"] * 4
    assert applied.summary == {
        "rows": 4,
        "new_students": 0,
        "new_enrollments": 0,
        "updated": 0,
        "unchanged": 4,
        "errors": 0,
    }
    assert written_state() == before
    assert callbacks == []
    assert len(mail.outbox) == sent


def test_an_xlsx_file_imports_like_the_same_csv(cohort, other_cohort):
    rows = [
        student_row(cohort, 1, student_number=1001, preferred_language="es"),
        student_row(cohort, 2, withdrawn_on=cohort.start_on + timedelta(days=3)),
        student_row(other_cohort, 3, trigger_course_completed_on=other_cohort.start_on + timedelta(days=40)),
    ]
    csv_plan = plan(cohort.program, roster_csv(rows), "roster.csv")
    xlsx_plan = plan(cohort.program, roster_xlsx(rows), "ROSTER.XLSX")

    assert [(row.line, row.action, row.values) for row in xlsx_plan.rows] == [
        (row.line, row.action, row.values) for row in csv_plan.rows
    ]
    assert xlsx_plan.rows[0].values["student_number"] == "1001"

    apply(cohort.program, roster_xlsx(rows), "ROSTER.XLSX")

    assert Enrollment.objects.filter(cohort__program=cohort.program).count() == 3
    assert [row.action for row in plan(cohort.program, roster_csv(rows), "roster.csv").rows] == ["unchanged"] * 3


def test_blank_rows_are_skipped_and_line_numbers_count_them(cohort):
    content = roster_csv([student_row(cohort, 1), student_row(cohort, 2, email="not-an-email")])
    header, first, second = content.decode().splitlines()
    content = "\n".join([header, first, ",,,,", "", second]).encode()

    result = plan(cohort.program, content)

    assert [row.line for row in result.rows] == [2, 5]
    assert [(error.line, error.column) for error in result.errors] == [(5, "email")]


def test_a_byte_order_mark_and_header_case_are_accepted(cohort):
    content = roster_csv([student_row(cohort, 1)]).decode()
    content = "\ufeff" + content.replace("email,first_name", "Email, First_Name", 1)

    result = plan(cohort.program, content.encode())

    assert [row.action for row in result.rows] == ["create"]


# --- Bad rows -----------------------------------------------------------------------------


def test_a_file_with_a_bad_row_writes_nothing(cohort, dana, django_capture_on_commit_callbacks):
    rows = [student_row(cohort, 1), student_row(cohort, 2, admitted_on="someday"), student_row(cohort, 3)]
    before = written_state()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError) as refusal:
        services.apply_roster(program=cohort.program, content=roster_csv(rows), file_name="r.csv", imported_by=dana)

    assert refusal.value.messages == ["Row 3, admitted_on: “someday” is not a date; use YYYY-MM-DD"]
    assert written_state() == before
    assert not User.objects.filter(email__endswith="@school.test").exists()
    assert not Enrollment.objects.exists()
    assert not Invitation.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


def test_skipping_bad_rows_imports_the_good_rows_only(cohort, django_capture_on_commit_callbacks):
    rows = [
        student_row(cohort, 1),
        student_row(cohort, 2, email="two@"),
        student_row(cohort, 3),
        student_row(cohort, 4, cohort="NOPE"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        result = apply(cohort.program, roster_csv(rows), skip_bad_rows=True, invite=True)

    assert result.summary["new_students"] == 2
    assert result.summary["errors"] == 2
    assert [(error.line, error.column) for error in result.errors] == [(3, "email"), (5, "cohort")]
    assert set(Enrollment.objects.values_list("student__email", flat=True)) == {
        "student1@school.test",
        "student3@school.test",
    }
    assert not User.objects.filter(email="student4@school.test").exists()
    assert sorted(message.to[0] for message in mail.outbox) == ["student1@school.test", "student3@school.test"]


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"email": "student1.school.test"}, "email", "is not an email address"),
        ({"email": ""}, "email", "is not an email address"),
        ({"first_name": " "}, "first_name", "is required"),
        ({"last_name": "x" * 151}, "last_name", "longer than 150"),
        ({"admitted_on": "03/01/2026"}, "admitted_on", "is not a date; use YYYY-MM-DD"),
        ({"admitted_on": ""}, "admitted_on", "is required"),
        ({"withdrawn_on": "2026-02-30"}, "withdrawn_on", "is not a date"),
        ({"cohort": "2099-NEVER"}, "cohort", "no intake named “2099-NEVER”"),
        ({"cohort": ""}, "cohort", "is required"),
        ({"preferred_language": "fr"}, "preferred_language", "“fr” is not one of: en, es"),
        (
            {"withdrawn_on": date(2026, 3, 1), "graduated_on": date(2026, 4, 1), "admitted_on": date(2026, 1, 5)},
            "graduated_on",
            "cannot be both withdrawn and graduated",
        ),
        ({"admitted_on": date(2026, 1, 5), "withdrawn_on": date(2026, 1, 4)}, "withdrawn_on", "is before admitted_on"),
        ({"admitted_on": date(2026, 1, 5), "graduated_on": date(2025, 12, 1)}, "graduated_on", "is before admitted_on"),
        (
            {"admitted_on": date(2026, 1, 5), "trigger_course_completed_on": date(2026, 1, 1)},
            "trigger_course_completed_on",
            "is before admitted_on",
        ),
    ],
)
def test_a_bad_row_is_reported_with_its_row_number_and_column(cohort, cells, column, message):
    rows = [student_row(cohort, 1), student_row(cohort, 2, **cells)]
    columns = list(COLUMNS)

    result = plan(cohort.program, roster_csv(rows, columns))

    assert [row.action for row in result.rows] == ["create", "error"]
    assert [(error.line, error.column) for error in result.errors] == [(3, column)]
    assert message in result.errors[0].message
    assert str(result.errors[0]).startswith(f"Row 3, {column}: ")


def test_an_email_twice_in_the_file_is_an_error_on_the_second_row(cohort):
    rows = [student_row(cohort, 1), student_row(cohort, 2), student_row(cohort, 3, email="Student1@School.test")]

    result = plan(cohort.program, roster_csv(rows))

    assert [row.action for row in result.rows] == ["create", "create", "error"]
    assert [str(error) for error in result.errors] == ["Row 4, email: appears again (first on row 2)"]


def test_a_row_with_more_cells_than_the_header_is_an_error(cohort):
    content = roster_csv([student_row(cohort, 1)]) + b"x@school.test,A,B,C,2026-01-01,surplus\r\n"

    result = plan(cohort.program, content)

    assert [(error.line, error.column) for error in result.errors] == [(3, "row")]


def test_a_student_current_in_another_cohort_of_the_program_is_an_error(cohort, other_cohort, alice):
    rows = [student_row(other_cohort, 1, email=alice.email)]

    result = plan(cohort.program, roster_csv(rows))

    assert result.rows[0].action == "error"
    assert [str(error) for error in result.errors] == [
        f"Row 2, cohort: {alice.email} is already enrolled in cohort {cohort.code} of this program"
    ]
    with pytest.raises(ValidationError):
        apply(cohort.program, roster_csv(rows))
    assert list(alice.enrollments.values_list("cohort", flat=True)) == [cohort.pk]


def test_a_student_who_withdrew_from_another_cohort_may_enroll_again(cohort, other_cohort, alice):
    alice.enrollments.update(withdrawn_on=cohort.start_on + timedelta(days=5))
    rows = [student_row(other_cohort, 1, email=alice.email, first_name=alice.first_name, last_name=alice.last_name)]

    result = apply(cohort.program, roster_csv(rows))

    assert result.rows[0].action == "enroll"
    assert set(alice.enrollments.values_list("cohort", flat=True)) == {cohort.pk, other_cohort.pk}


def test_a_person_already_in_checkoff_is_enrolled_without_a_new_invitation(
    cohort, olga, django_capture_on_commit_callbacks
):
    rows = [student_row(cohort, 1, email=olga.email, first_name=olga.first_name, last_name=olga.last_name)]

    with django_capture_on_commit_callbacks(execute=True):
        result = apply(cohort.program, roster_csv(rows), invite=True)

    assert result.summary["new_enrollments"] == 1
    assert Enrollment.objects.filter(student=olga, cohort=cohort).exists()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_new_name_or_withdrawal_of_a_student_is_an_update(cohort, alice, bob, django_capture_on_commit_callbacks):
    enrollment = alice.enrollments.get()
    withdrawn = enrollment.admitted_on + timedelta(days=20)
    rows = [
        student_row(
            cohort,
            1,
            email=alice.email,
            first_name=alice.first_name,
            last_name="Newname",
            admitted_on=enrollment.admitted_on,
            withdrawn_on=withdrawn,
        ),
        student_row(
            cohort, 2, email=bob.email, first_name=bob.first_name, last_name=bob.last_name, admitted_on=cohort.start_on
        ),
    ]
    old_last_name = alice.last_name

    preview = plan(cohort.program, roster_csv(rows))
    with django_capture_on_commit_callbacks(execute=True):
        result = apply(cohort.program, roster_csv(rows))

    assert [row.action for row in preview.rows] == ["update", "unchanged"]
    assert preview.rows[0].changes == {"last_name": (old_last_name, "Newname"), "withdrawn_on": (None, withdrawn)}
    assert result.summary["updated"] == 1
    alice.refresh_from_db()
    enrollment.refresh_from_db()
    assert alice.last_name == "Newname"
    assert enrollment.withdrawn_on == withdrawn
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_an_empty_language_or_student_number_keeps_what_is_stored(cohort, alice):
    alice.preferred_language = "es"
    alice.save()
    alice.enrollments.update(student_number="A-17")
    enrollment = alice.enrollments.get()
    rows = [
        student_row(
            cohort,
            1,
            email=alice.email,
            first_name=alice.first_name,
            last_name=alice.last_name,
            admitted_on=enrollment.admitted_on,
        )
    ]

    result = plan(cohort.program, roster_csv(rows, list(COLUMNS)))

    assert result.rows[0].action == "unchanged"


# --- Files that cannot be read ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "file_name", "names"),
    [
        (b"email,first_name,last_name,cohort,admitted_on,nickname,shoe_size\n", "r.csv", ["nickname", "shoe_size"]),
        (b"email,first_name,last_name,cohort\n", "r.csv", ["Missing required columns", "admitted_on"]),
        (b"email,first_name,cohort\n", "r.csv", ["last_name, admitted_on"]),
        (b"email,email,first_name,last_name,cohort,admitted_on\n", "r.csv", ["twice", "email"]),
        ("email,first_name\nJosé@school.test,José\n".encode("latin-1"), "r.csv", ["UTF-8"]),
        (b"", "r.csv", ["empty"]),
        (b"email,first_name,last_name,cohort,admitted_on\n", "roster.txt", [".csv or .xlsx"]),
        (b"email,first_name,last_name,cohort,admitted_on\n", "roster.xls", [".csv or .xlsx"]),
        (b"not a zip file", "roster.xlsx", ["not a readable .xlsx"]),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(cohort, content, file_name, names):
    with pytest.raises(spreadsheets.UnreadableFile) as refusal:
        apply(cohort.program, content, file_name)

    for name in names:
        assert name in str(refusal.value)
    assert not User.objects.filter(email__endswith="@school.test").exists()
    assert not Enrollment.objects.exists()


def test_an_xlsx_with_an_unknown_column_is_refused(cohort):
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([*roster.REQUIRED_COLUMNS, "Middle_Name"])
    out = io.BytesIO()
    workbook.save(out)

    with pytest.raises(spreadsheets.UnreadableFile, match="Unknown columns: middle_name"):
        plan(cohort.program, out.getvalue(), "roster.xlsx")


# --- Writing in batches -------------------------------------------------------------------


def _rows_of_every_kind(count: int, prefix: str, *, withdraw: bool = True) -> tuple[Any, bytes]:
    """A fresh program with `count` new students, `count` people new to it and `count` students to update:
    withdrawn, or else renamed and so still current."""
    cohort = factories.CohortFactory()
    rows = []
    for number in range(count):
        rows.append(student_row(cohort, number, email=f"{prefix}-new{number}@school.test"))
        person = factories.UserFactory(email=f"{prefix}-known{number}@school.test")
        rows.append(student_row(cohort, number, email=person.email))
        enrolled = factories.EnrollmentFactory(cohort=cohort, student__email=f"{prefix}-enrolled{number}@school.test")
        change = {"withdrawn_on": cohort.start_on + timedelta(days=1)} if withdraw else {"last_name": "Renamed"}
        rows.append(student_row(cohort, number, email=enrolled.student.email, **change))
    return cohort, roster_csv(rows)


def test_applying_a_batch_costs_the_same_queries_whatever_its_size(db):
    """One batch of 1× and of 5× the rows: the same statements, not one per row."""
    counts = []
    for size, prefix in ((2, "small"), (10, "large")):
        cohort, content = _rows_of_every_kind(size, prefix)
        with CaptureQueriesContext(connection) as queries:
            result = apply(cohort.program, content)
        assert result.summary["new_students"] == size
        assert result.summary["new_enrollments"] == size
        assert result.summary["updated"] == size
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert roster.LOOKUP_BATCH >= 3 * 10
    assert services.WRITE_BATCH >= 3 * 10


def test_applying_with_invitations_costs_the_same_queries_at_one_and_five_times_the_rows(db):
    """The invitations, their email addresses and their queueing are per batch too."""
    counts = []
    for size, prefix in ((2, "small"), (10, "large")):
        cohort, content = _rows_of_every_kind(size, prefix)
        with CaptureQueriesContext(connection) as queries:
            apply(cohort.program, content, invite=True)
        assert Invitation.objects.filter(user__email__startswith=f"{prefix}-new").count() == size
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_every_further_batch_costs_the_same_queries(db, monkeypatch):
    """1, 2 and 5 batches of the same size: each batch adds the same statements, whatever the file's length."""
    # A batch a new student, a person new to the program and a current student renamed: every batch
    # plans, writes and invites alike.
    monkeypatch.setattr(roster, "LOOKUP_BATCH", 3)
    monkeypatch.setattr(services, "WRITE_BATCH", 3)
    counts = {}
    for batches in (1, 2, 5):
        cohort, content = _rows_of_every_kind(batches, f"batches{batches}", withdraw=False)
        with CaptureQueriesContext(connection) as queries:
            result = apply(cohort.program, content, invite=True)
        assert result.summary["updated"] == batches
        assert Invitation.objects.filter(user__email__startswith=f"batches{batches}-new").count() == batches
        counts[batches] = len(queries)

    per_batch = counts[2] - counts[1]
    assert per_batch > 0
    assert counts[5] - counts[1] == 4 * per_batch


def test_rows_beyond_one_batch_are_all_written(cohort, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(roster, "LOOKUP_BATCH", 3)
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    rows = [student_row(cohort, number) for number in range(7)]

    with django_capture_on_commit_callbacks(execute=True):
        apply(cohort.program, roster_csv(rows), invite=True)

    assert Enrollment.objects.filter(cohort=cohort).count() == 7
    assert Invitation.objects.count() == 7
    assert len(mail.outbox) == 7
    assert [row.action for row in plan(cohort.program, roster_csv(rows)).rows] == ["unchanged"] * 7


# --- Pages: upload, preview, apply --------------------------------------------------------


def _upload(client, program, content: bytes, file_name: str = "roster.csv"):
    return client.post(
        reverse("curriculum:roster-import", args=[program.code]),
        {"file": SimpleUploadedFile(file_name, content, content_type="text/csv")},
    )


@pytest.mark.parametrize("person", ["dana", "carlos"])
def test_a_program_admin_uploads_previews_and_applies_a_roster(
    client, cohort, person, request, django_capture_on_commit_callbacks
):
    admin = request.getfixturevalue(person)
    client.force_login(admin)
    rows = [student_row(cohort, 1), student_row(cohort, 2)]

    assert client.get(reverse("curriculum:roster-import", args=[cohort.program.code])).status_code == 200
    response = _upload(client, cohort.program, roster_csv(rows))
    upload = RosterImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("curriculum:roster-import-detail", args=[upload.pk])
    assert not User.objects.filter(email__endswith="@school.test").exists(), "a preview writes no student"

    preview = client.get(response.url)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "student1@school.test" in page
    assert "student2@school.test" in page
    assert preview.context["summary"]["new_students"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(reverse("curriculum:roster-import-apply", args=[upload.pk]), {"invite": "on"})

    assert applied.status_code == 302
    assert applied.url == reverse("curriculum:roster-import-detail", args=[upload.pk])
    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert upload.summary["new_students"] == 2
    assert Enrollment.objects.filter(cohort=cohort).count() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["student1@school.test", "student2@school.test"]
    assert "Roster imported: 2 new students" in client.get(applied.url).content.decode()


def test_an_unreadable_file_is_refused_on_the_upload_page(client, cohort, dana):
    client.force_login(dana)

    response = _upload(client, cohort.program, b"email,nickname\n")

    assert response.status_code == 200
    assert "Unknown columns: nickname" in response.content.decode()
    assert not RosterImport.objects.exists()


def test_a_file_with_errors_is_not_applied_unless_bad_rows_are_skipped(client, cohort, dana):
    client.force_login(dana)
    _upload(client, cohort.program, roster_csv([student_row(cohort, 1), student_row(cohort, 2, cohort="NOPE")]))
    upload = RosterImport.objects.get()
    apply_url = reverse("curriculum:roster-import-apply", args=[upload.pk])

    preview = client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).content.decode()
    assert "no intake named “NOPE”" in preview

    refused = post_applying(client, apply_url, follow=True)
    assert "Nothing was imported" in refused.content.decode()
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert not Enrollment.objects.exists()

    post_applying(client, apply_url, {"skip_bad_rows": "on"})
    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert upload.skip_bad_rows
    assert list(Enrollment.objects.values_list("student__email", flat=True)) == ["student1@school.test"]


def test_clicking_import_twice_imports_once(client, cohort, dana, django_capture_on_commit_callbacks):
    client.force_login(dana)
    _upload(client, cohort.program, roster_csv([student_row(cohort, 1), student_row(cohort, 2)]))
    upload = RosterImport.objects.get()
    apply_url = reverse("curriculum:roster-import-apply", args=[upload.pk])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(apply_url, {"invite": "on"})
    first = written_state()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = client.post(apply_url, {"invite": "on"}, follow=True)

    assert "This file was imported already." in second.content.decode()
    assert written_state() == first
    assert callbacks == []
    assert len(mail.outbox) == 2


def test_an_instructor_may_not_open_the_upload_page(client, cohort, irene):
    client.force_login(irene)
    url = reverse("curriculum:roster-import", args=[cohort.program.code])

    assert client.get(url).status_code == 403
    assert _upload(client, cohort.program, roster_csv([student_row(cohort, 1)])).status_code == 403
    assert not RosterImport.objects.exists()


def test_an_instructor_can_neither_see_nor_apply_an_import(client, cohort, dana, irene):
    """An import lists students of every cohort; an instructor may not see it, so it is not found."""
    upload, _plan = services.preview_roster(
        program=cohort.program, uploaded_by=dana, file_name="r.csv", content=roster_csv([student_row(cohort, 1)])
    )
    client.force_login(irene)

    assert client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).status_code == 404
    assert client.post(reverse("curriculum:roster-import-apply", args=[upload.pk])).status_code == 404
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert not Enrollment.objects.exists()


def test_a_director_of_another_program_gets_404_for_an_import(client, cohort, dana):
    upload, _plan = services.preview_roster(
        program=cohort.program, uploaded_by=dana, file_name="r.csv", content=roster_csv([student_row(cohort, 1)])
    )
    diego = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Diego").user
    client.force_login(diego)

    assert client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).status_code == 404
    assert client.post(reverse("curriculum:roster-import-apply", args=[upload.pk])).status_code == 404
    assert client.get(reverse("curriculum:roster-import", args=[cohort.program.code])).status_code == 404
    upload.refresh_from_db()
    assert upload.applied_at is None


def test_applying_needs_a_post(client, cohort, dana):
    upload, _plan = services.preview_roster(
        program=cohort.program, uploaded_by=dana, file_name="r.csv", content=roster_csv([student_row(cohort, 1)])
    )
    client.force_login(dana)

    assert client.get(reverse("curriculum:roster-import-apply", args=[upload.pk])).status_code == 405
    upload.refresh_from_db()
    assert upload.applied_at is None


# --- The stored preview -------------------------------------------------------------------


def _preview(client, program, rows: list[dict[str, Any]]) -> RosterImport:
    response = _upload(client, program, roster_csv(rows))
    assert response.status_code == 302
    return RosterImport.objects.get(pk=response.url.rstrip("/").split("/")[-1])


def test_the_preview_shows_the_plan_stored_at_upload_without_reading_the_file_again(client, cohort, dana):
    client.force_login(dana)
    upload = _preview(client, cohort.program, [student_row(cohort, 1), student_row(cohort, 2)])
    RosterImport.objects.filter(pk=upload.pk).update(content=b"no longer a roster")

    response = client.get(reverse("curriculum:roster-import-detail", args=[upload.pk]))

    assert response.status_code == 200
    assert response.context["summary"]["new_students"] == 2
    assert "student2@school.test" in response.content.decode()


def test_applying_after_the_records_changed_writes_nothing_and_shows_the_new_preview(
    client, cohort, dana, django_capture_on_commit_callbacks
):
    client.force_login(dana)
    upload = _preview(client, cohort.program, [student_row(cohort, 1), student_row(cohort, 2)])
    factories.UserFactory(email="student2@school.test")  # someone else added her meanwhile
    apply_url = reverse("curriculum:roster-import-apply", args=[upload.pk])

    refused = post_applying(client, apply_url, follow=True)

    assert "the records changed since the preview, and 1 row would now do something else" in (refused.content.decode())
    assert not Enrollment.objects.exists()
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert [row["action"] for row in upload.plan] == ["create", "enroll"]
    assert refused.context["summary"]["new_enrollments"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        client.post(apply_url)

    assert Enrollment.objects.filter(cohort=cohort).count() == 2
    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert (upload.rows, upload.plan) == (None, None), "applied: only the summary is kept"


def test_an_expired_preview_is_not_applied(client, cohort, dana, settings):
    client.force_login(dana)
    upload = _preview(client, cohort.program, [student_row(cohort, 1)])
    RosterImport.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS, minutes=1)
    )

    preview = client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).content.decode()
    refused = post_applying(client, reverse("curriculum:roster-import-apply", args=[upload.pk]), follow=True)

    assert "This preview has expired (a preview can be imported for 24 hours). Upload the file again." in preview
    assert reverse("curriculum:roster-import-apply", args=[upload.pk]) not in preview
    assert "Nothing was imported: This preview has expired" in refused.content.decode()
    assert not Enrollment.objects.exists()


def test_a_new_upload_clears_the_rows_of_previews_nobody_applied_in_time(client, cohort, dana, settings):
    client.force_login(dana)
    old = _preview(client, cohort.program, [student_row(cohort, 1)])
    RosterImport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS + 1)
    )

    new = _preview(client, cohort.program, [student_row(cohort, 2)])

    old.refresh_from_db()
    assert (old.rows, old.plan) == (None, None)
    assert old.summary["new_students"] == 1, "the summary stays"
    assert new.plan is not None


def test_another_director_of_the_program_does_not_find_someone_elses_preview(client, cohort, dana, carlos):
    client.force_login(dana)
    upload = _preview(client, cohort.program, [student_row(cohort, 1)])
    client.force_login(carlos)

    assert client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).status_code == 404
    assert client.post(reverse("curriculum:roster-import-apply", args=[upload.pk])).status_code == 404
    program_page = client.get(reverse("curriculum:program-detail", args=[cohort.program.code])).content.decode()
    assert upload.file_name in program_page
    assert reverse("curriculum:roster-import-detail", args=[upload.pk]) not in program_page
    assert not Enrollment.objects.exists()


def _preview_url(dana: Any, rows: int) -> str:
    cohort = factories.CohortFactory(program=dana.staff_roles.get().program)
    upload, _plan = services.preview_roster(
        program=cohort.program,
        uploaded_by=dana,
        file_name="r.csv",
        content=roster_csv(
            [student_row(cohort, number, email=f"q{rows}-{number}@school.test") for number in range(rows)]
        ),
    )
    return reverse("curriculum:roster-import-detail", args=[upload.pk])


def test_the_preview_costs_the_same_queries_at_one_and_five_times_the_rows(client, dana):
    assert queries_for(client, dana, _preview_url(dana, 4)) == queries_for(client, dana, _preview_url(dana, 20))


# --- Any text at all ----------------------------------------------------------------------

ROSTER_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["2026-01-05", "2026-02-30", "es", "fr", "a@school.test", "A@School.Test", "x" * 151, "", " "]),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    columns=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=10, unique=True),
    rows=st.lists(st.lists(ROSTER_CELLS, max_size=12), max_size=6),
)
def test_any_rows_plan_as_actions_and_row_errors_or_refuse_the_file(cohort, columns, rows):
    """Planning writes nothing, so the examples share one database state."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    try:
        result = plan(cohort.program, out.getvalue().encode("utf-8", "surrogatepass"))
    except spreadsheets.UnreadableFile as refused:
        assert str(refused)
        return
    for row in result.rows:
        assert row.action in ("create", "enroll", "update", "unchanged", "error")
        assert (row.action == "error") == bool(row.errors)
        assert all(error.line == row.line and error.column for error in row.errors)
    assert roster.RosterPlan.from_json(result.as_json()).summary == result.summary


# --- Intakes named as people name them ----------------------------------------------------

# For rows that name their intake and admission themselves.
NO_COHORT = SimpleNamespace(code="", start_on=None)


@pytest.mark.parametrize("written", ["2021 Spring", "2021 spring", "  2021   SPRING ", "2021-spring", "2021-SPRING"])
def test_a_row_names_its_intake_by_code_or_name_whatever_the_case_and_spaces(program, written):
    spring = factories.CohortFactory(program=program, code="2021-SPRING", name="2021 Spring")

    result = plan(program, roster_csv([student_row(spring, 1, cohort=written)]))

    assert [(row.action, row.cohort) for row in result.rows] == [("create", spring)]
    assert result.new_cohorts == []


def test_a_value_naming_two_different_cohorts_is_an_error_on_the_cohort_column(program):
    by_code = factories.CohortFactory(program=program, code="SPRING", name="Spring 2021")
    factories.CohortFactory(program=program, code="S22", name="spring")

    result = plan(program, roster_csv([student_row(by_code, 1, cohort="Spring")]))

    assert [row.action for row in result.rows] == ["error"]
    assert [(error.line, error.column) for error in result.errors] == [(2, "cohort")]
    assert "“Spring” names more than one cohort (S22, SPRING)" in result.errors[0].message


def _intake_rows(cohort: Any) -> list[dict[str, Any]]:
    """Three students of "2021 Spring", spelt two ways, and one of "2022 Fall", none of them known."""
    return [
        student_row(cohort, 1, cohort="2021 Spring", admitted_on=date(2021, 3, 1), graduated_on=date(2022, 2, 20)),
        student_row(cohort, 2, cohort="2021  spring", admitted_on=date(2021, 2, 15), graduated_on=date(2022, 3, 5)),
        student_row(cohort, 3, cohort="2021 Spring", admitted_on=date(2021, 3, 1), withdrawn_on=date(2021, 5, 1)),
        student_row(cohort, 4, cohort="2022 Fall", admitted_on=date(2022, 9, 6)),
    ]


def test_intakes_the_program_lacks_are_listed_and_their_rows_refused_without_the_option(cohort):
    result = plan(cohort.program, roster_csv(_intake_rows(cohort)))

    usual = cohort.expected_graduation_on - cohort.start_on
    assert [(new.code, new.name, new.start_on, new.expected_graduation_on, new.rows) for new in result.new_cohorts] == [
        ("2021-SPRING", "2021 Spring", date(2021, 2, 15), date(2022, 3, 5), 3),
        ("2022-FALL", "2022 Fall", date(2022, 9, 6), date(2022, 9, 6) + usual, 1),
    ]
    assert [row.action for row in result.rows] == ["error"] * 4
    assert {error.column for error in result.errors} == {"cohort"}
    assert "no intake named “2021  spring”" in result.errors[1].message
    assert "tick “create the missing intakes” or import a cohorts file first" in result.errors[1].message
    with pytest.raises(ValidationError):
        apply(cohort.program, roster_csv(_intake_rows(cohort)))
    assert not Cohort.objects.exclude(pk=cohort.pk).exists()
    assert not Enrollment.objects.exists()


def test_with_the_option_the_missing_intakes_are_created_with_dates_from_the_file(cohort):
    result = apply(cohort.program, roster_csv(_intake_rows(cohort)), create_cohorts=True)

    assert result.summary["new_students"] == 4
    spring = Cohort.objects.get(program=cohort.program, code="2021-SPRING")
    fall = Cohort.objects.get(program=cohort.program, code="2022-FALL")
    assert (spring.name, spring.start_on, spring.expected_graduation_on) == (
        "2021 Spring",
        date(2021, 2, 15),
        date(2022, 3, 5),
    )
    assert (fall.start_on, fall.expected_graduation_on) == (
        date(2022, 9, 6),
        date(2022, 9, 6) + (cohort.expected_graduation_on - cohort.start_on),
    )
    assert sorted(spring.enrollments.values_list("student__email", flat=True)) == [
        "student1@school.test",
        "student2@school.test",
        "student3@school.test",
    ]
    assert list(fall.enrollments.values_list("student__email", flat=True)) == ["student4@school.test"]
    again = plan(cohort.program, roster_csv(_intake_rows(cohort)))
    assert [row.action for row in again.rows] == ["unchanged"] * 4
    assert again.new_cohorts == []


def test_a_new_intake_takes_the_spelling_most_of_its_rows_use(program):
    rows = [
        student_row(NO_COHORT, 1, cohort="2021 spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 2, cohort=" 2021  Spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 3, cohort="2021 Spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 4, cohort="2021 SPRING", admitted_on=date(2021, 3, 1)),
    ]

    result = plan(program, roster_csv(rows))

    # "2021  Spring" counts as "2021 Spring": two rows against one for each other spelling.
    assert [(new.code, new.name, new.rows) for new in result.new_cohorts] == [("2021-SPRING", "2021 Spring", 4)]
    created = apply(program, roster_csv(rows), create_cohorts=True)
    assert created.summary["new_students"] == 4
    spring = Cohort.objects.get(program=program)
    assert (spring.code, spring.name, spring.enrollments.count()) == ("2021-SPRING", "2021 Spring", 4)


def test_on_a_tie_a_new_intake_takes_the_spelling_seen_first(program):
    rows = [
        student_row(NO_COHORT, 1, cohort="fall 2022", admitted_on=date(2022, 9, 6)),
        student_row(NO_COHORT, 2, cohort="Fall 2022", admitted_on=date(2022, 9, 6)),
        student_row(NO_COHORT, 3, cohort="Fall 2022", admitted_on=date(2022, 9, 6)),
        student_row(NO_COHORT, 4, cohort="fall  2022", admitted_on=date(2022, 9, 6)),
    ]

    assert [new.name for new in plan(program, roster_csv(rows)).new_cohorts] == ["fall 2022"]
    assert roster.intake_name(["B", "A", "A", "B"]) == "B"
    assert roster.intake_name(["x", "Y", "Y"]) == "Y"


def test_the_preview_shows_the_name_most_rows_use(client, program, dana):
    client.force_login(dana)
    rows = [
        student_row(NO_COHORT, 1, cohort="2021 spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 2, cohort="2021 Spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 3, cohort="2021  Spring", admitted_on=date(2021, 3, 1)),
    ]
    upload = _preview(client, program, rows)

    assert [(new["code"], new["name"]) for new in upload.new_cohorts] == [("2021-SPRING", "2021 Spring")]
    page = client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).content.decode()
    assert "<td>2021 Spring</td>" in page
    assert "<td>2021 spring</td>" not in page


def race_for_an_intake(monkeypatch: Any, first: Callable[[], Any], second: Callable[[], Any]) -> dict[str, Any]:
    """Two imports creating the same new intake, each in its own thread and database connection: the
    first creates the intake and, before it commits, the second starts; once the second waits on a
    lock the first holds, the first commits.

    Returns what each returned, or the exception it raised, by "first" and "second"."""
    first_created, first_may_commit = threading.Event(), threading.Event()
    create_new_cohorts = coursework._create_new_cohorts

    def create_then_hold(plan: roster.RosterPlan, program: Any) -> None:
        create_new_cohorts(plan, program)
        if threading.current_thread().name == "first":
            first_created.set()
            assert first_may_commit.wait(timeout=30)

    monkeypatch.setattr(coursework, "_create_new_cohorts", create_then_hold)
    outcome: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> None:
        try:
            if name == "second":
                assert first_created.wait(timeout=30)
            outcome[name] = work()
        except Exception as error:
            outcome[name] = error
        finally:
            first_created.set()
            connection.close()

    threads = [
        threading.Thread(target=run, args=(name, work), name=name)
        for name, work in [("first", first), ("second", second)]
    ]
    for thread in threads:
        thread.start()
    first_created.wait(timeout=30)
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with connection.cursor() as cursor:
        for _attempt in range(300):
            cursor.execute(waiting)
            if cursor.fetchone()[0]:
                break
            time.sleep(0.1)
    first_may_commit.set()
    for thread in threads:
        thread.join()
    return outcome


def spring_rows(*numbers: int) -> list[dict[str, Any]]:
    return [student_row(NO_COHORT, number, cohort="2021 Spring", admitted_on=date(2021, 3, 1)) for number in numbers]


INTAKE_CREATED_MEANWHILE = (
    "another import created intake “2021 Spring” (2021-SPRING) while this one ran. "
    "Import the file again and its rows will be matched with it."
)


@pytest.mark.django_db(transaction=True)
def test_an_intake_another_import_created_meanwhile_refuses_the_import_and_writes_nothing(program, monkeypatch):
    def importing(*numbers: int) -> Callable[[], roster.RosterPlan]:
        return lambda: apply(program, roster_csv(spring_rows(*numbers)), create_cohorts=True)

    outcome = race_for_an_intake(monkeypatch, importing(1, 2), importing(3, 4))

    assert outcome["first"].summary["new_students"] == 2
    refusal = outcome["second"]
    assert isinstance(refusal, ValidationError), refusal
    assert refusal.messages == [INTAKE_CREATED_MEANWHILE]
    assert refusal.error_list[0].code == coursework.INTAKE_CREATED_MEANWHILE
    spring = Cohort.objects.get(program=program)
    assert sorted(spring.enrollments.values_list("student__email", flat=True)) == [
        "student1@school.test",
        "student2@school.test",
    ]
    assert not User.objects.filter(email__in=["student3@school.test", "student4@school.test"]).exists()

    again = importing(3, 4)()

    assert again.new_cohorts == [] and again.summary["new_students"] == 2
    assert spring.enrollments.count() == 4


@pytest.mark.django_db(transaction=True)
def test_on_the_page_an_intake_another_import_is_creating_shows_a_new_preview_and_writes_nothing(
    program, dana, monkeypatch
):
    """The page plans under the program's lock, so it waits for the other import and then finds its
    intake: a new preview, never a deadlock or a unique-code error."""
    upload, _plan = services.preview_roster(
        program=program, uploaded_by=dana, file_name="r.csv", content=roster_csv(spring_rows(3)), create_cohorts=True
    )

    def applying() -> roster.RosterPlan:
        return services.apply_roster_import(upload=upload, skip_bad_rows=False, applied_by=dana)

    outcome = race_for_an_intake(
        monkeypatch, lambda: apply(program, roster_csv(spring_rows(1)), create_cohorts=True), applying
    )

    assert outcome["first"].summary["new_students"] == 1
    assert isinstance(outcome["second"], spreadsheets.PreviewChanged), outcome["second"]
    assert not User.objects.filter(email="student3@school.test").exists()
    upload.refresh_from_db()
    assert upload.applied_at is None and upload.new_cohorts == []
    assert applying().summary["new_students"] == 1
    assert Cohort.objects.get(program=program).enrollments.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_import_planned_while_the_page_creates_the_intake_is_refused_and_writes_nothing(program, dana, monkeypatch):
    upload, _plan = services.preview_roster(
        program=program, uploaded_by=dana, file_name="r.csv", content=roster_csv(spring_rows(1)), create_cohorts=True
    )

    outcome = race_for_an_intake(
        monkeypatch,
        lambda: services.apply_roster_import(upload=upload, skip_bad_rows=False, applied_by=dana),
        lambda: apply(program, roster_csv(spring_rows(3)), create_cohorts=True),
    )

    assert outcome["first"].summary["new_students"] == 1
    assert isinstance(outcome["second"], ValidationError), outcome["second"]
    assert outcome["second"].messages == [INTAKE_CREATED_MEANWHILE]
    assert not User.objects.filter(email="student3@school.test").exists()
    assert Cohort.objects.get(program=program).enrollments.count() == 1


def test_the_usual_length_is_the_median_of_the_programs_cohorts_else_twelve_months(program):
    start = date(2020, 1, 6)
    for days in (200, 300, 400):
        factories.CohortFactory(program=program, start_on=start, expected_graduation_on=start + timedelta(days=days))
    empty_program = factories.ProgramFactory()

    assert roster.program_length(program.cohorts.all()) == timedelta(days=300)
    assert roster.program_length(empty_program.cohorts.all()) == timedelta(days=365)
    new = plan(empty_program, roster_csv([student_row(NO_COHORT, 1, cohort="Winter", admitted_on=start)])).new_cohorts
    assert [(new.code, new.expected_graduation_on) for new in new] == [("WINTER", start + timedelta(days=365))]


def test_a_generated_code_follows_the_code_rules_and_is_unique_in_the_program(program):
    factories.CohortFactory(program=program, code="2021-SPRING", name="Evening")
    rows = [
        student_row(NO_COHORT, 1, cohort="2021 Spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 2, cohort="2021/spring", admitted_on=date(2021, 3, 1)),
        student_row(NO_COHORT, 3, cohort="«Été» 2021", admitted_on=date(2021, 7, 1)),
    ]

    codes = [new.code for new in plan(program, roster_csv(rows)).new_cohorts]

    assert codes == ["2021-SPRING-2", "2021-SPRING-3", "ETE-2021"]
    for code in codes:
        Cohort.code.field.run_validators(code)


def test_planning_costs_the_same_queries_at_one_and_five_times_the_rows(cohort):
    def queries(count: int) -> int:
        rows = [student_row(cohort, number, cohort=f"Intake {number % 3}") for number in range(count)]
        rows += [student_row(cohort, 1000 + number, cohort=cohort.name.upper()) for number in range(count)]
        with CaptureQueriesContext(connection) as captured:
            plan(cohort.program, roster_csv(rows))
        return len(captured.captured_queries)

    assert queries(4) == queries(20)


# --- Invitations are a decision -----------------------------------------------------------


def test_importing_never_invites_withdrawn_or_graduated_students(cohort, django_capture_on_commit_callbacks):
    rows = [
        student_row(cohort, 1),
        student_row(cohort, 2, withdrawn_on=cohort.start_on + timedelta(days=10)),
        student_row(cohort, 3, graduated_on=cohort.start_on + timedelta(days=200)),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        apply(cohort.program, roster_csv(rows), invite=True)

    assert list(Invitation.objects.values_list("user__email", flat=True)) == ["student1@school.test"]
    assert [message.to for message in mail.outbox] == [["student1@school.test"]]


def test_without_the_invite_option_nobody_is_invited_and_a_later_import_with_it_invites_once(
    cohort, django_capture_on_commit_callbacks
):
    content = roster_csv([student_row(cohort, 1), student_row(cohort, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        apply(cohort.program, content)
    assert not Invitation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        apply(cohort.program, content, invite=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apply(cohort.program, content, invite=True)

    assert sorted(Invitation.objects.values_list("user__email", flat=True)) == [
        "student1@school.test",
        "student2@school.test",
    ]
    assert callbacks == []
    assert len(mail.outbox) == 2


def test_a_re_import_invites_nobody_already_invited_or_signed_in(cohort, django_capture_on_commit_callbacks):
    content = roster_csv([student_row(cohort, number) for number in range(1, 4)])
    with django_capture_on_commit_callbacks(execute=True):
        apply(cohort.program, content)
    invited, accepted, signed_in = User.objects.filter(email__endswith="@school.test").order_by("email")
    Invitation.objects.create(user=invited, created_at=timezone.now() - timedelta(days=60))
    Invitation.objects.create(user=accepted, accepted_at=timezone.now())
    User.objects.filter(pk=signed_in.pk).update(last_login=timezone.now())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apply(cohort.program, content, invite=True)

    assert Invitation.objects.count() == 2
    assert callbacks == []


def test_the_preview_invites_by_default_and_unticking_invites_nobody(client, cohort, dana):
    client.force_login(dana)
    upload = _preview(client, cohort.program, [student_row(cohort, 1)])

    page = client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).content.decode()
    assert 'name="invite"' in page and "checked" in page.split('name="invite"')[1].split(">")[0]
    post_applying(client, reverse("curriculum:roster-import-apply", args=[upload.pk]))

    upload.refresh_from_db()
    assert upload.applied_at is not None and upload.invited is False
    assert (
        "Nobody was invited"
        in client.get(reverse("curriculum:roster-import-detail", args=[upload.pk])).content.decode()
    )
    assert Enrollment.objects.filter(cohort=cohort).count() == 1
    assert not Invitation.objects.exists()


def test_the_preview_lists_missing_intakes_and_creates_them_once_ticked(
    client, cohort, dana, django_capture_on_commit_callbacks
):
    client.force_login(dana)
    upload = _preview(client, cohort.program, _intake_rows(cohort))
    detail = reverse("curriculum:roster-import-detail", args=[upload.pk])

    page = client.get(detail).content.decode()
    assert "2021-SPRING" in page and "2022-FALL" in page and "tick “create the missing intakes”" in page
    response = client.post(reverse("curriculum:roster-import-intakes", args=[upload.pk]), {"create_cohorts": "on"})
    assert response.status_code == 302
    assert not Cohort.objects.exclude(pk=cohort.pk).exists(), "ticking the box plans; it writes no cohort"
    upload.refresh_from_db()
    assert upload.create_cohorts and upload.summary["errors"] == 0
    assert [new["code"] for new in upload.new_cohorts] == ["2021-SPRING", "2022-FALL"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("curriculum:roster-import-apply", args=[upload.pk]), {"invite": "on"})

    assert set(Cohort.objects.exclude(pk=cohort.pk).values_list("code", flat=True)) == {"2021-SPRING", "2022-FALL"}
    assert [message.to for message in mail.outbox] == [["student4@school.test"]], "the others left or graduated"


def test_an_intake_created_meanwhile_changes_the_preview_and_writes_nothing(client, cohort, dana):
    client.force_login(dana)
    upload = _preview(client, cohort.program, _intake_rows(cohort))
    client.post(reverse("curriculum:roster-import-intakes", args=[upload.pk]), {"create_cohorts": "on"})
    factories.CohortFactory(program=cohort.program, code="2022-FALL", name="Autumn 2022")

    response = post_applying(client, reverse("curriculum:roster-import-apply", args=[upload.pk]), follow=True)

    assert "Nothing was imported: the records changed since the preview" in response.content.decode()
    assert not Enrollment.objects.exists()
    upload.refresh_from_db()
    assert [new["code"] for new in upload.new_cohorts] == ["2021-SPRING", "2022-FALL-2"]


def test_only_the_uploader_may_tick_the_intakes_box_and_only_by_post(client, cohort, dana, carlos, irene):
    upload, _plan = services.preview_roster(
        program=cohort.program, uploaded_by=dana, file_name="r.csv", content=roster_csv(_intake_rows(cohort))
    )
    url = reverse("curriculum:roster-import-intakes", args=[upload.pk])
    diego = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Diego").user

    for someone_else in (carlos, irene, diego):
        client.force_login(someone_else)
        assert client.post(url, {"create_cohorts": "on"}).status_code == 404
    client.force_login(dana)
    assert client.get(url).status_code == 405
    upload.refresh_from_db()
    assert not upload.create_cohorts


# --- Invite everyone not yet invited --------------------------------------------------------


def _students_imported_without_invitations(cohort: Any) -> None:
    apply(
        cohort.program,
        roster_csv(
            [
                student_row(cohort, 1),
                student_row(cohort, 2),
                student_row(cohort, 3, graduated_on=cohort.start_on + timedelta(days=100)),
            ]
        ),
    )


@pytest.mark.parametrize("person", ["dana", "carlos"])
def test_the_program_page_counts_students_not_yet_invited_and_invites_them(
    client, cohort, person, request, django_capture_on_commit_callbacks
):
    admin = request.getfixturevalue(person)
    _students_imported_without_invitations(cohort)
    client.force_login(admin)
    page_url = reverse("curriculum:program-detail", args=[cohort.program.code])

    page = client.get(page_url)
    assert page.context["not_yet_invited"] == 2
    assert "2 current students not yet invited" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("curriculum:program-invite-students", args=[cohort.program.code]), follow=True)

    assert "2 students invited." in response.content.decode()
    assert sorted(message.to[0] for message in mail.outbox) == ["student1@school.test", "student2@school.test"]
    assert all(invitation.invited_by == admin for invitation in Invitation.objects.all())
    assert client.get(page_url).context["not_yet_invited"] == 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("curriculum:program-invite-students", args=[cohort.program.code]))
    assert callbacks == [] and Invitation.objects.count() == 2


def test_inviting_everyone_is_for_program_admins_by_post(client, cohort, irene, dana):
    _students_imported_without_invitations(cohort)
    url = reverse("curriculum:program-invite-students", args=[cohort.program.code])
    diego = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Diego").user

    client.force_login(irene)
    assert client.post(url).status_code == 403
    client.force_login(diego)
    assert client.post(url).status_code == 404
    client.force_login(dana)
    assert client.get(url).status_code == 405
    assert not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_invite_each_student_once(cohort, dana):
    _students_imported_without_invitations(cohort)
    barrier = threading.Barrier(2)
    invited: list[int] = []

    def click() -> None:
        barrier.wait()
        try:
            invited.append(services.invite_current_students(program=cohort.program, invited_by=dana))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(invited) == [0, 2]
    assert Invitation.objects.count() == 2


# --- The example file the upload page offers ---------------------------------------------------


class TestRosterExample:
    def url(self, program) -> str:
        return reverse("curriculum:roster-import-example", args=[program.code])

    def test_the_example_plans_without_errors_once_its_intakes_may_be_created(self, client, program, dana):
        client.force_login(dana)
        response = client.get(self.url(program))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="roster-example.csv"'
        plan = roster.plan_roster(program=program, content=response.content, file_name="e.csv", create_cohorts=True)
        assert plan.errors == []
        assert sorted(cohort.name for cohort in plan.new_cohorts) == ["2021 Spring", "2026 Fall"]
        assert len(plan.rows) == 3

    def test_the_upload_page_links_to_it(self, client, program, dana):
        client.force_login(dana)
        page = client.get(reverse("curriculum:roster-import", args=[program.code])).content.decode()
        assert f'href="{self.url(program)}"' in page

    def test_another_programs_staff_do_not_find_it(self, client, program, olga):
        client.force_login(olga)
        assert client.get(self.url(program)).status_code == 404

    def test_an_instructor_may_not_have_it(self, client, program, irene):
        client.force_login(irene)
        assert client.get(self.url(program)).status_code == 403

    def test_it_answers_only_get(self, client, program, dana):
        client.force_login(dana)
        assert client.post(self.url(program)).status_code == 405
