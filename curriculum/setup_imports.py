"""The cohorts and courses interchange formats: set a program up from two files.

Files are read by `curriculum.spreadsheets`, the reader every import shares; reading and planning
write nothing, `services.apply_cohorts` and `services.apply_courses` write a plan. A plan compares
each row with what the database holds, by code, so importing the same file twice plans no change
the second time. A plan keeps as JSON for a preview, like the roster's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from curriculum.models import Cohort, Course, Program, StaffRole
from curriculum.spreadsheets import FileFormat, RowError, RowsPlan, SheetRow, json_value, quoted, read_rows

COHORT_COLUMNS = ("code", "name", "starts_on", "expected_graduation_on")
COHORT_OPTIONAL_COLUMNS = ("instructors",)
COURSE_COLUMNS = ("code", "title", "hours")
COURSE_OPTIONAL_COLUMNS = ("is_trigger_course",)
DATE_COLUMNS = ("starts_on", "expected_graduation_on")
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EMAIL_SEPARATORS = re.compile(r"[;,\s]+")
YES = ("yes", "true", "1")
NO = ("no", "false", "0")
UNKNOWN_INSTRUCTORS_NAMED = 5
MAX_HOURS = 10_000  # a whole program is some 1,000 hours; more is a typing slip, not a course

COHORTS_FORMAT = FileFormat(
    required=COHORT_COLUMNS,
    optional=COHORT_OPTIONAL_COLUMNS,
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The cohorts format has: %(known)s."),
)
COURSES_FORMAT = FileFormat(
    required=COURSE_COLUMNS,
    optional=COURSE_OPTIONAL_COLUMNS,
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The courses format has: %(known)s."),
)


@dataclass
class SetupRow:
    """One row of a cohorts or courses file: its typed values, what it would do, and its errors."""

    line: int
    code: str
    values: dict[str, Any]
    action: str = "unchanged"  # create, update, unchanged, error
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "code": self.code,
            "values": {column: json_value(value) for column, value in self.values.items()},
            "action": self.action,
            "changes": {column: [json_value(old), json_value(new)] for column, (old, new) in self.changes.items()},
            "errors": [error.as_json() for error in self.errors],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SetupRow:
        return cls(
            line=data["line"],
            code=data["code"],
            values={column: _typed(column, value) for column, value in data["values"].items()},
            action=data["action"],
            changes={
                column: (_typed(column, old), _typed(column, new)) for column, (old, new) in data["changes"].items()
            },
            errors=[RowError.from_json(error) for error in data["errors"]],
        )


@dataclass
class SetupPlan(RowsPlan):
    """What a cohorts or courses file would do. `records` maps each row's line to the record it
    writes (an existing one, or a new one unsaved); `instructors` and `trigger_course` carry what
    the rows decide about the cohorts' instructors and the program's trigger course."""

    rows: list[SetupRow]
    records: dict[int, Any] = field(default_factory=dict)
    instructors: dict[int, list[User]] = field(default_factory=dict)
    trigger_course_line: int | None = None
    clears_trigger_course: bool = False

    @property
    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "new": self.count("create"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "errors": self.count("error"),
        }

    def as_json(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.rows]


def _typed(column: str, value: Any) -> Any:
    if column in DATE_COLUMNS and value:
        return date.fromisoformat(value)
    if column == "instructors" and value is not None:
        return tuple(value)
    return value


# --- Checking cells -----------------------------------------------------------------------


def _text(value: str | None) -> str:
    return (value or "").strip()


def _check_code(line: int, raw: dict[str, str], errors: list[RowError]) -> str:
    code = _text(raw.get("code"))
    if not code:
        errors.append(RowError(line, "code", _("is required")))
    elif len(code) > 40:
        errors.append(RowError(line, "code", _("is longer than %(limit)s characters") % {"limit": 40}))
    elif not CODE.fullmatch(code):
        errors.append(
            RowError(
                line,
                "code",
                _("“%(value)s” may hold only letters, digits, dots, dashes or underscores, from a letter or digit")
                % {"value": quoted(code)},
            )
        )
    return code


def _check_text(line: int, raw: dict[str, str], column: str, errors: list[RowError]) -> str:
    text = _text(raw.get(column))
    if not text:
        errors.append(RowError(line, column, _("is required")))
    elif len(text) > 200:
        errors.append(RowError(line, column, _("is longer than %(limit)s characters") % {"limit": 200}))
    return text


def _check_date(line: int, raw: dict[str, str], column: str, errors: list[RowError]) -> date | None:
    text = _text(raw.get(column))
    if not text:
        errors.append(RowError(line, column, _("is required")))
        return None
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors.append(RowError(line, column, _("“%(value)s” is not a date; use YYYY-MM-DD") % {"value": quoted(text)}))
        return None


def _first_seen(line: int, code: str, first_line_by_code: dict[str, int], errors: list[RowError]) -> None:
    """A code names one record: a second row with it (in any case) would write the same one twice."""
    key = code.lower()
    if key in first_line_by_code:
        errors.append(
            RowError(line, "code", _("appears again (first on row %(line)s)") % {"line": first_line_by_code[key]})
        )
    elif code:
        first_line_by_code[key] = line


# --- Cohorts ------------------------------------------------------------------------------


def plan_cohorts(*, program: Program, content: bytes, file_name: str) -> SetupPlan:
    """Read a cohorts file, check every row and compare it with the database. Raises UnreadableFile."""
    return plan_cohort_rows(program=program, rows=read_rows(content, file_name, COHORTS_FORMAT))


def plan_cohort_rows(*, program: Program, rows: Iterable[SheetRow]) -> SetupPlan:
    """Check every row of a cohorts file and compare it with the program's cohorts; writes nothing.

    An instructor must already be an instructor of the program: the file assigns people, it does not
    give anyone a staff role (that is the director's decision, on the program page)."""
    cohorts = {cohort.code.lower(): cohort for cohort in Cohort.objects.filter(program=program)}
    current_instructors: dict[int, set[str]] = {}
    for link in Cohort.instructors.through.objects.filter(cohort__program=program).select_related("user"):
        current_instructors.setdefault(link.cohort_id, set()).add(link.user.email)
    instructors = {
        user.email.lower(): user
        for user in User.objects.filter(staff_roles__program=program, staff_roles__role=StaffRole.Role.INSTRUCTOR)
    }
    plan = SetupPlan(rows=[])
    first_line_by_code: dict[str, int] = {}
    for sheet_row in rows:
        line, raw = sheet_row.line, sheet_row.cells
        errors = list(sheet_row.errors)
        code = _check_code(line, raw, errors)
        values: dict[str, Any] = {
            "name": _check_text(line, raw, "name", errors),
            "starts_on": _check_date(line, raw, "starts_on", errors),
            "expected_graduation_on": _check_date(line, raw, "expected_graduation_on", errors),
        }
        starts_on, graduation_on = values["starts_on"], values["expected_graduation_on"]
        if starts_on and graduation_on and graduation_on <= starts_on:
            errors.append(RowError(line, "expected_graduation_on", _("must be after starts_on")))
        _first_seen(line, code, first_line_by_code, errors)
        people: list[User] | None = None
        emails = [email.lower() for email in EMAIL_SEPARATORS.split(_text(raw.get("instructors"))) if email]
        if emails:
            people = [instructors[email] for email in dict.fromkeys(emails) if email in instructors]
            unknown = [email for email in dict.fromkeys(emails) if email not in instructors]
            if unknown:
                # One error a row, naming a few: a cell may hold thousands of addresses.
                named = ", ".join(quoted(email) for email in unknown[:UNKNOWN_INSTRUCTORS_NAMED])
                if len(unknown) > UNKNOWN_INSTRUCTORS_NAMED:
                    named += " " + _("and %(count)s more") % {"count": len(unknown) - UNKNOWN_INSTRUCTORS_NAMED}
                errors.append(
                    RowError(
                        line,
                        "instructors",
                        ngettext(
                            "%(emails)s is not an instructor of %(program)s; add them on the program page first",
                            "%(emails)s are not instructors of %(program)s; add them on the program page first",
                            len(unknown),
                        )
                        % {"emails": named, "program": program.code},
                    )
                )
            values["instructors"] = tuple(sorted(person.email for person in people))
        row = SetupRow(line=line, code=code, values=values, errors=errors)
        plan.rows.append(row)
        if errors:
            row.action = "error"
            continue
        cohort = cohorts.get(code.lower())
        if cohort is None:
            row.action = "create"
            plan.records[line] = Cohort(
                program=program,
                code=code,
                name=values["name"],
                start_on=values["starts_on"],
                expected_graduation_on=values["expected_graduation_on"],
            )
        else:
            for column, attribute in (
                ("name", "name"),
                ("starts_on", "start_on"),
                ("expected_graduation_on", "expected_graduation_on"),
            ):
                if getattr(cohort, attribute) != values[column]:
                    row.changes[column] = (getattr(cohort, attribute), values[column])
            plan.records[line] = cohort
        if people is not None:
            # An empty cell leaves the instructors alone; a filled one is the whole list.
            before = tuple(sorted(current_instructors.get(cohort.pk, set()))) if cohort else ()
            if before != values["instructors"]:
                row.changes["instructors"] = (before, values["instructors"])
            plan.instructors[line] = people
        if cohort is not None:
            row.action = "update" if row.changes else "unchanged"
    return plan


# --- Courses ------------------------------------------------------------------------------


def _check_hours(line: int, raw: dict[str, str], errors: list[RowError]) -> int | None:
    text = _text(raw.get("hours"))
    if not text:
        errors.append(RowError(line, "hours", _("is required")))
        return None
    if not text.isascii() or not text.isdigit() or int(text) < 1 or int(text) > MAX_HOURS:
        errors.append(
            RowError(
                line,
                "hours",
                _("“%(value)s” is not a whole number of hours from 1 to %(limit)s")
                % {"value": quoted(text), "limit": MAX_HOURS},
            )
        )
        return None
    return int(text)


def _check_yes_no(line: int, raw: dict[str, str], column: str, errors: list[RowError]) -> bool | None:
    """Yes, no, or None for an empty cell (which leaves the program as it is)."""
    text = _text(raw.get(column)).lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    errors.append(
        RowError(line, column, _("“%(value)s” is not yes or no (yes, no, true, false, 1, 0)") % {"value": quoted(text)})
    )
    return None


def plan_courses(*, program: Program, content: bytes, file_name: str) -> SetupPlan:
    """Read a courses file, check every row and compare it with the database. Raises UnreadableFile."""
    return plan_course_rows(program=program, rows=read_rows(content, file_name, COURSES_FORMAT))


def plan_course_rows(*, program: Program, rows: Iterable[SheetRow]) -> SetupPlan:
    """Check every row of a courses file and compare it with the program's courses; writes nothing.

    A program has one trigger course (retention counts from it): a file may name one, and may move
    the program's trigger course only by also saying "no" on the row of the course that is it now."""
    courses = {course.code.lower(): course for course in Course.objects.filter(program=program)}
    current_trigger = program.trigger_course_id
    plan = SetupPlan(rows=[])
    first_line_by_code: dict[str, int] = {}
    first_trigger_line: int | None = None
    for sheet_row in rows:
        line, raw = sheet_row.line, sheet_row.cells
        errors = list(sheet_row.errors)
        code = _check_code(line, raw, errors)
        values: dict[str, Any] = {
            "title": _check_text(line, raw, "title", errors),
            "hours": _check_hours(line, raw, errors),
            "is_trigger_course": _check_yes_no(line, raw, "is_trigger_course", errors),
        }
        _first_seen(line, code, first_line_by_code, errors)
        if values["is_trigger_course"]:
            if first_trigger_line is not None:
                errors.append(
                    RowError(
                        line,
                        "is_trigger_course",
                        _("a program has one trigger course, and row %(line)s names one already")
                        % {"line": first_trigger_line},
                    )
                )
            else:
                first_trigger_line = line
        plan.rows.append(SetupRow(line=line, code=code, values=values, errors=errors))
    named_no = {row.code.lower() for row in plan.rows if row.values["is_trigger_course"] is False and not row.errors}
    trigger_moves_away = any(course.pk == current_trigger and key in named_no for key, course in courses.items())
    for row in plan.rows:
        if row.errors:
            row.action = "error"
            continue
        course = courses.get(row.code.lower())
        is_trigger = row.values["is_trigger_course"]
        was_trigger = course is not None and course.pk == current_trigger
        if is_trigger and current_trigger is not None and not was_trigger and not trigger_moves_away:
            row.errors.append(
                RowError(
                    row.line,
                    "is_trigger_course",
                    _("the program's trigger course is another course; say no on its row to move it"),
                ),
            )
            row.action = "error"
            continue
        if course is None:
            row.action = "create"
            plan.records[row.line] = Course(
                program=program, code=row.code, title=row.values["title"], clock_hours=row.values["hours"]
            )
        else:
            if course.title != row.values["title"]:
                row.changes["title"] = (course.title, row.values["title"])
            if course.clock_hours != row.values["hours"]:
                row.changes["hours"] = (course.clock_hours, row.values["hours"])
            plan.records[row.line] = course
        if is_trigger is not None and is_trigger != was_trigger:
            row.changes["is_trigger_course"] = (was_trigger, is_trigger)
        if is_trigger:
            plan.trigger_course_line = row.line
        elif is_trigger is False and was_trigger:
            plan.clears_trigger_course = True
        if course is not None:
            row.action = "update" if row.changes else "unchanged"
    return plan
