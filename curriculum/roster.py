"""The roster interchange format: check every row of a file and plan the changes.

Files are read by `curriculum.spreadsheets`, the reader every import shares. Reading and planning
write nothing; `services.apply_roster` writes a plan. A plan compares each row with what the
database holds, so importing the same file twice plans no change the second time. A plan is kept
as JSON for the preview page (`RosterPlan.as_json`), so the preview never reads the file again.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from config import bulk
from curriculum.models import Cohort, Enrollment, Program
from curriculum.spreadsheets import FileFormat, RowError, RowsPlan, SheetRow, json_value, quoted, read_rows

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
# A program with no cohort yet to learn from: most diploma programs run about a year.
DEFAULT_PROGRAM_LENGTH = timedelta(days=365)
COHORT_CODE_LIMIT = 40
NOT_A_CODE_CHARACTER = re.compile(r"[^A-Za-z0-9_.-]+")
DOMAINS_REMEMBERED = 1000


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
    new_cohort: NewCohort | None = None

    @property
    def is_current(self) -> bool:
        """Neither withdrawn nor graduated according to the file: someone an import may invite."""
        return not self.values.get("withdrawn_on") and not self.values.get("graduated_on")

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "email": self.email,
            "values": {column: json_value(value) for column, value in self.values.items()},
            "action": self.action,
            "changes": {column: [json_value(old), json_value(new)] for column, (old, new) in self.changes.items()},
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
class NewCohort:
    """An intake the file names that the program does not have yet, with the dates it would get."""

    code: str
    name: str
    start_on: date
    expected_graduation_on: date
    rows: int

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "start_on": self.start_on.isoformat(),
            "expected_graduation_on": self.expected_graduation_on.isoformat(),
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NewCohort:
        return cls(
            code=data["code"],
            name=data["name"],
            start_on=date.fromisoformat(data["start_on"]),
            expected_graduation_on=date.fromisoformat(data["expected_graduation_on"]),
            rows=data["rows"],
        )


@dataclass
class RosterPlan(RowsPlan):
    rows: list[PlannedRow]
    new_cohorts: list[NewCohort] = field(default_factory=list)

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

    def new_cohorts_as_json(self) -> list[dict[str, Any]]:
        return [cohort.as_json() for cohort in self.new_cohorts]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> RosterPlan:
        return cls(rows=[PlannedRow.from_json(row) for row in data])


def _typed(column: str, value: Any) -> Any:
    return date.fromisoformat(value) if column in DATE_COLUMNS and value else value


ROSTER_FORMAT = FileFormat(
    required=REQUIRED_COLUMNS,
    optional=OPTIONAL_COLUMNS,
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The roster format has: %(known)s."),
)


# Who reads the row errors: a person on the import page (the default) or at the command line.
_on_command_line: ContextVar[bool] = ContextVar("roster_on_command_line", default=False)


@contextmanager
def on_command_line() -> Iterator[None]:
    """Word the row errors planned inside for `manage.py import_roster`: they name its options, not
    the page's boxes. The errors are written deep below the command (`services.apply_roster` plans
    the file it writes), so the command says who is reading, as `translation.override` says in which
    language, rather than every service passing the choice along."""
    token = _on_command_line.set(True)
    try:
        yield
    finally:
        _on_command_line.reset(token)


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


class _EmailValidator(EmailValidator):
    """Django's email check, remembering each domain's verdict: a file of thousands of students names
    a handful of domains, and the domain's pattern is the costly half of the check. Its pattern for
    the part before the @ is compiled here rather than on first use, which costs a lookup per call."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)

    def __init__(self) -> None:
        super().__init__()
        self.domains: dict[str, bool] = {}

    def validate_domain_part(self, domain_part: str) -> bool:
        verdict = self.domains.get(domain_part)
        if verdict is None:
            verdict = super().validate_domain_part(domain_part)
            if len(self.domains) < DOMAINS_REMEMBERED:
                self.domains[domain_part] = verdict
        return verdict


validate_email = _EmailValidator()


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
    admission_unreadable = False
    for column in DATE_COLUMNS:
        try:
            values[column] = _date(raw.get(column))
        except ValueError:
            values[column] = None
            admission_unreadable = admission_unreadable or column == "admitted_on"
            errors.append(
                RowError(
                    line,
                    column,
                    _("“%(value)s” is not a date; use YYYY-MM-DD") % {"value": quoted(_text(raw.get(column)))},
                )
            )
    if not admission_unreadable and values["admitted_on"] is None:
        errors.append(RowError(line, "admitted_on", _("is required")))
    admitted = values["admitted_on"]
    if values["withdrawn_on"] and values["graduated_on"]:
        errors.append(RowError(line, "graduated_on", _("a student cannot be both withdrawn and graduated")))
    for column in ("trigger_course_completed_on", "withdrawn_on", "graduated_on"):
        if admitted and values[column] and values[column] < admitted:
            errors.append(RowError(line, column, _("is before admitted_on")))
    return values, errors


# --- Planning -----------------------------------------------------------------------------


def plan_roster(*, program: Program, content: bytes, file_name: str, create_cohorts: bool = False) -> RosterPlan:
    """Read a file, check every row and compare it with the database. Raises UnreadableFile."""
    return plan_roster_rows(
        program=program, rows=read_rows(content, file_name, ROSTER_FORMAT), create_cohorts=create_cohorts
    )


def intake_key(text: str) -> str:
    """How people's spellings of one intake compare: "2021  spring " is "2021 Spring"."""
    return " ".join(text.split()).casefold()


def intake_name(spellings: Iterable[str]) -> str:
    """The name a new intake gets from the rows naming it: the spelling most rows use, so a few rows
    typed "2021 spring" do not rename the "2021 Spring" of the many; on a tie, the spelling seen first.
    Spaces are tidied first: "2021  Spring" counts as "2021 Spring"."""
    counts = Counter(" ".join(spelling.split()) for spelling in spellings)
    # most_common() keeps the order of first appearance among equal counts.
    return counts.most_common(1)[0][0]


def program_length(cohorts: Iterable[Cohort]) -> timedelta:
    """How long the program usually runs: the median of its cohorts' lengths, else a year."""
    lengths = [cohort.expected_graduation_on - cohort.start_on for cohort in cohorts]
    if not lengths:
        return DEFAULT_PROGRAM_LENGTH
    return timedelta(days=int(statistics.median(length.days for length in lengths)))


def cohort_code_for(name: str, taken: set[str]) -> str:
    """A code the cohort code rules accept, read from the name, that no other cohort of the program has."""
    # "Été 2021" becomes ETE-2021: accents go, anything else a code refuses becomes a dash.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = NOT_A_CODE_CHARACTER.sub("-", ascii_name.upper()).strip("-_.")[:COHORT_CODE_LIMIT] or "INTAKE"
    code, number = base, 1
    while code.casefold() in taken:
        number += 1
        suffix = f"-{number}"
        code = base[: COHORT_CODE_LIMIT - len(suffix)] + suffix
    taken.add(code.casefold())
    return code


def plan_roster_rows(*, program: Program, rows: Iterable[SheetRow], create_cohorts: bool = False) -> RosterPlan:
    """Check every row read from a file and compare it with the database; writes nothing.

    A row's intake is a cohort's code or name, compared as `intake_key` does. Intakes the program
    lacks are planned as new cohorts; without `create_cohorts` their rows are errors."""
    existing = list(Cohort.objects.filter(program=program))
    cohorts_by_key: dict[str, list[Cohort]] = {}
    for cohort in existing:
        for key in {intake_key(cohort.code), intake_key(cohort.name)}:
            cohorts_by_key.setdefault(key, []).append(cohort)
    planned: list[PlannedRow] = []
    first_line_by_email: dict[str, int] = {}
    rows_by_missing_intake: dict[str, list[PlannedRow]] = {}
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
        row = PlannedRow(line=line, email=email, values=values, errors=errors)
        key = intake_key(values.get("cohort", ""))
        matches = cohorts_by_key.get(key, [])
        if len(matches) > 1:
            errors.append(
                RowError(
                    line,
                    "cohort",
                    _("“%(value)s” names more than one cohort (%(codes)s); use the cohort's code")
                    % {"value": quoted(values["cohort"]), "codes": ", ".join(sorted(c.code for c in matches))},
                )
            )
        elif matches:
            row.cohort = matches[0]
        elif key:
            rows_by_missing_intake.setdefault(key, []).append(row)
        planned.append(row)
    new_cohorts = _plan_new_cohorts(program, existing, rows_by_missing_intake)
    for key, intake_rows in rows_by_missing_intake.items():
        for row in intake_rows:
            if create_cohorts and key in new_cohorts:
                row.new_cohort = new_cohorts[key]
            else:
                row.errors.append(RowError(row.line, "cohort", _missing_intake(row.values["cohort"], program)))
    for start in range(0, len(planned), LOOKUP_BATCH):
        _compare_with_database(program, existing, planned[start : start + LOOKUP_BATCH])
    return RosterPlan(rows=planned, new_cohorts=list(new_cohorts.values()))


def _missing_intake(value: str, program: Program) -> str:
    """The error of a row naming an intake the program lacks, naming the control that creates it."""
    if _on_command_line.get():
        message = _("no intake named “%(value)s” in %(program)s; pass --create-cohorts or import a cohorts file first")
    else:
        message = _(
            "no intake named “%(value)s” in %(program)s; tick “create the missing intakes” "
            "or import a cohorts file first"
        )
    return message % {"value": quoted(value), "program": program.code}


def _plan_new_cohorts(
    program: Program, existing: list[Cohort], rows_by_missing_intake: dict[str, list[PlannedRow]]
) -> dict[str, NewCohort]:
    """Each missing intake with its dates: it starts at its earliest admission and ends at its latest
    graduation, else after the program's usual length. An intake none of whose rows has an admission
    date has no start, and is not planned."""
    usual_length = program_length(existing)
    taken = {cohort.code.casefold() for cohort in existing}
    new_cohorts: dict[str, NewCohort] = {}
    for key, intake_rows in rows_by_missing_intake.items():
        admitted = [row.values["admitted_on"] for row in intake_rows if row.values.get("admitted_on")]
        if not admitted:
            continue
        start_on = min(admitted)
        graduated = [row.values["graduated_on"] for row in intake_rows if row.values.get("graduated_on")]
        latest = max(graduated, default=None)
        name = intake_name(row.values["cohort"] for row in intake_rows)
        new_cohorts[key] = NewCohort(
            code=cohort_code_for(name, taken),
            name=name,
            start_on=start_on,
            expected_graduation_on=latest if latest and latest > start_on else start_on + usual_length,
            rows=len(intake_rows),
        )
    return new_cohorts


def _compare_with_database(program: Program, existing: list[Cohort], rows: list[PlannedRow]) -> None:
    """Two queries per batch, whatever its size: the people, and their enrollments in this program."""
    emails = [row.email for row in rows if row.email]
    users = {user.email: user for user in User.objects.filter(email__in=bulk.one_array(emails, "text"))}
    # One object a cohort, not one a row: a file of 10,000 rows names a handful of cohorts.
    cohorts = {cohort.pk: cohort for cohort in existing}
    enrollments: dict[int, list[Enrollment]] = {}
    for enrollment in Enrollment.objects.filter(
        student_id__in=bulk.one_array(user.pk for user in users.values()), cohort__program=program
    ):
        enrollment.cohort = cohorts[enrollment.cohort_id]
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
        # A cohort still to be created holds nobody yet.
        row.enrollment = next((e for e in own if row.cohort and e.cohort_id == row.cohort.pk), None)
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
