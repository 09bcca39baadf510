"""Reminders: planning 10,000 students' exam reminders, and a real worker sending 5,000 to an SMTP server.

planning: a program of 10,000 students, each booked for an exam (bulk-written) so that exactly one
reminder of each is due at the moment planned for (the day before the exam, at the program's 9:00,
one minute ago). `planner.plan(now)` is timed on a fresh outbox (it writes 10,000 rows) and again
with them there (it writes none, but asks the domain apps and compares all the same). Target, as
the issue sets it: at most 1 s of planner time per 10,000 reminders, both ways.

sending: 5,000 due reminders to 5,000 people, claimed by `services.dispatch_due()` (25 tasks of
200 on the mail queue) and sent by a real Celery worker subprocess (`--pool solo`, as the tests
run it) over Django's SMTP backend to a `MailSink` in this process, which notes when each message
arrives. The rate counts from the first reminder at the sink to the last. Target: at least 500 a
second. The worker is warmed up on a few reminders first (imports, templates, translations, its
connections), so the rate is a steady worker's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from accounts.models import User
from bench import Figure, Run, median, register, spread
from certifications.models import CertificationTrack, ExamAttempt
from config.celery import app as celery_app
from curriculum.models import Accreditor, Cohort, Enrollment, Program
from notifications import planner, services
from notifications.mail_sink import MailSink
from notifications.models import Notification, Reminder

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "reminders.bench.checkoff.test"  # apart from the other benches' people, in the same database
STUDENTS = 10_000
SENT = 5_000
WARM_UP = 20
TARGET_PLAN_SECONDS = 1.0  # per 10,000 reminders
TARGET_SENT_PER_SECOND = 500
SEND_DEADLINE = 300  # seconds: a worker this slow has failed the bench anyway


# --- Planning ------------------------------------------------------------------------------------


def _booked_program() -> tuple[Program, datetime, list[User]]:
    """10,000 students booked for the CMA exam in three days' time, and the moment, a minute after the
    program's 9:00 the day before the exam, at which each has one reminder due: the 1-day one (the 7-
    and 30-day ones fell on days before the window)."""
    program = Program.objects.create(
        code="BENCH-REM", name="Bench reminders", accreditor=Accreditor.CAAHEP, time_zone="America/Chicago"
    )
    exam_on = program.today() + timedelta(days=3)
    now = datetime.combine(exam_on - timedelta(days=1), datetime.min.time().replace(hour=9, minute=1))
    now = now.replace(tzinfo=ZoneInfo(program.time_zone)).astimezone(UTC)
    cohort = Cohort.objects.create(
        program=program,
        code="BENCH-REM-1",
        name="Bench reminders cohort",
        start_on=exam_on - timedelta(days=300),
        expected_graduation_on=exam_on + timedelta(days=30),
    )
    people = User.objects.bulk_create(
        [
            User(email=f"s{number}@{DOMAIN}", password="!", first_name=f"S{number:05d}", last_name="Reminded")
            for number in range(STUDENTS)
        ],
        batch_size=5_000,
    )
    enrollments = Enrollment.objects.bulk_create(
        [Enrollment(student=person, cohort=cohort, admitted_on=cohort.start_on) for person in people],
        batch_size=5_000,
    )
    cma = CertificationTrack.objects.get(program=program, code="CMA")
    ExamAttempt.objects.bulk_create(
        [
            ExamAttempt(enrollment=enrollment, track=cma, scheduled_on=exam_on, location="Bench testing center")
            for enrollment in enrollments
        ],
        batch_size=5_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return program, now, people


def _planning(run: Run, program: Program, now: datetime) -> list[Figure]:
    # Warm up, as a long-running beat is: provider imports, the URL resolver, the kinds. Nothing is due then.
    planner.plan(now - timedelta(days=60))
    first: list[float] = []
    again: list[float] = []
    due = planned = 0
    for _repetition in range(max(1, run.repetitions)):
        Reminder.objects.filter(created_at=now).delete()  # what the previous run planned (the planner stamps now)
        result = planner.plan(now)
        first.append(result.seconds)
        due, planned = result.due, result.planned
        repeat = planner.plan(now)
        assert repeat.planned == 0 and repeat.due == due, repeat
        again.append(repeat.seconds)
    ours = Reminder.objects.filter(program_id=program.pk, created_at=now)
    assert ours.count() == STUDENTS, f"{ours.count()} reminders planned for the bench's {STUDENTS:,} students"
    assert ours.values("recipient").distinct().count() == STUDENTS
    per_10k = [seconds * 10_000 / due for seconds in first]
    again_per_10k = [seconds * 10_000 / due for seconds in again]
    run.notes.append(
        f"planning: {STUDENTS:,} students each booked for an exam; plan(now) found {due:,} due "
        f"({due - STUDENTS:,} of other benches' students) and wrote {planned:,} on a fresh outbox; "
        f"median of {len(first)} runs, the outbox emptied of them before each."
    )
    return [
        Figure(
            f"plan {due:,} due, fresh outbox (writes {planned:,})",
            median(first),
            "s",
            note=spread(first, decimals=3),
        ),
        Figure("  planner time per 10,000 reminders, fresh", median(per_10k), "s", target=("<=", TARGET_PLAN_SECONDS)),
        Figure(f"plan {due:,} due again (writes 0)", median(again), "s", note=spread(again, decimals=3)),
        Figure(
            "  planner time per 10,000 reminders, again",
            median(again_per_10k),
            "s",
            target=("<=", TARGET_PLAN_SECONDS),
        ),
    ]


# --- Sending -------------------------------------------------------------------------------------


def _purge_queued_tasks() -> int:
    """Other benches queue mail they never mean to send; this bench's worker must not send it."""
    with celery_app.connection_for_write() as broker:
        channel = broker.channel()
        try:
            return sum(channel.queue_purge(queue) or 0 for queue in ("mail", "celery"))
        finally:
            channel.close()


def _worker(run: Run, sink: MailSink, log: Path) -> subprocess.Popen[bytes]:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": run.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": sink.host,
        "EMAIL_PORT": str(sink.port),
        "DEBUG": "0",  # as in production: no query log kept
        "SECRET_KEY": settings.SECRET_KEY,
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", "mail,celery",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _due(people: list[User], tag: str) -> list[int]:
    due_at = datetime.now(UTC) - timedelta(minutes=1)
    rows = Reminder.objects.bulk_create(
        [
            Reminder(
                recipient=person,
                kind="exam_upcoming",
                subject=f"bench-exam:{tag}:{number}",
                occasion="2026-12-15/7",
                due_at=due_at,
                context={"track": "CMA", "exam_on": "2026-12-15", "location": "Bench testing center", "days": 7},
                url="/my/certification/",
            )
            for number, person in enumerate(people)
        ],
        batch_size=5_000,
    )
    return [row.pk for row in rows]


def _wait_for_sink(sink: MailSink, ids: set[int], worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SEND_DEADLINE
    while sink.count < len(ids) or not ids <= sink.reminder_ids():
        if worker.poll() is not None:
            raise RuntimeError(f"The worker stopped:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            missing = len(ids - sink.reminder_ids())
            raise RuntimeError(f"{missing} of {len(ids)} reminders not at the sink after {SEND_DEADLINE} s")
        time.sleep(0.02)


def _sending(run: Run, people: list[User]) -> list[Figure]:
    rates: list[float] = []
    through: list[float] = []
    dispatch: list[float] = []
    _purge_queued_tasks()
    with TemporaryDirectory(prefix="bench-reminders-") as folder, MailSink() as sink:
        log = Path(folder) / "worker.log"
        worker = _worker(run, sink, log)
        try:
            warm = set(_due(people[:WARM_UP], "warm"))
            services.dispatch_due()
            _wait_for_sink(sink, warm, worker, log)
            for repetition in range(max(1, run.repetitions)):
                sink.clear()
                ids = set(_due(people[:SENT], f"run{repetition}"))
                started = time.perf_counter()
                claimed = services.dispatch_due()
                dispatch.append(time.perf_counter() - started)
                assert claimed == SENT, claimed
                _wait_for_sink(sink, ids, worker, log)
                through.append(time.perf_counter() - started)
                rate = sink.reminders_per_second()
                assert rate is not None and sink.duplicates() == 0, sink.summary()
                rates.append(rate)
                sent = Reminder.objects.filter(pk__in=ids, state=Reminder.State.SENT)
                deadline = time.monotonic() + 30  # the last row is marked just after its mail left
                while sent.count() < SENT and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert sent.count() == SENT and Notification.objects.filter(reminder_id__in=ids).count() == SENT
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
            _purge_queued_tasks()
    run.notes.append(
        f"sending: {SENT:,} due reminders a run, {SENT // settings.REMINDER_BATCH} tasks of "
        f"{settings.REMINDER_BATCH}, one worker (--pool solo) over SMTP to a local sink in the bench process; "
        f"after {WARM_UP} to warm it up; median of {len(rates)} runs."
    )
    return [
        Figure(
            f"send {SENT:,} reminders, first to last at the sink",
            median(rates),
            "reminders/s",
            target=(">=", TARGET_SENT_PER_SECOND),
            note=spread(rates),
        ),
        Figure(
            "  dispatch to last at the sink",
            median(through),
            "s",
            note=f"claiming and queueing: {median(dispatch):.2f} s",
        ),
    ]


@register("reminders", "planning 10,000 students' reminders, and a real worker sending 5,000 over SMTP")
def reminders(run: Run) -> list[Figure]:
    program, now, people = _booked_program()
    return [*_planning(run, program, now), *_sending(run, people)]
