"""manage.py verify_records: every chain end to end, naming the first broken link of each.

Each chained table is tampered with as someone with the database but not SIGNATURE_KEY could: with
triggers off, a row edited, a row deleted, a row slipped in (the rows after it renumbered to make
room), the last row deleted. Each must be named, at its position, and fail the command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accounts.models import AccessLog
from curriculum import services as curriculum_services
from curriculum.models import Attempt, ChecklistStep, Revocation, Signature
from externships.models import Evaluation, HoursEntry, Kind
from externships.services import evaluations as evaluation_services
from tests import factories
from tests.externship_factories import shift


@contextmanager
def without_triggers() -> Iterator[CursorWrapper]:
    """What a tamperer with database superuser rights could do: write with every trigger off."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor


def verify() -> tuple[bool, str]:
    """(passed, what the command printed)."""
    out = StringIO()
    try:
        call_command("verify_records", stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


# --- Three links of alice's chain of each kind ---------------------------------------------------


@dataclass
class Scene:
    """Alice's chain of one table, three rows long, and how to forge one more row of it."""

    table: str
    rows: list[int]  # ids, in chain order
    forge: Callable[[CursorWrapper, int], None]  # writes a forged row at the position given
    edit: str  # an assignment that changes a row's content
    dependents: str = ""  # rows of other tables that go with a row, as a tamperer removes them too

    def delete(self, cursor: CursorWrapper, where: str, value: int) -> None:
        if self.dependents:
            cursor.execute(self.dependents.format(where=where), [value])
        cursor.execute(f"DELETE FROM {self.table} WHERE {where} = %s", [value])  # noqa: S608 (our table names)


def _attempts(alice, irene, program, count: int) -> list[Attempt]:
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save()
    attempts = []
    for _ in range(count):
        competency = factories.CompetencyFactory(framework=framework)
        step = ChecklistStep.objects.create(program=program, competency=competency, order=1, text="Hand hygiene")
        attempts.append(
            curriculum_services.record_attempt(
                enrollment=alice.enrollments.get(),
                competency=competency,
                evaluator=irene,
                performed_step_ids={step.pk},
                setting="lab",
            )
        )
    return attempts


@pytest.fixture
def signatures(alice, irene, program) -> Scene:
    *to_sign, unsigned = _attempts(alice, irene, program, 4)
    signed = [curriculum_services.sign_attempt(attempt=attempt, signer=irene) for attempt in to_sign]

    def forge(cursor: CursorWrapper, position: int) -> None:
        cursor.execute(
            "INSERT INTO curriculum_signature (attempt_id, student_id, signer_id, signed_at, meaning, digest, "
            "chain_position, chain_digest) VALUES (%s, %s, %s, now(), 'performed and evaluated by', %s, %s, %s)",
            [unsigned.pk, alice.pk, irene.pk, "0" * 64, position, "0" * 64],
        )

    return Scene("curriculum_signature", [signature.pk for signature in signed], forge, "meaning = 'forged'")


@pytest.fixture
def revocations(alice, irene, dana, program) -> Scene:
    signed = [
        curriculum_services.sign_attempt(attempt=attempt, signer=irene)
        for attempt in _attempts(alice, irene, program, 4)
    ]
    spare = signed.pop()
    revoked = [
        curriculum_services.revoke_signature(signature=signature, revoked_by=dana, reason="Wrong student.")
        for signature in signed
    ]

    def forge(cursor: CursorWrapper, position: int) -> None:
        cursor.execute(
            "INSERT INTO curriculum_revocation (signature_id, student_id, revoked_by_id, revoked_at, reason, "
            "chain_position, chain_digest) VALUES (%s, %s, %s, now(), 'Forged.', %s, %s)",
            [spare.pk, alice.pk, dana.pk, position, "0" * 64],
        )

    return Scene("curriculum_revocation", [revocation.pk for revocation in revoked], forge, "reason = 'forged'")


@pytest.fixture
def evaluations(alice, paula, active) -> Scene:
    submitted = []
    for kind, evaluator in ((Kind.MIDPOINT, paula), (Kind.FINAL, paula), (Kind.SITE, alice)):
        ratings = {item.pk: 4 for item in evaluation_services.form_items(active, kind)}
        submitted.append(
            evaluation_services.submit_evaluation(placement=active, kind=kind, evaluator=evaluator, ratings=ratings)
        )
    spare = submitted[-1]

    def forge(cursor: CursorWrapper, position: int) -> None:
        cursor.execute(
            "INSERT INTO externships_evaluation (placement_id, student_id, kind, evaluator_id, submitted_at, "
            "comments, answer_count, meaning, digest, chain_position, chain_digest) "
            "VALUES (%s, %s, 'forged', %s, now(), '', 0, 'submitted and signed by', %s, %s, %s)",
            [active.pk, alice.pk, paula.pk, spare.digest, position, "0" * 64],
        )

    return Scene(
        "externships_evaluation",
        [evaluation.pk for evaluation in submitted],
        forge,
        "comments = 'forged'",
        "DELETE FROM externships_evaluationanswer WHERE evaluation_id IN "
        "(SELECT id FROM externships_evaluation WHERE {where} = %s)",
    )


@pytest.fixture
def approved_hours(alice, paula, active) -> Scene:
    entries = [
        shift(active, active.start_on + timedelta(days=day), state=HoursEntry.State.APPROVED) for day in range(3)
    ]

    def forge(cursor: CursorWrapper, position: int) -> None:
        day = active.start_on + timedelta(days=5)
        zone = active.enrollment.cohort.program.zone
        starts_at = timezone.make_aware(timezone.datetime.combine(day, time(8)), zone)
        cursor.execute(
            "INSERT INTO externships_hoursentry (placement_id, student_id, work_date, starts_at, ends_at, activity, "
            "state, created_at, reviewed_by_id, reviewed_at, return_reason, chain_position, chain_digest) "
            "VALUES (%s, %s, %s, %s, %s, '', 'approved', now(), %s, now(), '', %s, %s)",
            [active.pk, alice.pk, day, starts_at, starts_at + timedelta(hours=8), paula.pk, position, "0" * 64],
        )

    return Scene("externships_hoursentry", [entry.pk for entry in entries], forge, "activity = 'forged'")


@pytest.fixture
def access_log(alice, irene) -> Scene:
    entries = [
        AccessLog.record(actor_id=irene.pk, student_id=alice.pk, action="view", target=f"attempt {number}")
        for number in range(3)
    ]

    def forge(cursor: CursorWrapper, position: int) -> None:
        cursor.execute(
            "INSERT INTO accounts_accesslog (actor_id, student_id, action, target, at, user_agent, chain_position, "
            "chain_digest) VALUES (%s, %s, 'view', 'forged', now(), '', %s, %s)",
            [irene.pk, alice.pk, position, "0" * 64],
        )

    return Scene("accounts_accesslog", [entry.pk for entry in entries], forge, "target = 'forged'")


SCENES = ["signatures", "revocations", "evaluations", "approved_hours", "access_log"]


@pytest.fixture(params=SCENES)
def scene(request: pytest.FixtureRequest) -> Scene:
    return request.getfixturevalue(request.param)


# --- The tests ---------------------------------------------------------------------------------


def test_intact_records_pass_with_a_summary(scene):
    passed, output = verify()
    assert passed, output
    assert f"{scene.table}: 1 chains, 3 rows" in output
    assert "0 broken" in output


def test_it_names_an_edited_row(scene, alice):
    with without_triggers() as cursor:
        cursor.execute(f"UPDATE {scene.table} SET {scene.edit} WHERE id = %s", [scene.rows[1]])  # noqa: S608 (our table names; values are parameters)
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, position 2, row {scene.rows[1]}: edited" in output


def test_it_names_a_deleted_row(scene, alice):
    with without_triggers() as cursor:
        scene.delete(cursor, "id", scene.rows[1])
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, position 2, row {scene.rows[2]}: missing" in output


def test_it_names_an_inserted_row(scene, alice):
    with without_triggers() as cursor:
        # Make room at position 2 (in two steps: a unique position is checked row by row), then forge.
        shifted = f"UPDATE {scene.table} SET chain_position = chain_position + %s WHERE student_id = %s AND {{}}"  # noqa: S608 (our table names; values are parameters)
        cursor.execute(shifted.format("chain_position >= 2"), [1000, alice.pk])
        cursor.execute(shifted.format("chain_position > 1000"), [-999, alice.pk])
        scene.forge(cursor, 2)
        cursor.execute(f"SELECT id FROM {scene.table} WHERE student_id = %s AND chain_position = 2", [alice.pk])  # noqa: S608 (our table names; values are parameters)
        [(forged,)] = cursor.fetchall()
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, position 2, row {forged}: inserted" in output


def test_it_names_a_row_added_at_the_end(scene, alice):
    with without_triggers() as cursor:
        scene.forge(cursor, 4)
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, position 4," in output
    assert "inserted: beyond the end of the chain (its head counts 3 rows)" in output


def test_it_names_a_deleted_last_row(scene, alice):
    with without_triggers() as cursor:
        scene.delete(cursor, "id", scene.rows[2])
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, position 3, no row: missing: the last 1 of 3 rows" in output


def test_it_names_a_head_shortened_to_hide_a_deleted_last_row(scene, alice):
    with without_triggers() as cursor:
        cursor.execute(f"SELECT chain_digest FROM {scene.table} WHERE id = %s", [scene.rows[1]])  # noqa: S608 (our table names; values are parameters)
        [(second_digest,)] = cursor.fetchall()
        scene.delete(cursor, "id", scene.rows[2])
        cursor.execute(
            "UPDATE accounts_chainhead SET length = 2, last_digest = %s WHERE student_id = %s AND kind = %s",
            [second_digest, alice.pk, _kind_of(scene.table)],
        )
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, no position, no row: head mismatch" in output


def test_it_names_every_row_gone_with_its_head_left(scene, alice):
    with without_triggers() as cursor:
        scene.delete(cursor, "student_id", alice.pk)
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, position 1, no row: missing: all 3 rows" in output


def test_it_names_a_chain_whose_head_is_gone(scene, alice):
    with without_triggers() as cursor:
        cursor.execute(
            "DELETE FROM accounts_chainhead WHERE student_id = %s AND kind = %s", [alice.pk, _kind_of(scene.table)]
        )
    passed, output = verify()
    assert not passed
    assert f"{scene.table}: student {alice.pk}, no position, no row: head mismatch: 3 rows but no chain head" in output


def _kind_of(table: str) -> str:
    return {
        "curriculum_signature": Signature.CHAIN,
        "curriculum_revocation": Revocation.CHAIN,
        "externships_evaluation": Evaluation.CHAIN,
        "externships_hoursentry": HoursEntry.CHAIN,
        "accounts_accesslog": AccessLog.CHAIN,
    }[table]


class TestSignedContent:
    """What a signature or an evaluation signed lives in other tables: their own digests cover it."""

    def test_it_names_a_signature_whose_attempt_changed(self, signatures, alice):
        with without_triggers() as cursor:
            cursor.execute(
                "UPDATE curriculum_attempt SET comment = 'forged' WHERE id = "
                "(SELECT attempt_id FROM curriculum_signature WHERE id = %s)",
                [signatures.rows[0]],
            )
        passed, output = verify()
        assert not passed
        assert (
            f"curriculum_signature: student {alice.pk}, position 1, row {signatures.rows[0]}: edited: "
            "the signed attempt, its steps or its signer changed since signing"
        ) in output

    def test_it_names_an_evaluation_whose_answer_changed(self, evaluations, alice):
        with without_triggers() as cursor:
            cursor.execute(
                "UPDATE externships_evaluationanswer SET rating = 1 WHERE evaluation_id = %s", [evaluations.rows[1]]
            )
        passed, output = verify()
        assert not passed
        assert (
            f"externships_evaluation: student {alice.pk}, position 2, row {evaluations.rows[1]}: edited: "
            "its answers changed since it was signed"
        ) in output

    def test_it_names_an_evaluation_with_an_answer_deleted(self, evaluations, alice):
        with without_triggers() as cursor:
            cursor.execute(
                "DELETE FROM externships_evaluationanswer WHERE id = "
                "(SELECT min(id) FROM externships_evaluationanswer WHERE evaluation_id = %s)",
                [evaluations.rows[0]],
            )
        passed, output = verify()
        assert not passed
        assert f"externships_evaluation: student {alice.pk}, position 1, row {evaluations.rows[0]}: edited" in output


def test_each_student_is_a_chain_of_their_own(alice, bob, irene):
    for student in (alice, bob, alice):
        AccessLog.record(actor_id=irene.pk, student_id=student.pk, action="view")
    with without_triggers() as cursor:
        cursor.execute("UPDATE accounts_accesslog SET target = 'forged' WHERE student_id = %s", [bob.pk])
    passed, output = verify()
    assert not passed
    assert f"accounts_accesslog: student {bob.pk}, position 1" in output
    assert f"student {alice.pk}" not in output
    assert "accounts_accesslog: 2 chains, 3 rows" in output


def test_a_changed_key_breaks_every_chain(access_log, settings):
    settings.SIGNATURE_KEY = "another key"
    passed, output = verify()
    assert not passed
    assert "accounts_accesslog" in output


def test_it_refuses_a_chunk_size_below_one():
    with pytest.raises(CommandError, match="chunk-size"):
        call_command("verify_records", "--chunk-size", "0", stdout=StringIO())


def test_a_small_chunk_size_checks_the_same(access_log, alice, bob, irene):
    AccessLog.record(actor_id=irene.pk, student_id=bob.pk, action="view")
    out = StringIO()
    call_command("verify_records", "--chunk-size", "1", stdout=out)
    assert "accounts_accesslog: 2 chains, 4 rows" in out.getvalue()
