"""The exam results and graduate outcomes interchange formats: read a file, check every row, plan, apply.

Planning writes nothing: it checks every row and compares it with what the database holds, so the
preview page and `--dry-run` say exactly what applying would do, and a file imported twice plans no
change the second time. Applying plans again inside one transaction, the students locked, and writes
the whole file in bulk by the rules `certifications.services` apply one row at a time, so a result
from a file follows the same rules as one typed on a page (a pass issues the credential, a
correction to fail withdraws it); should the database refuse a batch, every row goes through the
services instead. A result is history: the retake and eligibility rules that govern booking never
refuse a sitting that happened, and the row carries a warning saying what they would have said; a
sitting that cannot have happened (in the future, before admission) is an error. With any row error, found by planning
or refused by a service, nothing is written. Files are read by the reader every import shares
(`curriculum.spreadsheets`), so every format is held to the same rules: CSV (UTF-8) or XLSX, a
header row, unknown columns refused, and the same limits on size, rows and cells. An upload keeps
its rows as read and its plan as JSON: the preview shows the stored plan, and applying plans the
stored rows again and writes them only if nothing changed since the preview.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from certifications import eligibility, services
from certifications.models import (
    CertificationTrack,
    Credential,
    ExamAttempt,
    JobPlacement,
    PlacementStatus,
    ResultImport,
)
from config import bulk
from curriculum import imports as flow
from curriculum import roster, spreadsheets
from curriculum.models import Cohort, Enrollment, Program
from curriculum.spreadsheets import FileFormat, RowError, RowsPlan, SheetRow, json_value, quoted

EXAM_RESULTS_FORMAT = FileFormat(
    required=("email", "credential", "taken_on", "result"),
    optional=("score",),
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The exam results format has: %(known)s."),
)
GRADUATE_OUTCOMES_FORMAT = FileFormat(
    required=("email", "status"),
    optional=("employed_on", "employer", "position", "unavailable_reason"),
    unknown_message=gettext_lazy("Unknown columns: %(columns)s. The graduate outcomes format has: %(known)s."),
)
FORMATS: dict[str, FileFormat] = {
    ResultImport.Kind.EXAM_RESULTS: EXAM_RESULTS_FORMAT,
    ResultImport.Kind.GRADUATE_OUTCOMES: GRADUATE_OUTCOMES_FORMAT,
}
RESULTS = (ExamAttempt.Result.PASS.value, ExamAttempt.Result.FAIL.value)
SCORE_MAX = Decimal("99999.9")  # what ExamAttempt.score holds: six digits, one after the point
TEXT_LIMIT = 200  # JobPlacement.employer and .position
LOOKUP_BATCH = 2000
WRITE_BATCH = 2000
# What planning and writing read of a student's enrollment; the services load the rest if they need it.
ENROLLMENT_FIELDS = (
    "cohort_id",
    "admitted_on",
    "withdrawn_on",
    "graduated_on",
    "student__email",
    "student__first_name",
    "student__last_name",
)
PLACEMENT_FIELDS = ("status", "employed_on", "employer", "position", "unavailable_reason")

# Unreadable files raise the shared reader's error: one kind of refusal for every interchange file.
ImportFileError = spreadsheets.UnreadableFile

NEW, CHANGE, UNCHANGED, ERROR = "new", "change", "unchanged", "error"


@dataclass
class PlannedRow:
    """One row of the file: its typed values, what applying it would do, and what is wrong with it."""

    line: int
    email: str
    values: dict[str, Any]
    action: str = UNCHANGED  # new, change, unchanged, error
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # What a rule that governs booking would have said of a past sitting: shown, never a refusal.
    warnings: list[RowError] = field(default_factory=list)
    enrollment: Enrollment | None = None
    track: CertificationTrack | None = None
    attempt: ExamAttempt | None = None  # the sitting on record for the row's day, if any
    placement: JobPlacement | None = None  # the graduate's outcome on record, if any
    student_name: str = ""  # what the preview shows of the student the email found
    cohort_code: str = ""

    @property
    def student(self) -> User | None:
        return self.enrollment.student if self.enrollment else None

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "email": self.email,
            "values": {column: json_value(value) for column, value in self.values.items()},
            "action": self.action,
            "changes": {column: [json_value(old), json_value(new)] for column, (old, new) in self.changes.items()},
            "errors": [error.as_json() for error in self.errors],
            "warnings": [warning.as_json() for warning in self.warnings],
            "student_name": self.student_name,
            "cohort_code": self.cohort_code,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedRow:
        """A row as the preview shows it, without the enrollment and track behind it."""
        return cls(
            line=data["line"],
            email=data["email"],
            values={column: _typed(column, value) for column, value in data["values"].items()},
            action=data["action"],
            changes={
                column: (_typed(column, old), _typed(column, new)) for column, (old, new) in data["changes"].items()
            },
            errors=[RowError.from_json(error) for error in data["errors"]],
            # Previews stored before warnings existed have none.
            warnings=[RowError.from_json(warning) for warning in data.get("warnings", [])],
            student_name=data["student_name"],
            cohort_code=data["cohort_code"],
        )


@dataclass
class ImportPlan(RowsPlan):
    kind: str
    rows: list[PlannedRow]
    # Planned for writing: the students' enrollments are locked, as the services lock them.
    locked: bool = False

    @property
    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "new": self.count(NEW),
            "changed": self.count(CHANGE),
            "unchanged": self.count(UNCHANGED),
            "errors": self.count(ERROR),
        }

    @property
    def warnings(self) -> list[RowError]:
        return [warning for row in self.rows for warning in row.warnings]

    def as_json(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.rows]

    @classmethod
    def from_json(cls, kind: str, data: list[dict[str, Any]]) -> ImportPlan:
        return cls(kind=kind, rows=[PlannedRow.from_json(row) for row in data])


DATE_COLUMNS = ("taken_on", "employed_on")


def _typed(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in DATE_COLUMNS:
        return date.fromisoformat(value)
    if column == "score":
        return Decimal(value)
    return value


class ImportRefused(ValidationError):
    """Nothing was written: some rows have errors. `plan` holds every row, its errors named by row and column."""

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        super().__init__([str(error) for error in plan.errors])


# --- Checking one row ---------------------------------------------------------------------


def _email(line: int, raw: dict[str, Any], errors: list[RowError]) -> str:
    email = roster._text(raw.get("email")).lower()
    if not email:
        errors.append(RowError(line, "email", _("is required")))
        return email
    try:
        validate_email(email)
    except ValidationError:
        errors.append(RowError(line, "email", _("“%(value)s” is not an email address") % {"value": quoted(email)}))
    return email


def _day(line: int, raw: dict[str, Any], column: str, today: date, errors: list[RowError]) -> date | None:
    """A YYYY-MM-DD date (an XLSX date cell too) that is not after today in the program's time zone."""
    try:
        day = roster._date(raw.get(column))
    except ValueError:
        errors.append(
            RowError(
                line,
                column,
                _("“%(value)s” is not a date; use YYYY-MM-DD") % {"value": quoted(roster._text(raw[column]))},
            )
        )
        return None
    if day is not None and day > today:
        errors.append(
            RowError(line, column, _("%(day)s is in the future") % {"day": day.isoformat()}),
        )
    return day


def clean_exam_row(
    line: int, raw: dict[str, Any], tracks: dict[str, CertificationTrack], today: date
) -> tuple[dict[str, Any], list[RowError]]:
    """Typed values and every problem of one exam results row, each naming its column.

    A file without the score column has no "score" in `values`: a sitting on record keeps its score."""
    errors: list[RowError] = []
    values: dict[str, Any] = {"email": _email(line, raw, errors)}
    code = roster._text(raw.get("credential")).upper()
    values["credential"] = code
    if not code:
        errors.append(RowError(line, "credential", _("is required")))
    elif code not in tracks:
        errors.append(
            RowError(
                line,
                "credential",
                _("“%(value)s” is not a credential of this program (credentials: %(codes)s)")
                % {"value": quoted(roster._text(raw.get("credential"))), "codes": ", ".join(tracks) or "—"},
            )
        )
    values["taken_on"] = _day(line, raw, "taken_on", today, errors)
    if values["taken_on"] is None and "taken_on" not in [error.column for error in errors]:
        errors.append(RowError(line, "taken_on", _("is required")))
    result = roster._text(raw.get("result")).lower()
    values["result"] = result
    if result not in RESULTS:
        errors.append(
            RowError(
                line,
                "result",
                _("“%(value)s” is not one of: %(choices)s")
                % {"value": quoted(roster._text(raw.get("result"))), "choices": ", ".join(RESULTS)},
            )
        )
    if "score" in raw:
        values["score"] = _score(line, raw, errors)
    return values, errors


def _score(line: int, raw: dict[str, Any], errors: list[RowError]) -> Decimal | None:
    text = roster._text(raw.get("score"))
    if not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = None
    if score is None or not score.is_finite() or score < 0 or score > SCORE_MAX:
        errors.append(
            RowError(
                line,
                "score",
                _("“%(value)s” is not a number from 0 to %(max)s") % {"value": quoted(text), "max": SCORE_MAX},
            )
        )
        return None
    if score != score.quantize(Decimal("0.1")):
        errors.append(
            RowError(line, "score", _("“%(value)s” has more than one decimal place") % {"value": quoted(text)})
        )
        return None
    return score


def clean_outcome_row(line: int, raw: dict[str, Any], today: date) -> tuple[dict[str, Any], list[RowError]]:
    """Typed values and every problem of one graduate outcomes row, each naming its column.

    Only the columns the file has are in `values`: a column left out keeps what is stored."""
    errors: list[RowError] = []
    values: dict[str, Any] = {"email": _email(line, raw, errors)}
    status = roster._text(raw.get("status")).lower()
    values["status"] = status
    if not status:
        errors.append(RowError(line, "status", _("is required")))
    elif status not in PlacementStatus.values:
        errors.append(
            RowError(
                line,
                "status",
                _("“%(value)s” is not one of: %(choices)s")
                % {"value": quoted(roster._text(raw.get("status"))), "choices": ", ".join(PlacementStatus.values)},
            )
        )
    if "employed_on" in raw:
        values["employed_on"] = _day(line, raw, "employed_on", today, errors)
    for column in ("employer", "position"):
        if column in raw:
            values[column] = roster._text(raw.get(column))
            if len(values[column]) > TEXT_LIMIT:
                errors.append(RowError(line, column, _("is longer than %(limit)s characters") % {"limit": TEXT_LIMIT}))
    if "unavailable_reason" in raw:
        values["unavailable_reason"] = roster._text(raw.get("unavailable_reason"))
        if status == PlacementStatus.UNAVAILABLE and not values["unavailable_reason"]:
            errors.append(RowError(line, "unavailable_reason", _("is required when the status is unavailable")))
    return values, errors


# --- Planning -----------------------------------------------------------------------------


def plan_import(*, kind: str, program: Program, content: bytes, file_name: str, lock: bool = False) -> ImportPlan:
    """Check every row of a file of either kind and compare it with the database. Writes nothing.

    Raises ImportFileError when the file as a whole cannot be read."""
    return plan_rows(
        kind=kind, program=program, rows=read_rows(kind=kind, content=content, file_name=file_name), lock=lock
    )


def read_rows(*, kind: str, content: bytes, file_name: str) -> Iterator[SheetRow]:
    """The rows of a file of either kind, as read and checked cell by cell. Raises ImportFileError."""
    return spreadsheets.read_rows(content, file_name, FORMATS[kind])


def plan_rows(*, kind: str, program: Program, rows: Iterable[SheetRow], lock: bool = False) -> ImportPlan:
    """Check rows read from a file of either kind and compare them with the database. Writes nothing."""
    if kind == ResultImport.Kind.EXAM_RESULTS:
        return plan_exam_results(program=program, rows=rows, lock=lock)
    return plan_graduate_outcomes(program=program, rows=rows, lock=lock)


def _unread_row(sheet_row: SheetRow) -> PlannedRow:
    """A row the reader refused (a cell too long, a NUL, cells past the header): its errors, nothing else."""
    email = roster._text(sheet_row.cells.get("email")).lower()
    return PlannedRow(line=sheet_row.line, email=email, values={}, errors=list(sheet_row.errors), action=ERROR)


def plan_exam_results(*, program: Program, rows: Iterable[SheetRow], lock: bool = False) -> ImportPlan:
    """Every exam results row checked; a fixed number of queries per batch of rows, whatever its size."""
    tracks = {track.code.upper(): track for track in CertificationTrack.objects.filter(program=program)}
    today = program.today()
    planned: list[PlannedRow] = []
    first_line: dict[tuple[str, str, date], int] = {}
    for sheet_row in rows:
        if sheet_row.errors:
            planned.append(_unread_row(sheet_row))
            continue
        line = sheet_row.line
        values, errors = clean_exam_row(line, sheet_row.cells, tracks, today)
        email, code, taken_on = values.get("email", ""), values.get("credential", ""), values.get("taken_on")
        if email and code and taken_on:
            key = (email, code, taken_on)
            if key in first_line:
                errors.append(
                    RowError(
                        line,
                        "taken_on",
                        _("the same student, credential and day are on row %(line)s already")
                        % {"line": first_line[key]},
                    )
                )
            else:
                first_line[key] = line
        planned.append(
            PlannedRow(line=line, email=email, values=values, errors=errors, track=tracks.get(code), action=ERROR)
        )
    sittings: Sittings = {}
    _in_batches(program, planned, lambda program, batch: _compare_exam_results(program, batch, sittings, lock))
    _warn_of_booking_rules(planned, sittings)
    _warn_of_eligibility_rules(planned)
    return ImportPlan(kind=ResultImport.Kind.EXAM_RESULTS, rows=planned, locked=lock)


def plan_graduate_outcomes(*, program: Program, rows: Iterable[SheetRow], lock: bool = False) -> ImportPlan:
    """Every graduate outcomes row checked; a fixed number of queries per batch of rows, whatever its size."""
    today = program.today()
    planned: list[PlannedRow] = []
    first_line: dict[str, int] = {}
    for sheet_row in rows:
        if sheet_row.errors:
            planned.append(_unread_row(sheet_row))
            continue
        line = sheet_row.line
        values, errors = clean_outcome_row(line, sheet_row.cells, today)
        email = values.get("email", "")
        if email and email in first_line:
            errors.append(
                RowError(line, "email", _("appears again (first on row %(line)s)") % {"line": first_line[email]})
            )
        elif email:
            first_line[email] = line
        planned.append(PlannedRow(line=line, email=email, values=values, errors=errors, action=ERROR))
    _in_batches(program, planned, lambda program, batch: _compare_graduate_outcomes(program, batch, lock))
    return ImportPlan(kind=ResultImport.Kind.GRADUATE_OUTCOMES, rows=planned, locked=lock)


def _in_batches(program: Program, rows: list[PlannedRow], compare: Callable[[Program, list[PlannedRow]], None]) -> None:
    for start in range(0, len(rows), LOOKUP_BATCH):
        compare(program, rows[start : start + LOOKUP_BATCH])


def _enrollments_by_email(program: Program, rows: Iterable[PlannedRow], lock: bool) -> dict[str, Enrollment]:
    """Each student's enrollment in the program, in two queries: the current one, else the most recent."""
    emails = {row.email for row in rows if row.email}
    chosen: dict[str, Enrollment] = {}
    # One object a cohort, not one a row: a file of 10,000 rows names a handful of cohorts.
    cohorts = {cohort.pk: cohort for cohort in Cohort.objects.filter(program=program)}
    for cohort in cohorts.values():
        cohort.program = program
    enrollments = (
        Enrollment.objects.filter(cohort__program=program, student__email__in=bulk.one_array(emails, "text"))
        .select_related("student")
        .only(*ENROLLMENT_FIELDS)
        .order_by("student_id", "admitted_on", "pk")
    )
    if lock:  # in the same query: the rows planned stay as read until the import commits
        enrollments = enrollments.select_for_update(of=("self",))
    for enrollment in enrollments:  # oldest admission first, so a later one replaces an earlier one
        enrollment.cohort = cohorts[enrollment.cohort_id]
        held = chosen.get(enrollment.student.email)
        if held is None or not _is_current(held) or _is_current(enrollment):
            chosen[enrollment.student.email] = enrollment
    return chosen


def _is_current(enrollment: Enrollment) -> bool:
    return enrollment.withdrawn_on is None and enrollment.graduated_on is None


def _find_enrollment(program: Program, row: PlannedRow, enrollments: dict[str, Enrollment]) -> bool:
    row.enrollment = enrollments.get(row.email)
    if row.enrollment is not None:
        row.student_name, row.cohort_code = row.enrollment.student.sortable_name, row.enrollment.cohort.code
    else:
        row.errors.append(
            RowError(
                row.line,
                "email",
                _("no student with this email in %(program)s") % {"program": program.code},
            )
        )
    return row.enrollment is not None


# Each student's sittings on record by (enrollment, track), then by day: what the retake rules read.
Sittings = dict[tuple[int, int], dict[date, ExamAttempt]]


def _compare_exam_results(program: Program, rows: list[PlannedRow], sittings: Sittings, lock: bool) -> None:
    """Three queries a batch: the students' enrollments and cohorts, and their sittings on record (kept
    in `sittings`)."""
    checked = [row for row in rows if not row.errors]
    enrollments = _enrollments_by_email(program, checked, lock)
    for attempt in ExamAttempt.objects.filter(
        enrollment__in=bulk.one_array([enrollment.pk for enrollment in enrollments.values()]), taken_on__isnull=False
    ):
        assert attempt.taken_on is not None  # filtered above
        sittings.setdefault((attempt.enrollment_id, attempt.track_id), {})[attempt.taken_on] = attempt
    for row in checked:
        if not _find_enrollment(program, row, enrollments):
            continue
        assert row.enrollment is not None and row.track is not None  # found above, and checked by clean_exam_row
        taken_on = row.values["taken_on"]
        if taken_on < row.enrollment.admitted_on:
            # Not a rule of booking but a fact: nobody sits an exam as our student before admission.
            row.errors.append(
                RowError(
                    row.line,
                    "taken_on",
                    _("is before the student was admitted (%(day)s)") % {"day": row.enrollment.admitted_on.isoformat()},
                )
            )
            continue
        existing = sittings.get((row.enrollment.pk, row.track.pk), {}).get(taken_on)
        row.attempt = existing
        # Without a score column a sitting on record keeps its score; the service receives it.
        row.values.setdefault("score", existing.score if existing else None)
        if existing is None:
            row.action = NEW
            continue
        for name in ("result", "score"):
            if row.values[name] != getattr(existing, name):
                row.changes[name] = (getattr(existing, name), row.values[name])
        row.action = CHANGE if row.changes else UNCHANGED


def _warn_of_booking_rules(rows: list[PlannedRow], sittings: Sittings) -> None:
    """Flag each new or corrected sitting that a booking rule would have refused on its day.

    A result is history: the awarding body says it happened, so the retake wait and the attempt
    limit, which govern booking, never refuse it. What they would have said is judged against every
    earlier sitting, on record or in the file (a row of the file replaces the sitting on record for
    its day). Costs no query."""
    results: dict[tuple[int, int], dict[date, str]] = {
        key: {day: attempt.result for day, attempt in by_day.items()} for key, by_day in sittings.items()
    }
    written = [row for row in rows if row.action in (NEW, CHANGE, UNCHANGED) and not row.errors]
    for row in written:
        assert row.enrollment is not None and row.track is not None  # a planned row without errors has both
        results.setdefault((row.enrollment.pk, row.track.pk), {})[row.values["taken_on"]] = row.values["result"]
    for row in written:
        if row.action == UNCHANGED:
            continue
        assert row.enrollment is not None and row.track is not None
        taken_on: date = row.values["taken_on"]
        earlier = [
            ExamAttempt(taken_on=day, result=result)
            for day, result in results[(row.enrollment.pk, row.track.pk)].items()
            if day < taken_on
        ]
        if not earlier:  # a first sitting: no retake rule applies
            continue
        if reason := row.track.retake_refusal(earlier, taken_on)[0]:
            row.warnings.append(
                RowError(
                    row.line,
                    "taken_on",
                    _(
                        "recorded as it happened, though the retake rules would have refused a booking that day: "
                        "%(reason)s"
                    )
                    % {"reason": reason},
                )
            )


def _warn_of_eligibility_rules(rows: list[PlannedRow]) -> None:
    """Flag each new or corrected sitting that the eligibility checklist would have refused on its day:
    taken after the student withdrew, before the track's window before completing the program opened,
    or after the school route closed following graduation.

    The checklist's own items judge the day (`eligibility.completion_item`, `graduate_window_item`), so
    a warning says in the rule's words what a booking would have been told. They are judged as the
    student stood that day: a withdrawal after the sitting had not happened yet. The practicum and
    competency items are not judged: they read what is recorded now, not what stood on the day.
    Costs no query: the enrollments, cohorts and tracks are loaded already."""
    for row in rows:
        if row.action not in (NEW, CHANGE) or row.errors:
            continue
        assert row.enrollment is not None and row.track is not None  # a planned row without errors has both
        taken_on: date = row.values["taken_on"]
        enrollment = row.enrollment
        if enrollment.withdrawn_on is not None and enrollment.withdrawn_on >= taken_on:
            enrollment = copy.copy(enrollment)
            enrollment.withdrawn_on = None
        items = [eligibility.completion_item(enrollment, row.track, taken_on)]
        if window := eligibility.graduate_window_item(enrollment, row.track, taken_on):
            items.append(window)
        for item in items:
            if not item.met:
                row.warnings.append(
                    RowError(
                        row.line,
                        "taken_on",
                        _(
                            "recorded as it happened, though the eligibility rules would have refused a booking "
                            "that day: %(reason)s"
                        )
                        % {"reason": item.sentence},
                    )
                )


def _compare_graduate_outcomes(program: Program, rows: list[PlannedRow], lock: bool) -> None:
    """Three queries a batch: the students' enrollments and cohorts, and their job placements on record."""
    checked = [row for row in rows if not row.errors]
    enrollments = _enrollments_by_email(program, checked, lock)
    placements = {
        placement.enrollment_id: placement
        for placement in JobPlacement.objects.filter(
            enrollment__in=bulk.one_array([enrollment.pk for enrollment in enrollments.values()])
        )
    }
    for row in checked:
        if not _find_enrollment(program, row, enrollments):
            continue
        enrollment = row.enrollment
        assert enrollment is not None
        if enrollment.graduated_on is None:
            row.errors.append(
                RowError(
                    row.line,
                    "email",
                    _("is not a graduate: the enrollment in cohort %(cohort)s has no graduation date")
                    % {"cohort": enrollment.cohort.code},
                )
            )
            continue
        employed_on = row.values.get("employed_on")
        if employed_on and employed_on < enrollment.admitted_on:
            row.errors.append(
                RowError(
                    row.line,
                    "employed_on",
                    _("is before the student was admitted (%(day)s)") % {"day": enrollment.admitted_on.isoformat()},
                )
            )
            continue
        existing = row.placement = placements.get(enrollment.pk)
        stored = {
            name: getattr(existing, name) if existing else (None if name == "employed_on" else "")
            for name in PLACEMENT_FIELDS
        }
        # A column the file leaves out keeps what is stored; the service receives every field.
        row.values = {**stored, **row.values}
        if row.values["status"] == PlacementStatus.UNAVAILABLE and not row.values["unavailable_reason"]:
            row.errors.append(RowError(row.line, "unavailable_reason", _("is required when the status is unavailable")))
            continue
        if existing is None:
            row.action = NEW
            continue
        for name in PLACEMENT_FIELDS:
            if row.values[name] != stored[name]:
                row.changes[name] = (stored[name], row.values[name])
        row.action = CHANGE if row.changes else UNCHANGED


# --- Applying -----------------------------------------------------------------------------


@transaction.atomic
def apply_import(*, kind: str, program: Program, content: bytes, file_name: str, by: User | None) -> ImportPlan:
    """Write a file's new and changed rows through the services; with any row error nothing is written.

    Raises ImportRefused (a ValidationError) with the plan when a row has errors, whether planning found
    them or a service refused the row, and ImportFileError when the file cannot be read."""
    plan = plan_import(kind=kind, program=program, content=content, file_name=file_name, lock=True)
    _write_plan(plan, by)
    return plan


def _write_plan(plan: ImportPlan, by: User | None) -> None:
    """Write every new and changed row; raise ImportRefused, for the caller's transaction to undo
    every row written before, when a row has errors.

    The rows are written in bulk, a fixed number of statements a batch, by the same rules the
    services apply one row at a time. Should the database refuse a batch (a record changed since
    planning by a writer that does not lock the student), it is undone and every row goes through
    the services one at a time, which judge each against the records as they are and name the row."""
    if plan.errors:
        raise ImportRefused(plan)
    rows = [row for row in plan.rows if row.action in (NEW, CHANGE)]
    write_batch = _write_exam_results if plan.kind == ResultImport.Kind.EXAM_RESULTS else _write_job_placements
    try:
        with transaction.atomic():
            for start in range(0, len(rows), WRITE_BATCH):
                batch = rows[start : start + WRITE_BATCH]
                if not plan.locked:
                    _lock_students(batch)
                write_batch(batch, by)
    except IntegrityError:
        _write_one_by_one(plan, rows, by)
    if plan.errors:
        raise ImportRefused(plan)


def _lock_students(rows: list[PlannedRow]) -> None:
    """Serialize with the services, which lock the student's enrollment before writing. One query."""
    ids = sorted({row.enrollment.pk for row in rows if row.enrollment is not None})
    list(Enrollment.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))


def _write_exam_results(rows: list[PlannedRow], by: User | None) -> None:
    """services.record_exam_result for a batch of rows at once: the same sitting of a day is corrected,
    a booking of the track is filled in, a pass issues the credential (expiry from the track's cycle)
    and a correction from pass withdraws it. The same statements whatever the batch's size."""
    now = timezone.now()
    pass_, source = ExamAttempt.Result.PASS, ExamAttempt.Source.IMPORT
    new_rows = [row for row in rows if row.attempt is None]
    bookings: dict[tuple[int, int], ExamAttempt] = {}
    if new_rows:
        for booking in ExamAttempt.objects.filter(
            enrollment__in=bulk.one_array({row.enrollment.pk for row in new_rows if row.enrollment is not None}),
            result="",
        ):
            bookings.setdefault((booking.enrollment_id, booking.track_id), booking)
    corrected = [row.attempt for row in rows if row.attempt is not None]
    were_passes = [attempt.pk for attempt in corrected if attempt.result == pass_]
    credentialed = set(
        Credential.objects.filter(exam_attempt__in=were_passes).values_list("exam_attempt_id", flat=True)
        if were_passes
        else []
    )
    filled: list[ExamAttempt] = []
    created: list[ExamAttempt] = []
    passed: list[tuple[ExamAttempt, CertificationTrack]] = []
    withdrawn: list[int] = []
    by_id = by.pk if by else None
    # Keys, not objects, go into the new rows: a related object set costs more than the row's values.
    for row in rows:
        assert row.enrollment is not None and row.track is not None  # a planned row without errors has both
        result = row.values["result"]
        attempt = row.attempt
        has_credential = attempt is not None and attempt.pk in credentialed
        if attempt is None:
            attempt = bookings.pop((row.enrollment.pk, row.track.pk), None)
            if attempt is None:
                attempt = ExamAttempt(enrollment_id=row.enrollment.pk, track_id=row.track.pk, created_by_id=by_id)
                created.append(attempt)
            else:
                filled.append(attempt)
            attempt.taken_on = row.values["taken_on"]
        attempt.result, attempt.score, attempt.source = result, row.values["score"], source
        attempt.recorded_by_id, attempt.recorded_at = by_id, now
        if result == pass_ and not has_credential:
            passed.append((attempt, row.track))
        elif result != pass_ and has_credential:
            withdrawn.append(attempt.pk)  # corrected from a pass: the credential it issued is withdrawn
    recorded = ["result", "score", "source", "recorded_by", "recorded_at"]
    if withdrawn:
        Credential.objects.filter(exam_attempt__in=withdrawn).delete()
    if corrected:
        bulk.update_from_values(corrected, recorded)
    if filled:
        bulk.update_from_values(filled, ["taken_on", *recorded])
    if created:
        bulk.insert_from_arrays(created, now)
    if passed:
        bulk.insert_from_arrays([_credential(attempt, track) for attempt, track in passed], now)


def _credential(attempt: ExamAttempt, track: CertificationTrack) -> Credential:
    """What services._issue_credential issues for a pass: from the day of the sitting, lapsing at the
    end of the track's recertification cycle."""
    assert attempt.taken_on is not None  # a pass has a date
    return Credential(
        enrollment_id=attempt.enrollment_id,
        track_id=track.pk,
        exam_attempt_id=attempt.pk,
        issued_on=attempt.taken_on,
        expires_on=track.expiry_for(attempt.taken_on),
    )


def _write_job_placements(rows: list[PlannedRow], by: User | None) -> None:
    """services.record_job_placement for a batch of rows at once: an insert and an update at most."""
    by_id = by.pk if by else None
    now = timezone.now()
    created: list[JobPlacement] = []
    changed: list[JobPlacement] = []
    for row in rows:
        assert row.enrollment is not None  # a planned row without errors has it
        values = {name: row.values[name] for name in PLACEMENT_FIELDS}
        for name in ("employer", "position", "unavailable_reason"):
            values[name] = values[name].strip()
        if row.placement is None:
            created.append(
                JobPlacement(enrollment_id=row.enrollment.pk, recorded_by_id=by_id, recorded_at=now, **values)
            )
            continue
        for name, value in values.items():
            setattr(row.placement, name, value)
        row.placement.recorded_by_id, row.placement.recorded_at = by_id, now
        changed.append(row.placement)
    if changed:
        bulk.update_from_values(changed, [*PLACEMENT_FIELDS, "recorded_by", "recorded_at"])
    if created:
        bulk.insert_from_arrays(created, now)


def _write_one_by_one(plan: ImportPlan, rows: list[PlannedRow], by: User | None) -> None:
    """Every row through its service, each in its own savepoint, its refusal a row error."""
    write = _write_exam_result if plan.kind == ResultImport.Kind.EXAM_RESULTS else _write_job_placement
    for row in rows:
        try:
            with transaction.atomic():
                write(row, by)
        except ValidationError as refusal:
            row.errors.extend(_row_errors(row.line, refusal))
        except IntegrityError:
            row.errors.append(
                RowError(row.line, _("row"), _("this student's record changed meanwhile; check the file again"))
            )
        if row.errors:
            row.action = ERROR


def _write_exam_result(row: PlannedRow, by: User | None) -> None:
    assert row.enrollment is not None and row.track is not None  # a planned row without errors has both
    services.record_exam_result(
        enrollment=row.enrollment,
        track=row.track,
        taken_on=row.values["taken_on"],
        result=row.values["result"],
        score=row.values["score"],
        by=by,
        source=ExamAttempt.Source.IMPORT,
    )


def _write_job_placement(row: PlannedRow, by: User | None) -> None:
    assert row.enrollment is not None  # a planned row without errors has it
    services.record_job_placement(
        enrollment=row.enrollment, by=by, **{name: row.values[name] for name in PLACEMENT_FIELDS}
    )


# A service names the model's field; the file names its column.
SERVICE_FIELD_COLUMNS = {"track": "credential", "__all__": "row"}


def _row_errors(line: int, refusal: ValidationError) -> list[RowError]:
    if hasattr(refusal, "error_dict"):
        return [
            RowError(line, SERVICE_FIELD_COLUMNS.get(name, name), message)
            for name, errors in refusal.error_dict.items()
            for error in errors
            for message in error.messages
        ]
    return [RowError(line, _("row"), message) for message in refusal.messages]


# --- Uploads kept for their preview -------------------------------------------------------


@transaction.atomic
def preview_result_import(
    *, program: Program, kind: str, uploaded_by: User, file_name: str, content: bytes
) -> tuple[ResultImport, ImportPlan]:
    """Read the uploaded file once and keep it with its rows and plan: no result or outcome is written yet.

    Raises ImportFileError, and keeps nothing, when the file cannot be read."""
    rows = list(read_rows(kind=kind, content=content, file_name=file_name))
    plan = plan_rows(kind=kind, program=program, rows=rows)
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
    # Previews nobody applied in time are never applied; their rows only take space.
    ResultImport.objects.filter(program=program, plan__isnull=False, created_at__lt=cutoff).update(rows=None, plan=None)
    upload = ResultImport.objects.create(
        program=program,
        kind=kind,
        uploaded_by=uploaded_by,
        file_name=file_name,
        content=content,
        summary=plan.summary,
        rows=[row.as_json() for row in rows],
        plan=plan.as_json(),
    )
    return upload, plan


def apply_result_import(*, upload: ResultImport, applied_by: User, progress: flow.Progress | None = None) -> ImportPlan:
    """Apply a previewed upload once, exactly as previewed, or raise PreviewChanged with a new preview.

    The stored rows are planned again against the records as they are now; if that plan differs from
    the one previewed, nothing is written and the new plan is stored for the person to check. The
    upload's state commits with the records; `progress` hears of none written, then all."""
    with transaction.atomic():
        upload = ResultImport.objects.select_for_update().select_related("program").defer("content").get(pk=upload.pk)
        if upload.applied_at:
            raise ValidationError(_("This file was imported already."))
        if not upload.preview_is_current():
            raise ValidationError(spreadsheets.preview_expired_message())
        assert upload.rows is not None  # kept with every current preview
        plan = plan_rows(
            kind=upload.kind,
            program=upload.program,
            rows=[SheetRow.from_json(row) for row in upload.rows],
            lock=True,
        )
        planned = plan.as_json()
        if planned == upload.plan:
            total = sum(1 for row in plan.rows if row.action in (NEW, CHANGE))
            if progress:
                progress(0, total)
            _write_plan(plan, applied_by)
            if progress:
                progress(total, total)
            upload.applied_at = timezone.now()
            upload.summary = plan.summary
            upload.rows = upload.plan = None  # applied: the summary says what happened
            marked = flow.mark_applied(upload)
            upload.save(update_fields=["applied_at", "summary", "rows", "plan", *marked])
            return plan
        changed = spreadsheets.rows_changed(upload.plan, planned)
        upload.plan, upload.summary = planned, plan.summary
        marked = flow.mark_preview_changed(upload, changed)
        upload.save(update_fields=["plan", "summary", *marked])
    # Raised once the new preview is committed: the refusal must not undo it.
    raise spreadsheets.PreviewChanged(changed)
