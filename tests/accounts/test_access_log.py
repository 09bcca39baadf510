"""“Who viewed my record”: a person's own access-log rows, newest first, at a fixed query cost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import chains
from accounts.models import AccessLog
from tests import factories

URL = reverse("accounts:access-log")


def log(actor, student, action="view", *, at=None, target="I.P.1.a attempt 1") -> AccessLog:
    """A row as the app writes it, or at a time given (rows never change once written)."""
    if at is None:
        return AccessLog.record(
            actor_id=actor.pk,
            student_id=student.pk,
            action=action,
            target=target,
            request_meta={"REMOTE_ADDR": "10.0.0.7"},
        )
    return written(actor=actor, student=student, action=action, target=target, at=at)


def written(**fields) -> AccessLog:
    """A row with the fields given, linked into the student's chain as the app links every row."""
    entry = AccessLog(**fields)
    with transaction.atomic():
        chains.link([entry])
        entry.save()
    return entry


def test_it_refuses_to_truncate_the_log(alice, irene):
    entry = log(irene, alice)
    with pytest.raises(IntegrityError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending foreign-key checks first
        cursor.execute("TRUNCATE accounts_accesslog")
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_the_student_sees_who_did_what_when_and_from_where(client, alice, irene, program):
    program.time_zone = "America/Chicago"
    program.save()
    written(
        actor=irene, student=alice, action="sign", target="I.P.1.a attempt 4", ip_address="10.1.2.3",
        at=datetime(2026, 1, 15, 18, 30, tzinfo=UTC),
    )  # fmt: skip
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert irene.full_name in page
    assert "Signed a check-off" in page and "I.P.1.a attempt 4" in page
    assert "10.1.2.3" in page
    assert "Jan 15, 2026, 12:30 p.m." in page  # 18:30 UTC in Chicago
    assert "America/Chicago" in page


def test_a_student_sees_rows_about_themselves_only(client, alice, bob, irene, dana):
    mine = log(irene, alice, target="alice's attempt")
    log(dana, bob, "download", target="bob's checklist")
    client.force_login(alice)
    response = client.get(URL)
    assert list(response.context["page"].object_list) == [mine]
    assert "bob&#x27;s checklist" not in response.content.decode()


def test_the_newest_comes_first(client, alice, irene, dana):
    older = log(irene, alice, at=datetime(2026, 1, 1, tzinfo=UTC))
    newer = log(dana, alice, "download", at=datetime(2026, 2, 1, tzinfo=UTC))
    client.force_login(alice)
    entries = list(client.get(URL).context["page"].object_list)
    assert entries.index(newer) < entries.index(older)


def test_a_long_log_is_paginated(client, alice, irene):
    for _ in range(51):
        log(irene, alice)
    client.force_login(alice)
    assert len(client.get(URL).context["page"].object_list) == 50
    assert len(client.get(URL, {"page": 2}).context["page"].object_list) == 1


def test_someone_with_no_rows_is_told_so(client, olga):
    client.force_login(olga)
    assert "Nothing recorded yet" in client.get(URL).content.decode()


def test_the_user_menu_links_to_it(client, alice):
    client.force_login(alice)
    assert f'href="{URL}"' in client.get(reverse("accounts:preferences")).content.decode()


def test_it_rejects_post(client, alice):
    client.force_login(alice)
    assert client.post(URL).status_code == 405


def test_it_needs_a_signed_in_person(client):
    assert client.get(URL).status_code == 302


def test_it_costs_the_same_queries_at_1x_and_5x(client, alice):
    def grow(count: int) -> None:
        for _ in range(count):
            log(factories.UserFactory(), alice, "view")
            log(factories.UserFactory(), alice, "download")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured.captured_queries)

    client.force_login(alice)
    client.get(URL)  # the session's time zone is looked up once
    grow(1)
    once = queries()
    grow(4)
    assert queries() == once


class TestClientAddress:
    def test_without_proxies_the_socket_address_counts(self, settings):
        from accounts.models import client_address

        settings.PROXY_HOPS = 0
        assert client_address({"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}) == "10.1.2.3"

    def test_behind_one_proxy_the_address_it_saw_counts_and_a_forged_one_does_not(self, settings):
        from accounts.models import client_address

        settings.PROXY_HOPS = 1
        meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}
        assert client_address(meta) == "203.0.113.9"

    def test_garbage_is_no_address(self, settings):
        from accounts.models import client_address

        settings.PROXY_HOPS = 1
        assert client_address({"HTTP_X_FORWARDED_FOR": "not an address"}) is None
