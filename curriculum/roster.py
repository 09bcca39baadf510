"""The roster interchange format: read a CSV or XLSX file, check every row, and plan the changes.

Reading and planning write nothing; `services.apply_roster` writes a plan. A plan compares each
row with what the database holds, so importing the same file twice plans no change the second time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from curriculum.models import Cohort, Enrollment, Program

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

REQUIRED_COLUMNS = ("email", "first_name", "last_name", "cohort", "admitted_on")
OPTIONAL_COLUMNS = (
    "student_number",
    "preferred_language",
    "trigger_course_completed_on",
    "withdrawn_on",
    "graduated_on",
)
DATE_COLUMNS = ("admitted_on", "trigger_course_completed_on", "withdrawn_on", "graduated_on")
USER_FIELDS = ("first_name", "last_name", "preferred_language")
ENROLLMENT_FIELDS = ("student_number", "admitted_on", "trigger_course_completed_on", "withdrawn_on", "graduated_on")
LOOKUP_BATCH = 2000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RosterFileError(ValueError):
    """The file as a whole cannot be read: wrong type, bad encoding, missing or unknown columns."""


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(line)s, %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class PlannedRow:
    line: int
    email: str
    values: dict[str, Any]
    action: str = "unchanged"  # create, enroll, update, unchanged, error
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    user: User | None = None
    cohort: Cohort | None = None
    enrollment: Enrollment | None = None


class RowsPlan:
    """What an import of rows would do: each row with its action and its errors."""

    rows: list[Any]  # each with .action and .errors

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


@dataclass
class RosterPlan(RowsPlan):
    rows: list[PlannedRow]

    @property
    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "new_students": self.count("create"),
            "new_enrollments": self.count("enroll"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "errors": self.count("error"),
        }


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFormat:
    """The columns of one interchange format. The other formats (certifications' exam results and
    graduate outcomes) are read by the same functions, so every file is held to the same rules.

    `unknown_message` has %(columns)s (the unknown ones) and %(known)s (every column of the format)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    unknown_message: StrOrPromise

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


ROSTER_FORMAT = FileFormat(
    required=REQUIRED_COLUMNS,
    optional=OPTIONAL_COLUMNS,
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The roster format has: %(known)s."),
)


def read_rows(
    content: bytes, file_name: str, file_format: FileFormat = ROSTER_FORMAT
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, values by column) for each non-empty row; the header is line 1."""
    if file_name.lower().endswith(".xlsx"):
        yield from _read_xlsx(content, file_format)
    elif file_name.lower().endswith(".csv"):
        yield from _read_csv(content, file_format)
    else:
        raise RosterFileError(_("The file must be a .csv or .xlsx file."))


def _check_header(header: list[str], file_format: FileFormat = ROSTER_FORMAT) -> list[str]:
    columns = [str(name or "").strip().lower() for name in header]
    unknown = [name for name in columns if name and name not in file_format.columns]
    if unknown:
        raise RosterFileError(
            str(file_format.unknown_message) % {"columns": ", ".join(unknown), "known": ", ".join(file_format.columns)}
        )
    missing = [name for name in file_format.required if name not in columns]
    if missing:
        raise RosterFileError(_("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)})
    duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicated:
        raise RosterFileError(_("Columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    if "" in columns:
        raise RosterFileError(_("A column has no name in the header row."))
    return columns


def _read_csv(content: bytes, file_format: FileFormat = ROSTER_FORMAT) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(_("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise RosterFileError(_("The file is empty."))
    while header and not header[-1].strip():
        header.pop()  # a trailing comma is a spreadsheet's habit, not a column
    columns = _check_header(header, file_format)
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[len(columns) :]):
            yield line, {"__extra__": True}
            continue
        yield line, {column: cells[index] if index < len(cells) else "" for index, column in enumerate(columns)}


def _read_xlsx(content: bytes, file_format: FileFormat = ROSTER_FORMAT) -> Iterator[tuple[int, dict[str, Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise RosterFileError(_("The file is not a readable .xlsx workbook.")) from error
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise RosterFileError(_("The file is empty."))
        # Trailing empty header cells are formatting, not columns.
        header_cells = list(header)
        while header_cells and (header_cells[-1] is None or str(header_cells[-1]).strip() == ""):
            header_cells.pop()
        columns = _check_header([str(cell) if cell is not None else "" for cell in header_cells], file_format)
        for line, cells in enumerate(rows, start=2):
            values = list(cells)
            if not any(cell is not None and str(cell).strip() for cell in values):
                continue
            if any(cell is not None and str(cell).strip() for cell in values[len(columns) :]):
                yield line, {"__extra__": True}
                continue
            yield line, {column: values[index] if index < len(values) else None for index, column in enumerate(columns)}
    finally:
        workbook.close()


# --- Checking -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def clean_row(line: int, raw: dict[str, Any]) -> tuple[dict[str, Any], list[RowError]]:
    """Typed values and every problem of one row, each naming its column."""
    errors: list[RowError] = []
    if raw.get("__extra__"):
        return {}, [RowError(line, _("row"), _("has more cells than the header has columns"))]
    values: dict[str, Any] = {}
    email = _text(raw.get("email")).lower()
    try:
        validate_email(email)
    except ValidationError:
        errors.append(RowError(line, "email", _("“%(value)s” is not an email address") % {"value": email}))
    values["email"] = email
    for column, limit in (("first_name", 150), ("last_name", 150), ("student_number", 40), ("cohort", 40)):
        text = _text(raw.get(column))
        if column in REQUIRED_COLUMNS and not text:
            errors.append(RowError(line, column, _("is required")))
        elif len(text) > limit:
            errors.append(RowError(line, column, _("is longer than %(limit)s characters") % {"limit": limit}))
        values[column] = text
    language = _text(raw.get("preferred_language")).lower()
    if language and language not in dict(settings.LANGUAGES):
        errors.append(
            RowError(
                line,
                "preferred_language",
                _("“%(value)s” is not one of: %(choices)s")
                % {"value": language, "choices": ", ".join(code for code, _name in settings.LANGUAGES)},
            )
        )
    values["preferred_language"] = language
    for column in DATE_COLUMNS:
        try:
            values[column] = _date(raw.get(column))
        except ValueError:
            values[column] = None
            errors.append(
                RowError(
                    line, column, _("“%(value)s” is not a date; use YYYY-MM-DD") % {"value": _text(raw.get(column))}
                )
            )
    if "admitted_on" not in [error.column for error in errors] and values["admitted_on"] is None:
        errors.append(RowError(line, "admitted_on", _("is required")))
    admitted = values["admitted_on"]
    if values["withdrawn_on"] and values["graduated_on"]:
        errors.append(RowError(line, "graduated_on", _("a student cannot be both withdrawn and graduated")))
    for column in ("trigger_course_completed_on", "withdrawn_on", "graduated_on"):
        if admitted and values[column] and values[column] < admitted:
            errors.append(RowError(line, column, _("is before admitted_on")))
    return values, errors


# --- Planning -----------------------------------------------------------------------------


def plan_roster(*, program: Program, content: bytes, file_name: str) -> RosterPlan:
    """Check every row and compare it with the database. Raises RosterFileError for an unreadable file."""
    cohorts = {cohort.code.lower(): cohort for cohort in Cohort.objects.filter(program=program)}
    rows: list[PlannedRow] = []
    first_line_by_email: dict[str, int] = {}
    for line, raw in read_rows(content, file_name):
        values, errors = clean_row(line, raw)
        email = values.get("email", "")
        if email and email in first_line_by_email:
            errors.append(
                RowError(
                    line, "email", _("appears again (first on row %(line)s)") % {"line": first_line_by_email[email]}
                )
            )
        elif email:
            first_line_by_email[email] = line
        cohort = cohorts.get(values.get("cohort", "").lower())
        if values.get("cohort") and cohort is None:
            errors.append(
                RowError(
                    line,
                    "cohort",
                    _("no cohort “%(value)s” in %(program)s (cohorts: %(codes)s)")
                    % {
                        "value": values["cohort"],
                        "program": program.code,
                        "codes": ", ".join(sorted(c.code for c in cohorts.values())) or "—",
                    },
                )
            )
        rows.append(PlannedRow(line=line, email=email, values=values, errors=errors, cohort=cohort))
    for start in range(0, len(rows), LOOKUP_BATCH):
        _compare_with_database(program, rows[start : start + LOOKUP_BATCH])
    return RosterPlan(rows=rows)


def _compare_with_database(program: Program, rows: list[PlannedRow]) -> None:
    """Two queries per batch, whatever its size: the people, and their enrollments in this program."""
    emails = [row.email for row in rows if row.email]
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    enrollments: dict[int, list[Enrollment]] = {}
    for enrollment in Enrollment.objects.filter(student__in=users.values(), cohort__program=program).select_related(
        "cohort"
    ):
        enrollments.setdefault(enrollment.student_id, []).append(enrollment)
    for row in rows:
        if row.errors:
            row.action = "error"
            continue
        row.user = users.get(row.email)
        if row.user is None:
            row.action = "create"
            continue
        for column in USER_FIELDS:
            new = row.values[column]
            old = getattr(row.user, column)
            if column == "preferred_language" and not new:
                continue  # an empty cell leaves the person's own choice alone
            if new != old:
                row.changes[column] = (old, new)
        own = enrollments.get(row.user.pk, [])
        row.enrollment = next((e for e in own if e.cohort_id == row.cohort.pk), None)  # type: ignore[union-attr]
        if row.enrollment is None:
            current = [e for e in own if e.withdrawn_on is None and e.graduated_on is None]
            if current:
                row.errors.append(
                    RowError(
                        row.line,
                        "cohort",
                        _("%(email)s is already enrolled in cohort %(cohort)s of this program")
                        % {"email": row.email, "cohort": current[0].cohort.code},
                    )
                )
                row.action = "error"
                continue
            row.action = "enroll"
            continue
        for column in ENROLLMENT_FIELDS:
            new, old = row.values[column], getattr(row.enrollment, column)
            if column == "student_number" and not new:
                continue
            if new != old:
                row.changes[column] = (old, new)
        row.action = "update" if row.changes else "unchanged"
