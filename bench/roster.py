"""Roster import, end to end: read a 10,000-row CSV, plan it, write students and enrollments, create
the invitations of the current students and queue them after commit. Target: at least 15,000 rows a second."""

from __future__ import annotations

import csv
import io
import math
import time
from datetime import date, timedelta
from itertools import count
from typing import Any

from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from accounts import services as account_services
from accounts.models import Invitation, User
from bench import Figure, Run, median, register, spread
from config.celery import app as celery_app
from curriculum import roster, services
from curriculum.models import Accreditor, Cohort, Enrollment, Program, StaffRole

ROWS = 10_000
TARGET_ROWS_PER_SECOND = 15_000
WARM_UP_ROWS = 200
DOMAIN = "bench.checkoff.test"
FIRST_NAMES = ("Ana", "Luis", "María", "José", "Grace", "Tom", "Priya", "Kwame", "Mei", "Olu", "Sofía", "Ivan")
LAST_NAMES = ("García", "Smith", "Nguyen", "Okafor", "Kowalski", "Hernández", "Brown", "Chen", "Silva", "Khan")
_programs = count(1)


def _program() -> tuple[Program, list[Cohort], User]:
    number = next(_programs)
    program = Program.objects.create(
        code=f"BENCH-{number}", name=f"Bench program {number}", accreditor=Accreditor.CAAHEP
    )
    start = date(2026, 1, 12)
    cohorts = [
        Cohort.objects.create(
            program=program,
            code=f"2026-{index}",
            name=f"Cohort {index}",
            start_on=start + timedelta(days=91 * index),
            expected_graduation_on=start + timedelta(days=91 * index + 300),
        )
        for index in range(4)
    ]
    director = User.objects.create_user(f"director{number}@{DOMAIN}", first_name="Dana", last_name="Director")
    StaffRole.objects.create(program=program, user=director, role=StaffRole.Role.DIRECTOR)
    return program, cohorts, director


def _rows(cohorts: list[Cohort], rows: int, tag: str) -> list[dict[str, Any]]:
    """Plausible students: every column used, some withdrawn, some graduated, some in Spanish."""
    made = []
    for number in range(rows):
        cohort = cohorts[number % len(cohorts)]
        admitted = cohort.start_on + timedelta(days=number % 14)
        made.append(
            {
                "email": f"{tag}-{number}@{DOMAIN}",
                "first_name": FIRST_NAMES[number % len(FIRST_NAMES)],
                "last_name": LAST_NAMES[number % len(LAST_NAMES)],
                "cohort": cohort.code,
                "admitted_on": admitted,
                "student_number": f"{tag}-{number:06d}",
                "preferred_language": "es" if number % 3 == 0 else "",
                "trigger_course_completed_on": admitted + timedelta(days=60) if number % 2 == 0 else None,
                "withdrawn_on": admitted + timedelta(days=30) if number % 10 == 1 else None,
                "graduated_on": admitted + timedelta(days=300) if number % 15 == 2 else None,
            }
        )
    return made


def _csv(rows: list[dict[str, Any]]) -> bytes:
    columns = [*roster.REQUIRED_COLUMNS, *roster.OPTIONAL_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else str(row[column]) for column in columns])
    return out.getvalue().encode()


def _xlsx(rows: list[dict[str, Any]]) -> bytes:
    """The same rows as a workbook, with real dates as a spreadsheet program saves them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    columns = [*roster.REQUIRED_COLUMNS, *roster.OPTIONAL_COLUMNS]
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _apply(
    program: Program, content: bytes, director: User, file_name: str = "roster.csv"
) -> tuple[float, roster.RosterPlan]:
    """The import as the apply button runs it: one transaction, invitations queued on commit."""
    started = time.perf_counter()
    plan = services.apply_roster(
        program=program, content=content, file_name=file_name, imported_by=director, invite=True
    )
    return time.perf_counter() - started, plan


def _purge_queued_tasks() -> int:
    """Drop what the imports queued in the bench's private broker database; return how many."""
    with celery_app.connection_for_write() as broker:
        channel = broker.channel()
        try:
            return sum(channel.queue_purge(queue) or 0 for queue in ("mail", "celery"))
        finally:
            channel.close()


def _check_import(plan: roster.RosterPlan, tag: str, rows: int) -> None:
    """What was measured really happened: people, enrollments, invitations and queued tasks."""
    assert plan.summary["new_students"] == rows, plan.summary
    emails = f"{tag}-"
    assert User.objects.filter(email__startswith=emails).count() == rows
    assert Enrollment.objects.filter(student__email__startswith=emails).count() == rows
    # Only current students are invited: the withdrawn and the graduated have no use for an account.
    current = [row for row in plan.rows if row.is_current]
    assert Invitation.objects.filter(user__email__startswith=emails, sent_at=None).count() == len(current)
    queued = _purge_queued_tasks()
    expected = _invitation_tasks(len(current))
    assert queued == expected, f"{queued} tasks queued, expected {expected}"


def _invitation_tasks(current: int) -> int:
    """Tasks queued for as many current students: one statement invites them all, in task-sized parts."""
    return math.ceil(current / account_services.INVITATION_BATCH)


def _mixed_file(program: Program, cohorts: list[Cohort], director: User, rows: int, tag: str) -> bytes:
    """Interleaved thirds: new students, people Checkoff knows who are new to the program, and
    enrolled students whose name and withdrawal change, so each batch issues every statement."""
    third = rows // 3
    User.objects.bulk_create(
        [User(email=f"{tag}-known-{number}@{DOMAIN}", password="!", first_name="Known") for number in range(third)]
    )
    enrolled = _rows(cohorts, third, f"{tag}-enrolled")
    for row in enrolled:
        row["graduated_on"] = None
    _apply(program, _csv(enrolled), director)
    _purge_queued_tasks()
    new = _rows(cohorts, rows - 2 * third, f"{tag}-new")
    known = _rows(cohorts, third, f"{tag}-known")
    changed = [
        {**row, "last_name": row["last_name"] + "-Ruiz", "withdrawn_on": row["admitted_on"] + timedelta(days=40)}
        for row in enrolled
    ]
    mixed = [row for group in zip(new, known, changed, strict=False) for row in group]
    mixed += new[len(mixed) // 3 :]
    return _csv(mixed)


def _queries(program: Program, content: bytes, director: User) -> tuple[int, roster.RosterPlan]:
    with CaptureQueriesContext(connection) as queries:
        _seconds, plan = _apply(program, content, director)
    _purge_queued_tasks()
    return len(queries), plan


def _bare_insert_seconds(rows: int, tag: str) -> float:
    """The floor on this machine: one bulk INSERT of as many bare people, for a ratio that travels."""
    people = [User(email=f"{tag}-{number}@{DOMAIN}", password="!") for number in range(rows)]
    started = time.perf_counter()
    with transaction.atomic():
        User.objects.bulk_create(people, batch_size=services.WRITE_BATCH)
    return time.perf_counter() - started


def _database_only_seconds(cohort: Cohort, director: User, rows: int, tag: str) -> float:
    """The database's own share: the rows one import writes (people, enrollments, and for the current
    students their addresses and invitations), made by the server itself from generate_series in one
    transaction, with every index, constraint and foreign-key check the import meets. No file, no
    Python per row: what no client can go below on this machine."""
    quote = connection.ops.quote_name
    people, enrollments, addresses, invitations = (
        quote(model._meta.db_table) for model in (User, Enrollment, EmailAddress, Invitation)
    )
    email = "%(tag)s || '-' || g || '@' || %(domain)s"
    # The same people as _rows(): every tenth withdrawn, every fifteenth graduated, the rest current.
    current = "mod(g, 10) <> 1 AND mod(g, 15) <> 2"
    # Our own table names, quoted, and constant SQL; the values are parameters.
    statements = [
        f"""INSERT INTO {people} (id, email, password, first_name, last_name, preferred_language,
                is_superuser, is_active, is_staff, date_joined)
            SELECT id, {email}, '!' || md5(g::text), 'Ana', 'García', 'es', false, true, false, %(now)s
            FROM keys""",  # noqa: S608
        f"""INSERT INTO {enrollments} (student_id, cohort_id, student_number, admitted_on, created_at)
            SELECT id, %(cohort)s, %(tag)s || '-' || g, %(admitted)s, %(now)s FROM keys""",  # noqa: S608
        f"""INSERT INTO {addresses} (user_id, email, "primary", verified)
            SELECT id, {email}, true, false FROM keys WHERE {current} ON CONFLICT DO NOTHING""",  # noqa: S608
        f"""INSERT INTO {invitations} (user_id, invited_by_id, created_at)
            SELECT id, %(director)s, %(now)s FROM keys WHERE {current}""",  # noqa: S608
    ]
    values = {
        "tag": tag,
        "domain": DOMAIN,
        "cohort": cohort.pk,
        "admitted": cohort.start_on,
        "director": director.pk,
        "now": timezone.now(),
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE keys ON COMMIT DROP AS "
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id, g FROM generate_series(0, %s) AS g",
            [people, rows - 1],
        )
        for statement in statements:
            cursor.execute(statement, values)
    return time.perf_counter() - started


@register("roster", "roster import of a 10,000-row CSV, end to end (parse, plan, write, queue invitations)")
def roster_import(run: Run) -> list[Figure]:
    program, cohorts, director = _program()
    _purge_queued_tasks()

    # Warm up: imports, the ORM's caches, the broker connection. Not measured.
    _warm_seconds, warm_plan = _apply(program, _csv(_rows(cohorts, WARM_UP_ROWS, "warm")), director)
    _check_import(warm_plan, "warm", WARM_UP_ROWS)

    seconds: list[float] = []
    ratios: list[float] = []
    database_only: list[float] = []
    content = b""
    for repetition in range(run.repetitions):
        tag = f"run{repetition}"
        content = _csv(_rows(cohorts, ROWS, tag))  # fresh emails each run
        elapsed, plan = _apply(program, content, director)
        _check_import(plan, tag, ROWS)
        seconds.append(elapsed)
        # Right after each run, so a busy machine slows both sides of the ratio alike.
        ratios.append(elapsed / _bare_insert_seconds(ROWS, f"floor{repetition}"))
        database_only.append(_database_only_seconds(cohorts[0], director, ROWS, f"server{repetition}"))
    rates = [ROWS / elapsed for elapsed in seconds]

    xlsx_seconds: list[float] = []
    for repetition in range(run.repetitions):
        tag = f"xlsx{repetition}"
        elapsed, plan = _apply(program, _xlsx(_rows(cohorts, ROWS, tag)), director, "roster.xlsx")
        _check_import(plan, tag, ROWS)
        xlsx_seconds.append(elapsed)

    again: list[float] = []
    for _repetition in range(run.repetitions):
        elapsed, plan = _apply(program, content, director)
        assert plan.summary["unchanged"] == ROWS, plan.summary
        again.append(elapsed)
    assert _purge_queued_tasks() == 0, "a re-import queued invitations"

    # Queries: a fixed part, then the same statements for every batch whatever its size.
    batch = services.WRITE_BATCH
    query_program, query_cohorts, query_director = _program()
    small, _plan = _queries(
        query_program, _mixed_file(query_program, query_cohorts, query_director, batch // 5, "q1"), query_director
    )
    one, plan_one = _queries(
        query_program, _mixed_file(query_program, query_cohorts, query_director, batch, "q2"), query_director
    )
    five, plan_five = _queries(
        query_program, _mixed_file(query_program, query_cohorts, query_director, 5 * batch, "q3"), query_director
    )
    assert plan_one.summary["updated"] == plan_one.summary["new_enrollments"] == batch // 3, plan_one.summary
    assert plan_five.summary["updated"] == 5 * batch // 3, plan_five.summary

    run.notes += [
        f"Each timed run imports {ROWS:,} new students with fresh emails into one program of 4 cohorts, "
        f"after a {WARM_UP_ROWS}-row warm-up; the clock covers apply_roster() from bytes to commit,",
        "including inviting the current students and queueing their invitation tasks "
        "to the broker (purged afterwards, never sent).",
        "Query files mix thirds of new students, people new to the program, and changed enrollments, "
        "so each batch issues every statement.",
    ]
    return [
        Figure(
            f"import {ROWS:,} new students",
            median(rates),
            "rows/s",
            target=(">=", TARGET_ROWS_PER_SECOND),
            note=spread(rates),
        ),
        Figure(f"import {ROWS:,} new students, time", median(seconds), "s"),
        Figure(
            f"re-import the same {ROWS:,} rows (no change)",
            ROWS / median(again),
            "rows/s",
            note=spread([ROWS / elapsed for elapsed in again]),
        ),
        Figure(
            f"import {ROWS:,} new students from XLSX",
            ROWS / median(xlsx_seconds),
            "rows/s",
            note=spread([ROWS / elapsed for elapsed in xlsx_seconds]),
        ),
        Figure(
            f"the same {ROWS:,} people written by the database alone",
            median(database_only),
            "s",
            note=spread(database_only, decimals=2) + "; rows made by the server: the floor for any client",
        ),
        Figure(
            "CSV import time / a bare bulk INSERT of as many users",
            median(ratios),
            "x",
            note="travels between machines better than rows/s",
        ),
        Figure(f"queries, {batch // 5:,} rows in 1 batch (1x)", small, "queries"),
        Figure(
            f"queries, {batch:,} rows in 1 batch (5x)",
            one,
            "queries",
            target=("==", small),
            note="per batch, not per row",
        ),
        Figure(
            f"queries, {5 * batch:,} rows in 5 batches of {batch:,}",
            five,
            "queries",
            note=f"{five - one} for the 4 further batches; one statement invites the whole file",
        ),
    ]
