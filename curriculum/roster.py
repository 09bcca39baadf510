"""The roster interchange format: check every row of a file and plan the changes.

Files are read by `curriculum.spreadsheets`, the reader every import shares. Reading and planning
write nothing; `services.apply_roster` writes a plan. A plan compares each row with what the
database holds, so importing the same file twice plans no change the second time. A plan is kept
as JSON for the preview page (`RosterPlan.as_json`), so the preview never reads the file again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from curriculum.models import Cohort, Enrollment, Program
from curriculum.spreadsheets import FileFormat, RowError, RowsPlan, SheetRow, quoted, read_rows

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

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "email": self.email,
            "values": {column: _json_value(value) for column, value in self.values.items()},
            "action": self.action,
            "changes": {column: [_json_value(old), _json_value(new)] for column, (old, new) in self.changes.items()},
            "errors": [error.as_json() for error in self.errors],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedRow:
        """A row as the preview shows it: its values and changes, without the people and cohorts behind them."""
        return cls(
            line=data["line"],
            email=data["email"],
            values={column: _typed(column, value) for column, value in data["values"].items()},
            action=data["action"],
            changes={
                column: (_typed(column, old), _typed(column, new)) for column, (old, new) in data["changes"].items()
            },
            errors=[RowError.from_json(error) for error in data["errors"]],
        )


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

    def as_json(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.rows]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> RosterPlan:
        return cls(rows=[PlannedRow.from_json(row) for row in data])


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _typed(column: str, value: Any) -> Any:
    return date.fromisoformat(value) if column in DATE_COLUMNS and value else value


ROSTER_FORMAT = FileFormat(
    required=REQUIRED_COLUMNS,
    optional=OPTIONAL_COLUMNS,
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The roster format has: %(known)s."),
)


# --- Checking -----------------------------------------------------------------------------


def _text(value: str | None) -> str:
    """A cell's text without the spaces around it; a column the file lacks reads as empty."""
    return (value or "").strip()


def _date(value: str | None) -> date | None:
    """A date written YYYY-MM-DD (the reader writes a workbook's date cells so); empty is None."""
    text = _text(value)
    if not text:
        return None
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def clean_row(line: int, raw: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
    """Typed values and every problem of one row, each naming its column."""
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    email = _text(raw.get("email")).lower()
    try:
        validate_email(email)
    except ValidationError:
        errors.append(RowError(line, "email", _("“%(value)s” is not an email address") % {"value": quoted(email)}))
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
                % {"value": quoted(language), "choices": ", ".join(code for code, _name in settings.LANGUAGES)},
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
                    line,
                    column,
                    _("“%(value)s” is not a date; use YYYY-MM-DD") % {"value": quoted(_text(raw.get(column)))},
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
    """Read a file, check every row and compare it with the database. Raises UnreadableFile."""
    return plan_roster_rows(program=program, rows=read_rows(content, file_name, ROSTER_FORMAT))


def plan_roster_rows(*, program: Program, rows: Iterable[SheetRow]) -> RosterPlan:
    """Check every row read from a file and compare it with the database; writes nothing."""
    cohorts = {cohort.code.lower(): cohort for cohort in Cohort.objects.filter(program=program)}
    planned: list[PlannedRow] = []
    first_line_by_email: dict[str, int] = {}
    for sheet_row in rows:
        line = sheet_row.line
        if sheet_row.errors:
            email = _text(sheet_row.cells.get("email")).lower()
            planned.append(PlannedRow(line=line, email=email, values={}, errors=list(sheet_row.errors)))
            continue
        values, errors = clean_row(line, sheet_row.cells)
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
                        "value": quoted(values["cohort"]),
                        "program": program.code,
                        "codes": ", ".join(sorted(c.code for c in cohorts.values())) or "—",
                    },
                )
            )
        planned.append(PlannedRow(line=line, email=email, values=values, errors=errors, cohort=cohort))
    for start in range(0, len(planned), LOOKUP_BATCH):
        _compare_with_database(program, planned[start : start + LOOKUP_BATCH])
    return RosterPlan(rows=planned)


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
