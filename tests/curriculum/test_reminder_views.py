"""A program's reminder outbox and timings: directors and coordinators see it, the director resends and
sets the timings, other staff are refused and other programs' reminders are not found."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Message, ReminderTiming
from tests import factories
from tests.notification_factories import MessageFactory
from tests.queries import queries_for

pytestmark = pytest.mark.django_db


def outbox_url(program) -> str:
    return reverse("curriculum:outbox", args=[program.code])


def timings_url(program) -> str:
    return reverse("curriculum:reminder-timings", args=[program.code])


def resend_url(program, reminder) -> str:
    return reverse("curriculum:outbox-resend", args=[program.code, reminder.pk])


@pytest.fixture
def sent(program, alice):
    return MessageFactory(
        recipient=alice,
        program_id=program.pk,
        state=Message.State.SENT,
        sent_at=timezone.now(),
        channel="email",
    )


@pytest.fixture
def failed(program, bob):
    return MessageFactory(
        recipient=bob, program_id=program.pk, state=Message.State.FAILED, last_error="SMTPRecipientsRefused: 550"
    )


def test_the_director_sees_who_was_sent_what_and_what_failed(client, dana, program, sent, failed):
    MessageFactory(program_id=factories.ProgramFactory().pk)  # another program's
    client.force_login(dana)
    page = client.get(outbox_url(program)).content.decode()
    assert page.count('data-testid="outbox-row"') == 2
    assert sent.recipient.email in page and "SMTPRecipientsRefused: 550" in page
    assert "Send again" in page


def test_a_message_put_off_shows_its_attempts_reason_and_next_attempt(client, dana, program, alice):
    later = timezone.now() + timedelta(minutes=4)
    MessageFactory(
        recipient=alice,
        program_id=program.pk,
        kind="invitation",
        attempts=2,
        last_error="refused by the mail server: 451 4.3.0 Try again later",
        next_attempt_at=later,
    )
    client.force_login(dana)
    page = client.get(outbox_url(program)).content.decode()
    assert "An invitation to choose a password" in page  # every message of the program, not only reminders
    assert "451 4.3.0 Try again later" in page and "2 attempts" in page
    assert "Next attempt" in page


def test_filtering_by_state(client, dana, program, sent, failed):
    client.force_login(dana)
    page = client.get(outbox_url(program), {"state": "failed"}).content.decode()
    assert page.count('data-testid="outbox-row"') == 1
    assert failed.recipient.email in page


def test_the_coordinator_sees_the_outbox_but_may_not_resend(client, carlos, program, sent):
    client.force_login(carlos)
    page = client.get(outbox_url(program)).content.decode()
    assert 'data-testid="outbox-row"' in page and "Send again" not in page
    assert client.post(resend_url(program, sent)).status_code == 403
    assert client.get(timings_url(program)).status_code == 403
    assert Message.objects.count() == 1


def test_an_instructor_is_refused_and_an_outsider_finds_nothing(client, irene, olga, program):
    client.force_login(irene)
    assert client.get(outbox_url(program)).status_code == 403
    client.force_login(olga)
    assert client.get(outbox_url(program)).status_code == 404
    assert client.get(timings_url(program)).status_code == 404


def test_resending_makes_a_new_row(client, dana, program, failed, monkeypatch):
    monkeypatch.setattr("notifications.services.send_soon", lambda: None)
    client.force_login(dana)
    response = client.post(resend_url(program, failed), follow=True)
    assert "on its way again" in response.content.decode()
    copy = Message.objects.get(resent_from=failed)
    assert (copy.state, copy.resent_by) == (Message.State.PENDING, dana)


def test_another_programs_reminder_is_not_found(client, dana, program):
    other = factories.ProgramFactory()
    theirs = MessageFactory(program_id=other.pk, state=Message.State.SENT, sent_at=timezone.now())
    client.force_login(dana)
    assert client.post(resend_url(program, theirs)).status_code == 404
    assert not Message.objects.filter(resent_from=theirs).exists()


def test_a_reminder_still_waiting_cannot_be_sent_again(client, dana, program, alice):
    waiting = MessageFactory(recipient=alice, program_id=program.pk)
    client.force_login(dana)
    response = client.post(resend_url(program, waiting), follow=True)
    assert "has not left yet" in response.content.decode()
    assert Message.objects.count() == 1


@pytest.mark.parametrize(("name", "method"), [("outbox", "post"), ("resend", "get"), ("timings", "put")])
def test_the_wrong_method_is_refused(client, dana, program, sent, name, method):
    url = {"outbox": outbox_url(program), "resend": resend_url(program, sent), "timings": timings_url(program)}[name]
    client.force_login(dana)
    assert getattr(client, method)(url).status_code == 405


def _timing_post(**changes: str) -> dict[str, str]:
    data = {
        "exam_upcoming-offsets": "30, 7, 1",
        "exam_upcoming-send_at": "09:00",
        "exam_upcoming-enabled": "on",
        "recertification_due-offsets": "90, 30",
        "recertification_due-send_at": "09:00",
        "recertification_due-enabled": "on",
    }
    from notifications.kinds import kinds

    for key, kind in kinds().items():
        if f"{key}-offsets" not in data:
            data[f"{key}-offsets"] = ", ".join(str(offset) for offset in kind.offsets)
            data[f"{key}-send_at"] = kind.send_at.strftime("%H:%M")
            data[f"{key}-enabled"] = "on"
    data.update(changes)
    return data


def test_the_director_sets_the_timings(client, dana, program):
    client.force_login(dana)
    page = client.get(timings_url(program)).content.decode()
    assert 'value="30, 7, 1"' in page
    response = client.post(
        timings_url(program),
        _timing_post(**{"exam_upcoming-offsets": "14, 3", "exam_upcoming-send_at": "07:30"}),
    )
    assert response.status_code == 302
    timing = ReminderTiming.objects.get(program_id=program.pk, kind="exam_upcoming")
    assert (timing.offsets, timing.send_at, timing.enabled) == ([14, 3], time(7, 30), True)


def test_a_bad_row_is_named_and_nothing_is_saved(client, dana, program):
    client.force_login(dana)
    response = client.post(
        timings_url(program),
        _timing_post(**{"exam_upcoming-offsets": "14", "recertification_due-offsets": "ninety"}),
    )
    assert response.status_code == 200
    assert "A credential due for recertification: write whole numbers of days" in response.content.decode()
    assert not ReminderTiming.objects.exists()


def test_a_day_out_of_range_is_refused_and_nothing_is_saved(client, dana, program):
    client.force_login(dana)
    response = client.post(timings_url(program), _timing_post(**{"recertification_due-offsets": "400"}))
    assert "Each day must be between 0 and 365." in response.content.decode()
    assert not ReminderTiming.objects.exists()


def test_an_exam_reminder_stays_on_whatever_the_form_says(client, dana, program):
    client.force_login(dana)
    data = _timing_post()
    del data["exam_upcoming-enabled"]
    assert client.post(timings_url(program), data).status_code == 302
    assert ReminderTiming.objects.get(program_id=program.pk, kind="exam_upcoming").enabled is True


def test_the_outbox_costs_the_same_queries_at_five_times_the_rows(client, dana, program, alice):
    MessageFactory.create_batch(4, recipient=alice, program_id=program.pk)
    once = queries_for(client, dana, outbox_url(program))
    MessageFactory.create_batch(16, program_id=program.pk)
    assert queries_for(client, dana, outbox_url(program)) == once
