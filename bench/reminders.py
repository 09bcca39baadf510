"""Reminders: planning 10,000 students' exam reminders, and real workers sending 3,000 messages over SMTP.

planning: a program of 10,000 students, each booked for an exam (bulk-written) so that exactly one
reminder of each is due at the moment planned for (the day before the exam, at the program's 9:00,
one minute ago). `planner.plan(now)` is timed on a fresh outbox (it writes 10,000 rows) and again
with them there (it writes none, but asks the domain apps and compares all the same). Target, as
the issue sets it: at most 1 s of planner time per 10,000 reminders, both ways.

sending: 3,000 due messages to 3,000 people, sent as in production: real Celery worker subprocesses
(`--pool solo`, on the mail queue) run `send_outbox`, which claims batches of OUTBOX_BATCH with
`FOR UPDATE SKIP LOCKED` and sends each over Django's SMTP backend on one connection to a
`MailSink`, in a process of its own (BENCH_SINK=thread: in this one), which notes when each message
arrives. Each repetition sends once with one process at work (one task queued: a solo worker holds
one at a time, so the other worker idles) and once with two (a task each), so that the ratio of the
two rates compares runs of the same moment on a shared machine. A rate counts from the first message
at the sink to the last; every message must arrive once, be marked sent and have its notification.
Targets, as the issue sets them: one process at least 150 a second; two at least 1.7 times one. The
workers are warmed up first (imports, templates, translations, connections). The CPU each part used
meanwhile (workers, their PostgreSQL processes, the sink, the whole machine; from /proc) is noted,
to tell where the time went.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import F

from accounts.models import User
from bench import Figure, Run, median, register, spread
from certifications.models import CertificationTrack, ExamAttempt
from config.celery import app as celery_app
from curriculum.models import Accreditor, Cohort, Enrollment, Program
from notifications import planner, tasks
from notifications.mail_sink import MailSink
from notifications.models import Message, Notification

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "reminders.bench.checkoff.test"  # apart from the other benches' people, in the same database
STUDENTS = 10_000
SENT = 3_000  # a run, at one process or two
PROCESSES = 2
WARM_UP = 100  # messages a worker process: two batches
TARGET_PLAN_SECONDS = 1.0  # per 10,000 reminders
TARGET_ONE_PROCESS = 150  # messages a second
TARGET_SPEEDUP = 1.7  # two processes against one
SEND_DEADLINE = 300  # seconds: a worker this slow has failed the bench anyway
STALLED_SECONDS = 5.0  # nothing arrived for this long, with messages due: queue the senders again, as beat would
PARKED_FOR = timedelta(days=36_500)
WORKER_NAME = "bench-reminders-worker"
SINK_PLACES = {"process": "its own process", "thread": "a thread of the bench process"}


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
        Message.objects.filter(created_at=now).delete()  # what the previous run planned (the planner stamps now)
        result = planner.plan(now)
        first.append(result.seconds)
        due, planned = result.due, result.planned
        repeat = planner.plan(now)
        assert repeat.planned == 0 and repeat.due == due, repeat
        again.append(repeat.seconds)
    ours = Message.objects.filter(program_id=program.pk, created_at=now)
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

# The sink in a process of its own, answering the bench on its stdin/stdout: one JSON line a command.
SINK_PROGRAM = """
import json, sys
from notifications.mail_sink import MailSink

with MailSink() as sink:
    print(json.dumps({"host": sink.host, "port": sink.port}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "clear":
            sink.clear()
            answer = {}
        elif command == "count":
            answer = {"count": sink.count}
        else:
            answer = {"count": sink.count, "ids": sorted(sink.message_ids()), "duplicates": sink.duplicates(),
                      "rate": sink.messages_per_second()}
        print(json.dumps(answer), flush=True)
"""


@dataclass
class Arrivals:
    count: int  # every message, ours or not
    ids: set[int]  # the X-Checkoff-Message ids
    duplicates: int
    rate: float | None  # first to last, a second


class Sink:
    """The `MailSink`, run where BENCH_SINK says: "process" (the default), a Python process of its own,
    so its one asyncio thread has a core's share to itself; or "thread", in this process, as the
    tests run it, where it shares the interpreter lock with the bench's polling."""

    def __init__(self, where: str) -> None:
        if where not in ("process", "thread"):
            raise ValueError(f"BENCH_SINK is 'process' or 'thread', not {where!r}")
        self.where = where
        self._local: MailSink | None = None
        self._process: subprocess.Popen[str] | None = None
        if where == "thread":
            self._local = MailSink().start()
            self.host, self.port, self.pid = self._local.host, self._local.port, os.getpid()
        else:
            self._process = subprocess.Popen(
                [sys.executable, "-c", SINK_PROGRAM], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            address = self._ask("")
            self.host, self.port, self.pid = str(address["host"]), int(address["port"]), self._process.pid

    def _ask(self, command: str) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None and self._process.stdout is not None
        if command:
            self._process.stdin.write(command + "\n")
            self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"The mail sink stopped (exit code {self._process.poll()}).")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def clear(self) -> None:
        if self._local is not None:
            self._local.clear()
        else:
            self._ask("clear")

    def count(self) -> int:
        return self._local.count if self._local is not None else int(self._ask("count")["count"])

    def arrivals(self) -> Arrivals:
        if self._local is not None:
            sink = self._local
            return Arrivals(sink.count, sink.message_ids(), sink.duplicates(), sink.messages_per_second())
        answer = self._ask("arrivals")
        return Arrivals(answer["count"], set(answer["ids"]), answer["duplicates"], answer["rate"])

    def close(self) -> None:
        if self._local is not None:
            self._local.stop()
        if self._process is not None:
            _stop(self._process)


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- CPU, from /proc: where the time of a run went --------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU a process has used so far, or None once it is gone (or not on Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15 of stat(5)


def _machine_busy_seconds() -> float | None:
    """CPU seconds every core has spent on anything but idling (or waiting on the disk) since boot."""
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS


def _backend_pids() -> set[int]:
    """The PostgreSQL processes serving the workers (their connections are named for it). Each task
    opens its own connection, so they are looked for while the tasks run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s", [f"{WORKER_NAME}-%"])
        return {row[0] for row in cursor.fetchall()}


@dataclass
class Sending:
    """One measured send: the rate at the sink, and the CPU each part used meanwhile."""

    processes: int
    rate: float
    seconds: float  # from queueing the tasks to the last message at the sink
    workers: list[float]  # CPU seconds of each worker process in that time
    sink: float | None
    backends: float  # CPU seconds of the PostgreSQL processes serving the workers
    machine: float | None  # CPU seconds of the whole machine (every core, everyone's)
    requeued: int = 0

    def cores(self, cpu_seconds: float | None) -> str:
        return "?" if cpu_seconds is None else f"{cpu_seconds / self.seconds:.2f}"


# --- The workers ---------------------------------------------------------------------------------


def _purge_queued_tasks() -> int:
    """Other benches queue mail they never mean to send; this bench's workers must not send it."""
    with celery_app.connection_for_write() as broker:
        channel = broker.channel()
        try:
            return sum(channel.queue_purge(queue) or 0 for queue in ("mail", "celery"))
        finally:
            channel.close()


def _worker(run: Run, sink: Sink, log: Path, number: int) -> subprocess.Popen[bytes]:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    environment = {
        **os.environ,
        # Named, so the bench finds the PostgreSQL process serving it and can read its CPU.
        "DATABASE_URL": f"postgresql://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}?application_name={WORKER_NAME}-{number}",
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
             "--hostname", f"{WORKER_NAME}-{number}@%h", "--without-heartbeat", "--without-gossip",
             "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _due(people: list[User], tag: str) -> list[int]:
    due_at = datetime.now(UTC) - timedelta(minutes=1)
    rows = Message.objects.bulk_create(
        [
            Message(
                recipient=person,
                kind="exam_upcoming",
                subject=f"bench-exam:{tag}:{number}",
                occasion="2026-12-15/7",
                due_at=due_at,
                next_attempt_at=due_at,
                context={"track": "CMA", "exam_on": "2026-12-15", "location": "Bench testing center", "days": 7},
                url="/my/certification/",
            )
            for number, person in enumerate(people)
        ],
        batch_size=5_000,
    )
    return [row.pk for row in rows]


def _send(
    sink: Sink, workers: list[subprocess.Popen[bytes]], logs: list[Path], people: list[User], tag: str, processes: int
) -> Sending:
    """Make a message due for each person, queue one `send_outbox` for each process that is to work
    (a solo worker holds one task at a time, so each takes one), and wait for all at the sink."""
    sink.clear()
    ids = set(_due(people, tag))
    pids = [worker.pid for worker in workers]
    before = {pid: _cpu_seconds(pid) or 0.0 for pid in [*pids, sink.pid]}
    machine_before = _machine_busy_seconds()
    backends: dict[int, float] = {}  # the latest CPU seen of each, as they go when their task ends
    started = time.perf_counter()
    for _task in range(processes):
        tasks.send_outbox.apply_async(queue="mail")
    deadline = time.monotonic() + SEND_DEADLINE
    requeued = 0
    arrived, moved_at, looked_at = 0, time.monotonic(), 0.0
    while arrived < len(ids):
        time.sleep(0.05)
        now = time.monotonic()
        if now - looked_at > 0.25:
            looked_at = now
            for pid in _backend_pids() - backends.keys():
                backends[pid] = 0.0
        for pid in backends:
            backends[pid] = _cpu_seconds(pid) or backends[pid]
        count = sink.count()
        if count != arrived:
            arrived, moved_at = count, now
        for worker, log in zip(workers, logs, strict=True):
            if worker.poll() is not None:
                raise RuntimeError(f"A worker stopped:\n{log.read_text(errors='replace')[-3000:]}")
        if now > deadline:
            raise RuntimeError(f"{len(ids) - arrived} of {len(ids)} messages not at the sink after {SEND_DEADLINE} s")
        if now - moved_at > STALLED_SECONDS:
            # A sender stops after about a minute; beat would start the next. Only a slow run gets here.
            for _task in range(processes):
                tasks.send_outbox.apply_async(queue="mail")
            requeued += processes
            moved_at = now
    seconds = time.perf_counter() - started
    after = {pid: _cpu_seconds(pid) or 0.0 for pid in before}
    machine_after = _machine_busy_seconds()
    arrivals = sink.arrivals()
    assert arrivals.ids == ids and arrivals.count == len(ids), (
        f"{len(ids - arrivals.ids)} of ours missing, {len(arrivals.ids - ids)} others, {arrivals.count} in all"
    )
    assert arrivals.duplicates == 0 and arrivals.rate is not None, arrivals.duplicates
    sent = Message.objects.filter(pk__in=ids, state=Message.State.SENT)
    wait_until = time.monotonic() + 30  # the last row is marked just after its mail left
    while sent.count() < len(ids) and time.monotonic() < wait_until:
        time.sleep(0.05)
    assert sent.count() == len(ids), f"{sent.count()} of {len(ids)} marked sent"
    assert Notification.objects.filter(message_id__in=ids).count() == len(ids)
    return Sending(
        processes=processes,
        rate=arrivals.rate,
        seconds=seconds,
        workers=[after[pid] - before[pid] for pid in pids],
        sink=after[sink.pid] - before[sink.pid],
        backends=sum(backends.values()),
        machine=None if machine_before is None or machine_after is None else machine_after - machine_before,
        requeued=requeued,
    )


@contextmanager
def _other_mail_parked() -> Iterator[int]:
    """The sender takes whatever is due, and the other benches (and the planning above) left pending
    mail in this database: it waits a century while this bench sends, then is put back as it was."""
    parked = list(Message.objects.filter(state=Message.State.PENDING).values_list("pk", flat=True))
    Message.objects.filter(pk__in=parked).update(next_attempt_at=F("next_attempt_at") + PARKED_FOR)
    try:
        yield len(parked)
    finally:
        Message.objects.filter(pk__in=parked).update(next_attempt_at=F("next_attempt_at") - PARKED_FOR)


def _processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


def _sending(run: Run, people: list[User]) -> list[Figure]:
    where = os.environ.get("BENCH_SINK", "process")
    measured: dict[int, list[Sending]] = {1: [], PROCESSES: []}
    _purge_queued_tasks()
    sink = Sink(where)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with TemporaryDirectory(prefix="bench-reminders-") as folder, _other_mail_parked() as parked:
            logs = [Path(folder) / f"worker-{number}.log" for number in range(1, PROCESSES + 1)]
            workers = [_worker(run, sink, log, number) for number, log in enumerate(logs, start=1)]
            # Imports, templates, translations, connections: a few batches for each worker.
            _send(sink, workers, logs, people[: WARM_UP * PROCESSES], "warm", PROCESSES)
            for repetition in range(max(1, run.repetitions)):
                # One process, then two, in the same repetition: their ratio shares the machine's moment.
                for processes in measured:
                    sending = _send(sink, workers, logs, people[:SENT], f"run{repetition}-{processes}", processes)
                    measured[processes].append(sending)
    finally:
        for worker in workers:
            _stop(worker)
        sink.close()
        _purge_queued_tasks()
    one, two = measured[1], measured[PROCESSES]
    ratios = [pair[1].rate / pair[0].rate for pair in zip(one, two, strict=True)]

    def cpu_per_message(sendings: list[Sending]) -> float:
        return median([sum(sending.workers) / SENT * 1000 for sending in sendings])

    run.notes.append(
        f"sending: {SENT:,} due messages a run to a MailSink in {SINK_PLACES[where]} "
        f"(BENCH_SINK={where}); {PROCESSES} Celery workers (--pool solo) on the mail queue, sending "
        f"with `send_outbox` in batches of {settings.OUTBOX_BATCH}; each repetition queues 1 task (one "
        f"process busy, the other idle), then {PROCESSES} (both busy). Warmed up on {WARM_UP * PROCESSES} "
        f"messages first; {parked:,} other pending messages parked meanwhile; median of {len(one)} runs."
    )
    sink_label = "sink" if where == "process" else "bench process (sink thread, polling)"
    for number, sending in enumerate([*one, *two]):
        if number % len(one) == 0:
            run.notes.append(f"  {_processes(sending.processes)}, cores busy (CPU s / wall s) in each run:")
        run.notes.append(
            f"    {sending.rate:,.0f}/s in {sending.seconds:.1f} s: worker{'s' if len(sending.workers) > 1 else ''} "
            + " + ".join(sending.cores(seconds) for seconds in sending.workers)
            + f", PostgreSQL backends {sending.cores(sending.backends)}, {sink_label} {sending.cores(sending.sink)}, "
            f"whole machine {sending.cores(sending.machine)} of {os.cpu_count()}; CPU a message: workers "
            f"{sum(sending.workers) / SENT * 1000:.1f} ms, backends {sending.backends / SENT * 1000:.1f} ms, "
            f"{sink_label} {(sending.sink or 0) / SENT * 1000:.1f} ms"
            + (f"; {sending.requeued} tasks queued again after a stall" if sending.requeued else "")
        )
    ours = median([(sum(sending.workers) + sending.backends + (sending.sink or 0)) / SENT for sending in two])
    run.notes.append(
        f"  all of it, workers, their PostgreSQL processes and the sink: {ours * 1000:.1f} ms of CPU a message "
        f"with {PROCESSES} processes, so at most {(os.cpu_count() or 1) / ours:,.0f} a second on {os.cpu_count()} "
        "cores nothing else uses; the rest of the whole machine's busy cores were other programs'."
    )
    return [
        Figure(
            f"send {SENT:,} messages, 1 worker process, first to last at the sink",
            median([sending.rate for sending in one]),
            "messages/s",
            target=(">=", TARGET_ONE_PROCESS),
            note=spread([sending.rate for sending in one]),
        ),
        Figure(
            f"send {SENT:,} messages, {PROCESSES} worker processes",
            median([sending.rate for sending in two]),
            "messages/s",
            note=spread([sending.rate for sending in two]),
        ),
        Figure(
            f"  {PROCESSES} processes / 1, the same repetition",
            median(ratios),
            "×",
            target=(">=", TARGET_SPEEDUP),
            note=spread(ratios, decimals=2),
        ),
        Figure(
            "  queueing to last at the sink, 1 process",
            median([sending.seconds for sending in one]),
            "s",
            note=f"{PROCESSES} processes: {median([sending.seconds for sending in two]):.2f} s",
        ),
        Figure(
            "  worker CPU per message, 1 process",
            cpu_per_message(one),
            "ms",
            note=f"{PROCESSES} processes: {cpu_per_message(two):.2f} ms (both workers' CPU over the messages)",
        ),
    ]


@register("reminders", "planning 10,000 students' reminders, and real workers sending 3,000 over SMTP")
def reminders(run: Run) -> list[Figure]:
    program, now, people = _booked_program()
    return [*_planning(run, program, now), *_sending(run, people)]
