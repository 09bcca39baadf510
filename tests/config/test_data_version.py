"""The data version moves with every write to the records, however it is made, and a kept home is
computed afresh once it has moved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog, User
from config import bulk, data_version
from curriculum.models import Cohort
from curriculum.services.coursework import USER_COLUMNS
from tests import factories

pytestmark = pytest.mark.django_db


def moved(write) -> int:
    """How far one write moves the version."""
    before = data_version.current()
    write()
    return data_version.current() - before


def test_a_save_a_bulk_write_a_queryset_update_and_raw_sql_each_move_it(program):
    cohort = factories.CohortFactory(program=program)
    assert moved(lambda: cohort.save()) >= 1
    assert moved(lambda: Cohort.objects.filter(pk=cohort.pk).update(name="Renamed")) >= 1
    assert moved(lambda: Cohort.objects.filter(pk=cohort.pk).delete()) >= 1

    def raw_update() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE curriculum_program SET name = %s WHERE id = %s", ["Raw", program.pk])

    assert moved(raw_update) >= 1


def test_reading_and_the_writes_every_page_view_makes_leave_it(program, alice):
    assert moved(lambda: list(Cohort.objects.all())) == 0
    session = SessionStore()
    session["seen"] = True
    assert moved(session.save) == 0
    assert moved(lambda: AccessLog.objects.count()) == 0


@pytest.mark.django_db(transaction=True)
def test_in_a_transaction_it_moves_at_each_write_and_once_more_when_committed():
    with transaction.atomic():
        before = data_version.current()
        program = factories.ProgramFactory()  # its rows, and the defaults a new program gets: one move
        after_the_first_writes = data_version.current()
        program.save()  # read in between: it moves again
        at_the_writes = data_version.current()
    assert (after_the_first_writes, at_the_writes) == (before + 1, before + 2)
    assert data_version.current() == at_the_writes + 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_every_write_moves_it_as_it_is_committed():
    program = factories.ProgramFactory()
    before = data_version.current()

    def two_writes() -> None:
        program.save()
        Cohort.objects.filter(program=program).update(name="Renamed")  # no read of the version between

    two_writes()
    assert data_version.current() == before + 2


@pytest.mark.django_db(transaction=True)
def test_a_transaction_rolled_back_moves_it_only_at_its_writes():
    before = data_version.current()
    with transaction.atomic():
        factories.ProgramFactory()
        at_the_writes = data_version.current()
        transaction.set_rollback(True)
    assert data_version.current() == at_the_writes > before


def test_a_cache_that_lost_the_version_starts_again():
    cache.delete(data_version.KEY)
    assert data_version.current() == 0
    data_version.move()
    assert data_version.current() == 1


def test_the_table_a_statement_writes_is_read_from_its_sql():
    written = data_version._written_tables
    assert written('INSERT INTO "curriculum_cohort" ("name") VALUES (%s)') == ["curriculum_cohort"]
    assert written(' update "accounts_user" SET x = 1') == ["accounts_user"]
    assert written('DELETE FROM "django_session" WHERE 1') == ["django_session"]
    assert written("TRUNCATE TABLE public.curriculum_grade") == ["curriculum_grade"]
    assert written('SELECT * FROM "curriculum_cohort"') == []
    claim = "WITH due AS MATERIALIZED (SELECT id FROM m WHERE x FOR UPDATE SKIP LOCKED) UPDATE m AS message SET a = 1"
    assert written(claim) == ["m"]
    assert written("WITH gone AS (DELETE FROM a RETURNING id) SELECT count(*) FROM gone") == ["a"]
    assert written("WITH x AS (SELECT 1 FROM b FOR UPDATE) SELECT * FROM x") == []


class TestTheKeptHome:
    def test_a_write_shows_on_the_next_visit(self, client, alice, offering):
        client.force_login(alice)
        home = reverse("home")
        assert "Blood pressure quiz" not in client.get(home).content.decode()
        assert "Blood pressure quiz" not in client.get(home).content.decode()  # kept
        factories.AssignmentFactory(
            offering=offering, title="Blood pressure quiz", due_at=timezone.now() - timedelta(days=3)
        )
        assert "Blood pressure quiz" in client.get(home).content.decode()

    def test_each_person_and_language_has_a_home_of_their_own(self, client, alice, bob):
        client.force_login(alice)
        assert alice.first_name in client.get(reverse("home")).content.decode()
        client.force_login(bob)
        page = client.get(reverse("home")).content.decode()
        assert bob.first_name in page and f"Hello, {alice.first_name}" not in page
        bob.preferred_language = "es"
        bob.save(update_fields=["preferred_language"])
        assert "Hola" in client.get(reverse("home")).content.decode()

    def test_without_the_cache_the_home_is_still_computed(self, client, alice, settings):
        unreachable = "redis://127.0.0.1:9/0"  # nothing listens on port 9
        settings.CACHES = {"default": {"BACKEND": "config.cache.TolerantRedisCache", "LOCATION": unreachable}}
        client.force_login(alice)
        response = client.get(reverse("home"))
        assert response.status_code == 200 and alice.first_name in response.content.decode()


def test_a_copy_which_passes_the_wrapper_by_moves_it_and_is_recorded():
    [key] = bulk.new_keys(User, 1)
    row = (key, "copied@example.test", "!", "Copied", "Person", "en", False, True, False, timezone.now())
    with data_version.recording() as written:
        assert moved(lambda: bulk.copy_in(User, USER_COLUMNS, [row])) >= 1
    assert written == {"accounts_user"}
