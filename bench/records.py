"""Record chains: `manage.py verify_records` over 100,000 chained rows, and the cost of one append.

verify: 1,000 students with 100 access-log rows each, linked as the app links them (in bulk here),
then `verify_records` end to end. Target: at least 20,000 rows a second, on one core.

append: one access-log row written through `AccessLog.record` (lock the student's chain head, link,
insert, move the head, commit), 500 times over 50 students, beside the plain insert and commit it
replaced. Reported per row.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts import chains
from accounts.models import AccessLog, User
from bench import Figure, Run, median, register, spread

DOMAIN = "records.bench.checkoff.test"
STUDENTS = 1_000
ROWS_PER_STUDENT = 100
APPENDS = 500


def _people(prefix: str, count: int) -> list[User]:
    return User.objects.bulk_create([User(email=f"{prefix}{number}@{DOMAIN}") for number in range(count)])


def _fill(students: list[User], actor: User) -> None:
    """Every student's chain, linked by the app's own code and written in bulk, 50 students at a time."""
    start = timezone.now() - timedelta(days=365)
    for first in range(0, len(students), 50):
        rows = [
            AccessLog(
                actor=actor,
                student=student,
                action=AccessLog.Action.VIEW,
                target=f"competency progress, row {number}",
                at=start + timedelta(minutes=number),
                ip_address="10.0.0.7",
                user_agent="Bench",
            )
            for student in students[first : first + 50]
            for number in range(ROWS_PER_STUDENT)
        ]
        with transaction.atomic():
            chains.link(rows)
            AccessLog.objects.bulk_create(rows, batch_size=5_000)


@register("records", "verify_records over 100,000 chained rows; one chained append")
def records(run: Run) -> list[Figure]:
    [actor] = _people("director", 1)
    students = _people("student", STUDENTS)
    _fill(students, actor)
    rates: list[float] = []
    rows_checked = 0
    for _ in range(run.repetitions):
        out = StringIO()
        started = time.perf_counter()
        call_command("verify_records", stdout=out)
        elapsed = time.perf_counter() - started
        match = re.search(r"(\d+) chains, (\d+) rows checked", out.getvalue())
        assert match, out.getvalue()
        rows_checked = int(match.group(2))
        rates.append(rows_checked / elapsed)
    appenders = _people("appending", 50)
    costs: list[float] = []
    for _ in range(run.repetitions):
        started = time.perf_counter()
        for number in range(APPENDS):
            AccessLog.record(actor_id=actor.pk, student_id=appenders[number % 50].pk, action=AccessLog.Action.VIEW)
        costs.append((time.perf_counter() - started) * 1000 / APPENDS)
    # The same row as a plain insert, each its own commit as above: what an append cost before chains
    # (written after the verify runs, so its unlinked rows break nothing measured).
    plain: list[float] = []
    [baseline] = _people("baseline", 1)
    for repetition in range(run.repetitions):
        started = time.perf_counter()
        for number in range(APPENDS):
            AccessLog.objects.create(
                actor=actor,
                student=baseline,
                action=AccessLog.Action.VIEW,
                chain_position=repetition * APPENDS + number + 1,
                chain_digest="unlinked",
            )
        plain.append((time.perf_counter() - started) * 1000 / APPENDS)
    return [
        Figure(
            f"verify_records, {rows_checked:,} chained rows",
            median(rates),
            "rows/s",
            (">=", 20_000),
            spread(rates),
        ),
        Figure("AccessLog.record, chained", median(costs), "ms a row", note=spread(costs, decimals=2)),
        Figure("the same row, plain insert", median(plain), "ms a row", note=spread(plain, decimals=2)),
    ]
