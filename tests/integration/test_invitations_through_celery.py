"""Invitations leave through a real Celery worker and a real Redis, and survive the broker being down.

The worker is a subprocess reading this test database; mail goes to the demo mailbox backend in
a temporary folder, where the test reads it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts import services
from accounts.models import Invitation, User
from tests.integration.celery_helpers import broker_at, celery_setting, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def not_eager():
    """Send tasks to the broker, as production does, instead of running them in-process."""
    with celery_setting("task_always_eager", False):
        yield


@pytest.fixture
def worker(tmp_path):
    """A Celery worker on this test's database, delivering mail into tmp_path/mail."""
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "notifications.mail.DemoMailboxBackend",
        "DEMO_MAILBOX_DIR": str(tmp_path / "mail"),
        "DEBUG": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", "mail,celery",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    yield tmp_path / "mail"
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_an_invitation_is_delivered_by_the_worker_after_commit(not_eager, worker):
    person = User.objects.create_user("real.worker@school.test", first_name="Rosa")
    [invitation] = services.invite_users(users=[person], invited_by=None)  # commits: no surrounding transaction
    assert wait_for(lambda: any(worker.glob("*.eml"))), "the worker delivered nothing within 30 s"
    assert "real.worker@school.test" in next(worker.glob("*.eml")).read_text()
    assert wait_for(lambda: Invitation.objects.get(pk=invitation.pk).sent_at is not None)


def test_with_the_broker_down_the_invitation_waits_for_the_sweeper(not_eager, caplog):
    person = User.objects.create_user("broker.down@school.test", first_name="Omar")
    started = time.monotonic()
    with broker_at("redis://127.0.0.1:9/0"):  # nothing listens there
        [invitation] = services.invite_users(users=[person], invited_by=None)
    assert time.monotonic() - started < 15, "a dead broker must not hold the request for long"
    assert "the sweeper will send them" in caplog.text
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    Invitation.objects.filter(pk=invitation.pk).update(created_at=invitation.created_at.replace(year=2020))
    assert services.pending_invitation_ids() == [invitation.pk]
