"""Exam results and graduate outcomes imports, end to end: read a 10,000-row CSV, plan it, write it.

Targets: exam results at least 5,000 rows a second, graduate outcomes at least 10,000, and the same
statements for every batch of rows whatever its size (a fixed query count per batch)."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta
from itertools import count
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from bench import Figure, Run, median, register, spread
from certifications import imports
from certifications.models import CertificationTrack, Credential, ExamAttempt, JobPlacement, ResultImport
from curriculum.models import Accreditor, Cohort, Enrollment, Program, StaffRole

ROWS = 10_000
TARGET_EXAM_ROWS_PER_SECOND = 5_000
TARGET_OUTCOME_ROWS_PER_SECOND = 10_000
WARM_UP_ROWS = 200
DOMAIN = "bench.checkoff.test"
EXAM = ResultImport.Kind.EXAM_RESULTS
OUTCOMES = ResultImport.Kind.GRADUATE_OUTCOMES
STATUSES = ("in_field", "related_field", "not_employed", "continuing_education", "unavailable")
_programs = count(1)


def _program() -> tuple[Program, Cohort, User]:
    """A program with one cohort that started two years ago and graduated a year ago."""
    number = next(_programs)
    program = Program.objects.create(
        code=f"BENCH-RESULTS-{number}", name=f"Bench results program {number}", accreditor=Accreditor.CAAHEP
    )
    today = program.today()
    cohort = Cohort.objects.create(
        program=program,
        code="2024-1",
        name="Cohort 2024",
        start_on=today - timedelta(days=730),
        expected_graduation_on=today - timedelta(days=400),
    )
    director = User.objects.create_user(f"results-director{number}@{DOMAIN}", first_name="Dana", last_name="Director")
    StaffRole.objects.create(program=program, user=director, role=StaffRole.Role.DIRECTOR)
    return program, cohort, director


def _students(cohort: Cohort, rows: int, tag: str) -> list[Enrollment]:
    """Graduates with fresh emails, made in bulk: the import finds them, it does not make them."""
    people = User.objects.bulk_create(
        [User(email=f"{tag}-{number}@{DOMAIN}", password="!", first_name="Grad") for number in range(rows)]
    )
    return Enrollment.objects.bulk_create(
        [
            Enrollment(
                student=person,
                cohort=cohort,
                admitted_on=cohort.start_on,
                graduated_on=cohort.expected_graduation_on,
            )
            for person in people
        ]
    )


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else str(row[column]) for column in columns])
    return out.getvalue().encode()


def _exam_file(program: Program, enrollments: list[Enrollment]) -> bytes:
    """One sitting a student, a year ago: four in five pass, every one with a score."""
    day = program.today() - timedelta(days=365)
    rows = [
        {
            "email": enrollment.student.email,
            "credential": ("CMA", "RMA", "CCMA")[number % 3],
            "taken_on": day + timedelta(days=number % 30),
            "result": "fail" if number % 5 == 4 else "pass",
            "score": 380 + number % 200,
        }
        for number, enrollment in enumerate(enrollments)
    ]
    return _csv(imports.EXAM_RESULTS_FORMAT.columns, rows)


def _outcome_file(enrollments: list[Enrollment]) -> bytes:
    rows = []
    for number, enrollment in enumerate(enrollments):
        status = STATUSES[number % len(STATUSES)]
        employed = status in ("in_field", "related_field")
        rows.append(
            {
                "email": enrollment.student.email,
                "status": status,
                "employed_on": (enrollment.graduated_on or date.today()) + timedelta(days=30) if employed else None,
                "employer": "Lakeside Family Medicine" if employed else "",
                "position": "Medical assistant" if employed else "",
                "unavailable_reason": "Military deployment" if status == "unavailable" else "",
            }
        )
    return _csv(imports.GRADUATE_OUTCOMES_FORMAT.columns, rows)


def _mixed_exam_file(program: Program, enrollments: list[Enrollment]) -> bytes:
    """Halves of new sittings and corrections (fail to pass, pass to fail), a quarter of them filling
    a booking, so each batch issues every statement."""
    day = program.today() - timedelta(days=365)
    cma = CertificationTrack.objects.get(program=program, code="CMA")
    on_record, booked = [], []
    rows = []
    for number, enrollment in enumerate(enrollments):
        kind = number % 4
        if kind == 1:
            on_record.append(ExamAttempt(enrollment=enrollment, track=cma, taken_on=day, result="fail"))
        elif kind == 2:
            on_record.append(ExamAttempt(enrollment=enrollment, track=cma, taken_on=day, result="pass"))
        elif kind == 3:
            booked.append(ExamAttempt(enrollment=enrollment, track=cma, scheduled_on=day))
        result = "fail" if kind == 2 else "pass"
        rows.append({"email": enrollment.student.email, "credential": "CMA", "taken_on": day, "result": result})
    attempts = ExamAttempt.objects.bulk_create(on_record + booked)
    Credential.objects.bulk_create(
        [
            Credential(enrollment=attempt.enrollment, track=cma, exam_attempt=attempt, issued_on=day, expires_on=None)
            for attempt in attempts
            if attempt.result == "pass"
        ]
    )
    return _csv(("email", "credential", "taken_on", "result"), rows)


def _mixed_outcome_file(enrollments: list[Enrollment]) -> bytes:
    """Halves of new outcomes and changed ones."""
    JobPlacement.objects.bulk_create(
        [
            JobPlacement(enrollment=enrollment, status="unavailable", unavailable_reason="Moved away")
            for number, enrollment in enumerate(enrollments)
            if number % 2
        ]
    )
    return _outcome_file(enrollments)


def _apply(program: Program, kind: str, content: bytes, director: User) -> tuple[float, imports.ImportPlan]:
    """The import as the command runs it: read, plan and write in one transaction."""
    started = time.perf_counter()
    plan = imports.apply_import(kind=kind, program=program, content=content, file_name="file.csv", by=director)
    return time.perf_counter() - started, plan


def _queries(program: Program, kind: str, content: bytes, director: User) -> tuple[int, imports.ImportPlan]:
    with CaptureQueriesContext(connection) as queries:
        _seconds, plan = _apply(program, kind, content, director)
    return len(queries), plan


def _timed(run: Run, kind: str, make_file: Any) -> tuple[list[float], imports.ImportPlan]:
    program, cohort, director = _program()
    warm = _students(cohort, WARM_UP_ROWS, f"{kind}-warm")
    _apply(program, kind, make_file(program, warm), director)  # imports, the ORM's caches. Not measured.
    seconds: list[float] = []
    plan = None
    for repetition in range(run.repetitions):
        enrollments = _students(cohort, ROWS, f"{kind}-run{repetition}")  # fresh students each run
        content = make_file(program, enrollments)
        elapsed, plan = _apply(program, kind, content, director)
        assert plan.summary["new"] == ROWS, plan.summary
        seconds.append(elapsed)
    assert plan is not None
    return seconds, plan


def _query_figures(kind: str, make_file: Any) -> list[Figure]:
    """The same statements for every batch of rows, whatever its size: a file of one batch costs as
    many queries at 1x as at 5x the rows, and each further batch adds the same number."""
    batch = min(imports.LOOKUP_BATCH, imports.WRITE_BATCH)
    program, cohort, director = _program()
    counts = []
    for size, tag in ((batch // 5, "1x"), (batch, "5x"), (5 * batch, "25x")):
        enrollments = _students(cohort, size, f"{kind}-queries-{tag}")
        spent, plan = _queries(program, kind, make_file(program, enrollments), director)
        assert plan.errors == [] and plan.summary["new"] + plan.summary["changed"] == size, plan.summary
        counts.append(spent)
    small, one, five = counts
    per_batch = (five - one) / 4
    return [
        Figure(f"{kind}: queries, {batch // 5:,} rows in 1 batch (1x)", small, "queries"),
        Figure(
            f"{kind}: queries, {batch:,} rows in 1 batch (5x)",
            one,
            "queries",
            target=("==", small),
            note="per batch, not per row",
        ),
        Figure(
            f"{kind}: queries each further batch of {batch:,} rows",
            per_batch,
            "queries",
            note=f"{five} in all for {5 * batch:,} rows; {one - per_batch:g} outside the batches",
        ),
    ]


@register("imports", "exam results and graduate outcomes imports of 10,000-row CSVs, end to end")
def result_imports(run: Run) -> list[Figure]:
    exam_seconds, exam_plan = _timed(run, EXAM, _exam_file)
    assert Credential.objects.filter(exam_attempt__source=ExamAttempt.Source.IMPORT).exists()
    outcome_seconds, _outcome_plan = _timed(run, OUTCOMES, lambda program, enrollments: _outcome_file(enrollments))
    exam_rates = [ROWS / elapsed for elapsed in exam_seconds]
    outcome_rates = [ROWS / elapsed for elapsed in outcome_seconds]
    run.notes += [
        f"Each timed run imports {ROWS:,} rows for fresh graduates, after a {WARM_UP_ROWS}-row warm-up; the clock "
        "covers apply_import() from the file's bytes to the commit (read, check, plan, write).",
        "Exam rows: one sitting a student, 4 in 5 passes (each issues a credential), every row with a score. "
        "Query files mix new sittings, corrections both ways and filled bookings; outcome query files "
        "mix new and changed outcomes.",
        f"Warnings in the last exam run: {len(exam_plan.warnings)}.",
    ]
    return [
        Figure(
            f"exam results: import {ROWS:,} rows",
            median(exam_rates),
            "rows/s",
            target=(">=", TARGET_EXAM_ROWS_PER_SECOND),
            note=spread(exam_rates),
        ),
        Figure(f"exam results: import {ROWS:,} rows, time", median(exam_seconds), "s"),
        Figure(
            f"graduate outcomes: import {ROWS:,} rows",
            median(outcome_rates),
            "rows/s",
            target=(">=", TARGET_OUTCOME_ROWS_PER_SECOND),
            note=spread(outcome_rates),
        ),
        Figure(f"graduate outcomes: import {ROWS:,} rows, time", median(outcome_seconds), "s"),
        *_query_figures(EXAM, _mixed_exam_file),
        *_query_figures(OUTCOMES, lambda program, enrollments: _mixed_outcome_file(enrollments)),
    ]
