"""Record chains: linking rows, the heads, and appends that wait only for their own chain."""

from __future__ import annotations

import importlib
import inspect
import threading
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction

from accounts import chains
from accounts.models import AccessLog, ChainHead


def record(student, actor, target: str = "") -> AccessLog:
    return AccessLog.record(actor_id=actor.pk, student_id=student.pk, action="view", target=target)


class TestLinking:
    def test_each_row_takes_the_next_position_of_its_students_chain(self, alice, bob, irene):
        rows = [record(alice, irene), record(bob, irene), record(alice, irene)]
        assert [(row.student_id, row.chain_position) for row in rows] == [(alice.pk, 1), (bob.pk, 1), (alice.pk, 2)]
        head = ChainHead.objects.get(kind=AccessLog.CHAIN, student=alice)
        assert (head.length, head.last_digest, head.is_sealed()) == (2, rows[2].chain_digest, True)

    def test_a_digest_covers_the_one_before(self, alice, irene):
        first, second = record(alice, irene), record(alice, irene)
        assert second.chain_digest == AccessLog.link_digest(
            student_id=alice.pk, position=2, previous=first.chain_digest, values=second.chain_values()
        )

    def test_it_links_several_students_rows_at_once(self, alice, bob, irene):
        rows = [AccessLog(actor=irene, student=student, action="view") for student in (alice, bob, alice)]
        with transaction.atomic():
            chains.link(rows)
            AccessLog.objects.bulk_create(rows)
        assert [row.chain_position for row in rows] == [1, 1, 2]
        assert chains.linked([rows[0], rows[2]]) == {rows[0].pk, rows[2].pk}

    def test_a_page_sees_which_rows_follow_from_the_one_before(self, alice, irene):
        rows = [record(alice, irene, target=f"attempt {number}") for number in range(3)]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("UPDATE accounts_accesslog SET target = 'forged' WHERE id = %s", [rows[1].pk])
        rows = list(AccessLog.objects.filter(student=alice).order_by("chain_position"))
        assert chains.linked(rows) == {rows[0].pk, rows[2].pk}

    def test_it_refuses_to_extend_a_chain_whose_head_was_forged(self, alice, irene):
        """Sealing the next link onto a shortened head would make the removed row vanish for good."""
        first = record(alice, irene)
        record(alice, irene)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE accounts_chainhead SET length = 1, last_digest = %s WHERE student_id = %s",
                [first.chain_digest, alice.pk],
            )
        with pytest.raises(ValidationError, match="integrity check"):
            record(alice, irene)
        assert AccessLog.objects.filter(student=alice).count() == 2


class TestHeadsInTheDatabase:
    def test_a_head_cannot_be_shortened(self, alice, irene):
        record(alice, irene)
        with pytest.raises(IntegrityError, match="only grows"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_chainhead SET length = 0 WHERE student_id = %s", [alice.pk])

    def test_a_head_cannot_be_deleted(self, alice, irene):
        record(alice, irene)
        with pytest.raises(IntegrityError, match="only grows"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_chainhead WHERE student_id = %s", [alice.pk])

    def test_heads_refuse_truncate(self, alice, irene):
        record(alice, irene)
        with pytest.raises(IntegrityError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending foreign-key checks first
            cursor.execute("TRUNCATE accounts_chainhead")

    def test_a_position_is_held_once(self, alice, irene):
        first = record(alice, irene)
        with pytest.raises(IntegrityError), transaction.atomic():
            AccessLog.objects.create(
                actor=irene, student=alice, action="view", chain_position=first.chain_position, chain_digest="x"
            )


class TestTheMigrationsSealAsTheAppLinks:
    """The migrations carry frozen copies of the digest logic: they must seal existing rows exactly as
    the app would have linked them."""

    @pytest.mark.parametrize(
        ("migration", "table", "fields"),
        [("accounts.migrations.0006_access_log_chained_per_student", "accounts_accesslog", "ACCESS_LOG_FIELDS")],
    )
    def test_resealing_gives_the_same_digests(self, alice, bob, irene, migration, table, fields):
        rows = [record(student, irene, target=f"row {number}") for number, student in enumerate((alice, bob, alice))]
        module = importlib.import_module(migration)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM accounts_chainhead")
            cursor.execute(f"UPDATE {table} SET chain_position = chain_position + 1000, chain_digest = ''")  # noqa: S608
            module.seal_table(
                SimpleNamespace(cursor=connection.cursor, chunked_cursor=connection.chunked_cursor),
                table=table,
                kind=AccessLog.CHAIN,
                fields=getattr(module, fields),
                order="at",
            )
        assert {
            (row.pk, row.chain_position, row.chain_digest)
            for row in AccessLog.objects.filter(pk__in=[r.pk for r in rows])
        } == {(row.pk, row.chain_position, row.chain_digest) for row in rows}
        assert all(head.is_sealed() for head in ChainHead.objects.all())

    def test_each_migration_freezes_the_same_logic_and_the_models_fields(self):
        from curriculum.models import Revocation, Signature
        from externships.models import Evaluation, HoursEntry

        accounts = importlib.import_module("accounts.migrations.0006_access_log_chained_per_student")
        curriculum = importlib.import_module(
            "curriculum.migrations.0006_signatures_and_revocations_chained_per_student"
        )
        externships = importlib.import_module(
            "externships.migrations.0006_evaluations_and_approved_hours_chained_per_student"
        )
        for module in (curriculum, externships):
            for name in ("keyed_digest", "chain_value", "seal_table"):
                assert inspect.getsource(getattr(module, name)) == inspect.getsource(getattr(accounts, name))
        assert accounts.ACCESS_LOG_FIELDS == AccessLog.CHAIN_FIELDS
        assert curriculum.SIGNATURE_FIELDS == Signature.CHAIN_FIELDS
        assert curriculum.REVOCATION_FIELDS == Revocation.CHAIN_FIELDS
        assert externships.EVALUATION_FIELDS == Evaluation.CHAIN_FIELDS
        assert externships.APPROVED_HOURS_FIELDS == HoursEntry.CHAIN_FIELDS


@pytest.mark.django_db(transaction=True)
class TestAppendsWaitOnlyForTheirOwnChain:
    def hold(self, student, actor, linked: threading.Event, release: threading.Event) -> threading.Thread:
        """A second connection that links a row into the student's chain and keeps it uncommitted."""

        def run() -> None:
            try:
                with transaction.atomic():
                    record(student, actor, target="held")
                    linked.set()
                    release.wait(timeout=10)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        assert linked.wait(timeout=10)
        return thread

    def test_another_students_append_does_not_wait(self, alice, bob, irene):
        linked, release = threading.Event(), threading.Event()
        holder = self.hold(alice, irene, linked, release)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting on alice's head would fail here
                entry = record(bob, irene)
        finally:
            release.set()
            holder.join()
        assert entry.chain_position == 1

    def test_the_same_students_appends_queue_and_both_chain(self, alice, irene):
        linked, release = threading.Event(), threading.Event()
        holder = self.hold(alice, irene, linked, release)
        try:
            with pytest.raises(OperationalError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")  # it waits on alice's head...
                record(alice, irene)
            finished = threading.Event()
            waiter = threading.Thread(target=self._record_then_close, args=(alice, irene, finished))
            waiter.start()
            assert not finished.wait(timeout=0.5)  # ...and goes on only once the first commits
        finally:
            release.set()
            holder.join()
        waiter.join(timeout=10)
        assert finished.is_set()
        positions = list(
            AccessLog.objects.filter(student=alice).order_by("chain_position").values_list("target", "chain_position")
        )
        assert positions == [("held", 1), ("after", 2)]
        assert not list(chains.check(AccessLog, chains.Tally()))

    @staticmethod
    def _record_then_close(student, actor, finished: threading.Event) -> None:
        try:
            record(student, actor, target="after")
            finished.set()
        finally:
            connection.close()
