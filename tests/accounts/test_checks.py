"""The deploy check on SIGNATURE_KEY, and a page meeting a chain that fails its check."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts.checks import check_signature_key
from accounts.models import AccessLog


def forge_head(student) -> None:
    """Shorten the student's access-log head past its seal, as someone with the database but not the key would."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE accounts_chainhead SET length = length - 1 WHERE student_id = %s AND kind = %s",
            [student.pk, AccessLog.CHAIN],
        )


def record(student, actor) -> AccessLog:
    return AccessLog.record(actor_id=actor.pk, student_id=student.pk, action="view")


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_it_warns_when_the_signature_key_falls_back_on_the_secret_key(db, settings):
    settings.SIGNATURE_KEY = settings.SECRET_KEY
    assert ids(check_signature_key()) == ["checkoff.W010"]


def test_it_says_nothing_of_a_key_of_its_own_that_seals_the_records(alice, irene, settings):
    settings.SIGNATURE_KEY = "a key of its own, set once"
    record(alice, irene)
    assert check_signature_key() == []


def test_it_fails_when_the_key_seals_none_of_the_records(alice, bob, irene, settings):
    settings.SIGNATURE_KEY = "the key the records were sealed with"
    record(alice, irene)
    record(bob, irene)
    settings.SIGNATURE_KEY = "a rotated key"
    assert ids(check_signature_key()) == ["checkoff.E010"]


def test_one_forged_head_is_for_verify_records_not_a_key_error(alice, bob, irene, settings):
    settings.SIGNATURE_KEY = "a key of its own, set once"
    record(alice, irene)
    record(alice, irene)
    record(bob, irene)
    forge_head(alice)
    assert check_signature_key() == []


class TestAPageMeetingABrokenChain:
    @pytest.fixture
    def url(self, alice):
        return reverse("curriculum:master-checklist-pdf", args=[alice.enrollments.get().pk])

    def test_the_director_is_told_why_with_a_503_and_nothing_is_written(self, client, alice, irene, dana, url):
        record(alice, irene)
        record(alice, irene)
        forge_head(alice)
        client.force_login(dana)
        response = client.get(url)
        assert response.status_code == 503
        assert "Records failed their integrity check" in response.content.decode()
        assert "verify_records" in response.content.decode()
        assert AccessLog.objects.filter(student=alice).count() == 2

    def test_another_students_record_still_downloads(self, client, alice, bob, irene, dana):
        record(alice, irene)
        record(alice, irene)
        forge_head(alice)
        client.force_login(dana)
        response = client.get(reverse("curriculum:master-checklist-pdf", args=[bob.enrollments.get().pk]))
        assert response.status_code == 200
        assert AccessLog.objects.filter(student=bob, actor=dana).count() == 1
