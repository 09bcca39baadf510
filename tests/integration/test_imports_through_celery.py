"""A roster of a few thousand rows applied through a real Celery worker and a real Redis: the page
queues it and returns at once, the upload goes from queued through applying to applied, the progress
fragment reports the rows written, and with the broker down the person is told and can try again.

The worker is a subprocess reading this test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from curriculum import imports, services
from curriculum.models import Enrollment, RosterImport, StaffRole
from tests import factories
from tests.curriculum.test_roster import roster_csv, student_row
from tests.integration.celery_helpers import broker_at, celery_setting, wait_for

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000
pytestmark = pytest.mark.django_db(transaction=True)
State = RosterImport.State


@pytest.fixture
def not_eager():
    with celery_setting("task_always_eager", False):
        yield


@pytest.fixture
def worker():
    """A Celery worker on this test's database and this run's cache prefix (progress lives there)."""
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", "celery",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def roster_preview():
    program = factories.ProgramFactory()
    cohort = factories.CohortFactory(program=program)
    director = factories.StaffFactory(program=program, role=StaffRole.Role.DIRECTOR).user
    content = roster_csv([student_row(cohort, number) for number in range(1, ROWS + 1)])
    upload, _plan = services.preview_roster(
        program=program, uploaded_by=director, file_name="roster.csv", content=content
    )
    return upload, director


def manual_analyses(table: str) -> int:
    """How many times the table was analyzed by a statement (not by autovacuum), as PostgreSQL counts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table])
        return int(cursor.fetchone()[0])


def test_a_large_roster_is_applied_by_the_worker_while_the_page_shows_progress(
    not_eager, worker, roster_preview, client
):
    upload, director = roster_preview
    client.force_login(director)
    progress_url = reverse("curriculum:roster-import-progress", args=[upload.pk])
    analyzed_before = manual_analyses("curriculum_enrollment")

    started = time.monotonic()
    response = client.post(reverse("curriculum:roster-import-apply", args=[upload.pk]), {"invite": ""})
    assert response.status_code == 302
    assert time.monotonic() - started < 3, "the request only queues the apply"

    states: list[str] = []
    reports: list[tuple[int, int]] = []

    def applied() -> bool:
        upload.refresh_from_db(fields=["state"])
        if not states or states[-1] != upload.state:
            states.append(upload.state)
        progress = imports.progress_of(upload)
        if progress and (not reports or reports[-1] != (progress["written"], progress["total"])):
            reports.append((progress["written"], progress["total"]))
        if upload.state not in (State.APPLIED, State.FAILED):
            assert client.get(progress_url).status_code == 200
        return upload.state in (State.APPLIED, State.FAILED)

    assert wait_for(applied, seconds=120, interval=0.02), f"still {states[-1]} after 120 s"
    assert states[0] in (State.QUEUED, State.APPLYING) and states[-1] == State.APPLIED, states
    assert states == sorted(states, key=[State.QUEUED, State.APPLYING, State.APPLIED].index), states
    assert reports[-1] == (ROWS, ROWS), reports
    # The tables it filled have their statistics at once, not when autovacuum comes round.
    assert wait_for(lambda: manual_analyses("curriculum_enrollment") > analyzed_before, seconds=10)
    assert all(total in (0, ROWS) for _written, total in reports), reports
    assert Enrollment.objects.filter(cohort__program=upload.program).count() == ROWS
    fragment = client.get(progress_url)
    assert fragment.headers["HX-Refresh"] == "true"
    assert f"Roster imported: {ROWS} new students" in client.get(response.url).content.decode()


def test_with_the_broker_down_the_page_says_so_and_the_upload_stays_applicable(not_eager, roster_preview, client):
    upload, director = roster_preview
    client.force_login(director)
    apply_url = reverse("curriculum:roster-import-apply", args=[upload.pk])

    started = time.monotonic()
    with broker_at("redis://127.0.0.1:9/0"):  # nothing listens there
        response = client.post(apply_url, {"invite": ""}, follow=True)
    assert time.monotonic() - started < 15, "a dead broker must not hold the request for long"

    assert response.status_code == 200
    page = response.content.decode()
    assert "the background service is not answering" in page
    assert apply_url in page
    upload.refresh_from_db()
    assert upload.state == State.FAILED and upload.preview_is_current()
    assert not Enrollment.objects.exists()
