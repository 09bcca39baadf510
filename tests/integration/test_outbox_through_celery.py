"""The outbox through a real Celery worker, a real Redis and a real SMTP server: the issue's reliability.

Each test starts its own Redis-compatible server as the Celery broker (the worker's and this
process's), so a worker killed here leaves its unacknowledged task in a broker that dies with the
test. The cache stays on REDIS_URL, except in the test where Redis goes down: there cache and broker
are one server, as in production.

The worker is a subprocess (`--pool solo`, queues mail and celery) reading this test's database and
sending with Django's SMTP backend to a `MailSink` in this process, which counts each message by its
`X-Checkoff-Message` header. Beat is played by the test: it queues `send_outbox` on the mail queue
whenever none is waiting (`beat_until`). A claim is taken for lost after `OUTBOX_CLAIM_TIMEOUT`, 3 s
here (worker and this process alike), so `reclaim` can be shown at work within a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.emails import INVITATION
from accounts.models import User
from certifications.models import ExamAttempt
from curriculum.models import Cohort, Enrollment, Program
from notifications import planner, services, tasks
from notifications.models import Message, Notification, ReminderTiming
from tests.certification_factories import track
from tests.integration.celery_helpers import (
    ROOT,
    Worker,
    beat_until,
    environment,
    only_this_connection_left,
    wait_for,
)

CLAIM_TIMEOUT = 3
State = Message.State
pytestmark = pytest.mark.django_db(transaction=True)


# --- The outside world: a broker, a worker, a mail sink -----------------------------------------


@pytest.fixture
def worker(broker, sink, tmp_path, settings) -> Iterator[Worker]:
    """Not started: each test starts (and kills) it when its story needs."""
    settings.OUTBOX_CLAIM_TIMEOUT = CLAIM_TIMEOUT
    process = Worker(environment(broker, sink, OUTBOX_CLAIM_TIMEOUT=str(CLAIM_TIMEOUT)), tmp_path / "worker.log")
    yield process
    process.stop()


# --- Data ----------------------------------------------------------------------------------------


def _people(count: int, label: str) -> list[User]:
    return User.objects.bulk_create(
        [
            User(email=f"{label}-{number}@outbox.checkoff.test", password="!", first_name=f"P{number:04d}")
            for number in range(count)
        ]
    )


def _exam_reminder(person: User, number: int, due_at: datetime) -> Message:
    return Message(
        recipient=person,
        kind="exam_upcoming",
        subject=f"exam:{number}",
        occasion="2026-12-15/7",
        due_at=due_at,
        next_attempt_at=due_at,
        context={"track": "CMA", "exam_on": "2026-12-15", "location": "Testing center", "days": 7},
        url="/my/certification/",
    )


def _due_messages(people: list[User]) -> list[int]:
    """One exam reminder per person, due a minute ago, written straight into the outbox as the planner would."""
    due_at = timezone.now() - timedelta(minutes=1)
    rows = Message.objects.bulk_create([_exam_reminder(person, number, due_at) for number, person in enumerate(people)])
    return [row.pk for row in rows]


def _notice(person: User, occasion: str = "2026-03-01") -> Message | None:
    """What a coordinator's review writes: a notice due now, sent after commit."""
    return services.notify(
        recipient_id=person.pk,
        kind="document_approved",
        subject=f"document:{person.pk}",
        occasion=occasion,
        program_id=None,
        context={"requirement": "TB test", "reviewer": "Carlos Coordinator", "uploaded_on": "2026-03-01"},
        url="/my/compliance/",
    )


def _states() -> dict[str, int]:
    return {state: Message.objects.filter(state=state).count() for state in State.values}


def _ids(**where: Any) -> set[int]:
    return set(Message.objects.filter(**where).values_list("pk", flat=True))


def _settled() -> bool:
    """Nothing left to send: every row sent, failed or cancelled."""
    return not Message.objects.filter(state__in=[State.PENDING, State.SENDING]).exists()


def _all_sent() -> bool:
    return not Message.objects.exclude(state=State.SENT).exists()


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


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_message_in_hand(worker, broker, sink):
    """SIGKILL in the middle of sending 1,000 due messages, a new worker, and `reclaim`: every one arrives.

    The window: a message is marked sent (with its in-app notification, in one transaction) right
    after the SMTP server accepted its mail. A worker killed between the two leaves the row "sending"
    though its mail left, and it is sent a second time. At most one message per kill is in that window,
    the one in hand; the rest of the killed batch was claimed ("sending") but never mailed. A new
    sender leaves those rows alone until their claim is older than OUTBOX_CLAIM_TIMEOUT: then
    `reclaim` gives them back, counting the lost attempt, and they go.
    """
    everyone = set(_due_messages(_people(1000, "killed")))
    stuck: set[int] = set()
    while not stuck:  # a kill between two batches strands nothing: kill again, further on
        assert worker.kills < 3, f"three kills fell between batches: {_states()}"
        worker.start()
        tasks.send_outbox.apply_async(queue="mail")  # one sender: batch after batch until all are sent
        # Two and a half batches on: mid-batch, not where one batch's last mail meets the next claim.
        target = sink.count + settings.OUTBOX_BATCH * 5 // 2
        assert wait_for(lambda target=target: sink.count >= target, 45), (
            f"the worker sent nothing within 45 s:\n{worker.tail()}"
        )
        worker.kill()
        assert sink.count < 1000, "the worker finished before it could be killed mid-batch"
        # A COMMIT the worker sent just before it died may still be finishing in its server process:
        # read the rows once every other connection to the test database has ended.
        assert wait_for(only_this_connection_left, 10), "the killed worker's connections outlived it"
        stuck = _ids(state=State.SENDING)
    assert len(stuck) <= settings.OUTBOX_BATCH, "more rows held than one batch"
    # Of the batch in hand, only the message in hand may have reached the server before its row was marked.
    assert len(stuck & sink.message_ids()) <= 1
    assert _ids(state=State.SENT) | _ids(state=State.PENDING) | stuck == everyone

    worker.start()
    assert beat_until(_all_sent, broker, 60), f"not all sent after the restart: {_states()}\n{worker.tail()}"
    arrived = sink.message_counts()
    assert set(arrived) == everyone, f"{len(everyone - set(arrived))} messages never reached the mail server"
    assert sink.duplicates() <= worker.kills, f"sent twice: {[pk for pk, times in arrived.items() if times > 1]}"
    # The stranded rows came back only through `reclaim`, which counted the attempt the killed worker lost.
    assert _ids(attempts=2) == stuck
    assert _ids(attempts=1) == everyone - stuck
    assert set(Notification.objects.values_list("message_id", flat=True)) == everyone
    assert Notification.objects.count() == 1000


def test_with_redis_down_no_page_fails_nothing_is_lost_and_all_go_once_it_is_back(worker, broker, sink, alice, caplog):
    """Broker and cache on one Redis, stopped while 200 messages become due, and started again."""
    cache = {"default": {**settings.CACHES["default"], "LOCATION": broker.url}}
    worker.environment = {**worker.environment, "REDIS_URL": broker.url}
    with override_settings(CACHES=cache):
        worker.start()
        tasks.send_outbox.apply_async(queue="mail")
        assert wait_for(lambda: broker.queued_messages() == 0, 30), f"the worker never listened:\n{worker.tail()}"
        client = Client()
        client.force_login(alice)
        assert client.get(reverse("home")).status_code == 200
        broker.stop()

        started = time.monotonic()
        planned = set(_due_messages(_people(199, "outage")))  # the planner's rows, due a minute ago
        notice = _notice(alice)  # a review's notice: its commit tries to start a sender, and must not fail
        services.send_soon()  # as beat's own tick would, and must not raise either
        assert time.monotonic() - started < 20, "a dead broker held the request for long"
        assert notice is not None
        assert "Could not queue the sender" in caplog.text
        everyone = {*planned, notice.pk}
        for name in ("home", "notifications:list", "notifications:preferences"):
            response = client.get(reverse(name))
            assert response.status_code == 200, f"{name} answered {response.status_code} with Redis down"
        assert _states()[State.PENDING] == 200
        assert sink.count == 0

        broker.start()  # the same port: the worker finds it again
        assert beat_until(_all_sent, broker, 60), f"not all sent once Redis was back: {_states()}\n{worker.tail()}"
        assert sink.message_counts() == dict.fromkeys(everyone, 1)
        assert client.get(reverse("notifications:list")).status_code == 200


BEAT = """
import json, sys, time
from pathlib import Path
import django
django.setup()
from notifications import planner, services
folder, name = Path(sys.argv[1]), sys.argv[2]
(folder / f"{name}.ready").touch()
give_up = time.monotonic() + 120  # the test died: do not loop forever
while not (folder / "start").exists() and time.monotonic() < give_up:
    time.sleep(0.01)
planned = settled = rounds = 0
while time.monotonic() < give_up:
    last = (folder / "stop").exists()  # read before the round: the round after the stop sees every booking
    planned += planner.plan().planned
    settled += services.send_due()
    rounds += 1
    if last:
        break
    time.sleep(0.02)
print(json.dumps({"planned": planned, "settled": settled, "rounds": rounds}))
"""


def test_two_beats_at_once_plan_and_send_each_message_once(broker, sink, program, cohort, tmp_path):
    """Two beat processes each plan and send (two senders at once) in a loop over the same data,
    while exams are booked in waves: each reminder is planned once, settled once and mailed once."""
    program.time_zone = "America/Chicago"
    program.save()
    exam_on = _due_an_hour_ago(program, timezone.now())
    waves = [_students(cohort, 80, f"wave{number}") for number in range(4)]
    signals = tmp_path / "beats"
    signals.mkdir()
    beats = [
        subprocess.Popen(
            [sys.executable, "-c", BEAT, str(signals), f"beat{number}"],
            cwd=ROOT,
            env=environment(broker, sink),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for number in range(2)
    ]
    try:
        assert wait_for(lambda: all((signals / f"beat{n}.ready").exists() for n in range(2)), 60), (
            "a beat never started"
        )
        (signals / "start").touch()
        exams = Message.objects.filter(kind="exam_upcoming")
        for number, wave in enumerate(waves, start=1):
            _book(wave, program, exam_on)
            # Both beats loop on; the next wave is booked once one of them has planned this one.
            assert wait_for(lambda number=number: exams.count() == 80 * number, 30), f"wave {number} never planned"
        (signals / "stop").touch()
        totals: list[dict[str, Any]] = []
        for beat in beats:
            output, errors = beat.communicate(timeout=60)
            assert beat.returncode == 0, errors.decode()[-3000:]
            totals.append(json.loads(output.decode().strip().splitlines()[-1]))
    finally:
        for beat in beats:
            if beat.poll() is None:
                beat.kill()

    assert exams.count() == 320
    assert exams.values("recipient", "subject", "occasion").distinct().count() == 320
    assert sum(total["planned"] for total in totals) == Message.objects.count(), f"planned twice: {totals}"
    assert sum(total["settled"] for total in totals) == Message.objects.count(), f"settled twice: {totals}"
    assert _all_sent(), _states()
    assert sink.message_counts() == dict.fromkeys(Message.objects.values_list("pk", flat=True), 1)


def test_a_transaction_that_rolls_back_sends_nothing(worker, broker, sink, program, alice):
    """Plan and notify inside a transaction that fails: no task reaches the broker, no mail the sink."""
    _book([alice.enrollments.get()], program, _due_an_hour_ago(program, timezone.now()))
    [reviewed] = _people(1, "rolled")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert planner.plan().planned == 1  # alice's exam
        assert _notice(reviewed) is not None
        raise RuntimeError("the work around it failed")
    assert broker.queued_messages() == 0
    assert not Message.objects.exists()

    # The worker and the sink work: a notice committed after the rollback is the first and only mail.
    worker.start()
    [sentinel_person] = _people(1, "sentinel")
    sentinel = _notice(sentinel_person)  # autocommit: its sender is queued at once
    assert sentinel is not None
    assert wait_for(lambda: Message.objects.get(pk=sentinel.pk).state == State.SENT, 45), (
        f"the sentinel never left: {_states()}\n{worker.tail()}"
    )
    assert sink.message_counts() == {sentinel.pk: 1}
    assert list(Message.objects.values_list("pk", flat=True)) == [sentinel.pk]


def test_a_message_that_cannot_be_rendered_fails_alone_after_its_attempts(worker, broker, sink, settings):
    """A poison row (its invitation id is no number: rendering raises) among 1,000: it is tried
    OUTBOX_MAX_ATTEMPTS times, a growing wait apart, and fails with its reason; the 999 others go once."""
    settings.OUTBOX_MAX_ATTEMPTS, settings.OUTBOX_RETRY_SECONDS = 3, 1
    worker.environment.update(OUTBOX_MAX_ATTEMPTS="3", OUTBOX_RETRY_SECONDS="1")
    worker.start()  # it loads while the rows are written
    people = _people(1000, "poison")
    due_at = timezone.now() - timedelta(minutes=1)
    rows = [_exam_reminder(person, number, due_at) for number, person in enumerate(people)]
    rows[500] = Message(
        recipient=people[500],
        kind=INVITATION,
        subject="invitation:0",
        occasion="sent",
        due_at=due_at,
        next_attempt_at=due_at,
        context={"invitation_id": {"not": "a number"}},
    )
    Message.objects.bulk_create(rows)
    poison = rows[500].pk
    others = {row.pk for row in rows} - {poison}
    assert beat_until(_settled, broker, 60), f"still waiting: {_states()}\n{worker.tail()}"

    failed = Message.objects.get(pk=poison)
    assert failed.state == State.FAILED
    assert failed.attempts == 3
    assert failed.last_error.startswith("TypeError"), failed.last_error
    assert _ids(state=State.SENT) == others
    assert _ids(attempts=1) == others
    assert sink.message_counts() == dict.fromkeys(others, 1)


def test_recipients_the_mail_server_refuses_are_retried_or_failed_by_its_reply(worker, broker, sink, settings):
    """A mail server that answers one recipient "451 try again later" once, and another "550 no such
    user": the first is sent on its second attempt, the second fails at once with the server's words,
    and every other message goes once."""
    settings.OUTBOX_RETRY_SECONDS = 1
    worker.environment.update(OUTBOX_RETRY_SECONDS="1")
    worker.start()
    people = _people(20, "refused")
    later, gone = people[5], people[12]
    sink.refuse(later.email, "451 4.3.0 Try again later")
    sink.refuse(gone.email, "550 5.1.1 No such user")
    everyone = set(_due_messages(people))
    retried, failed = Message.objects.get(recipient=later), Message.objects.get(recipient=gone)

    # One run: each refusal is its own row's; the connection goes on to the next recipient.
    tasks.send_outbox.apply_async(queue="mail")
    assert wait_for(lambda: _ids(state=State.PENDING) == {retried.pk} and not _ids(state=State.SENDING), 45), (
        f"the first run did not settle all but the one to try again: {_states()}\n{worker.tail()}"
    )
    assert sink.message_ids() == everyone - {retried.pk, failed.pk}
    retried.refresh_from_db()
    assert retried.attempts == 1
    assert "451" in retried.last_error and "4.3.0 Try again later" in retried.last_error, retried.last_error

    assert beat_until(_settled, broker, 45), f"still waiting: {_states()}\n{worker.tail()}"
    retried.refresh_from_db()
    assert (retried.state, retried.attempts, retried.last_error) == (State.SENT, 2, "")
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (State.FAILED, 1)
    assert "550" in failed.last_error and "5.1.1 No such user" in failed.last_error, failed.last_error
    assert _ids(state=State.FAILED) == {failed.pk}
    assert _ids(state=State.SENT) == everyone - {failed.pk}
    assert _ids(attempts=1) == everyone - {retried.pk}
    assert sink.message_counts() == dict.fromkeys(everyone - {failed.pk}, 1)
    assert sink.refused() == [(later.email, "451 4.3.0 Try again later"), (gone.email, "550 5.1.1 No such user")]
