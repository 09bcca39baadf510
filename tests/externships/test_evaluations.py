"""Evaluations: the preceptor's midpoint and final, the student's of the site; signed, never changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import AccessLog
from externships.models import Evaluation, EvaluationAnswer, EvaluationItem, Kind, Placement
from externships.services import evaluations as evaluation_services


def all_rated(placement: Placement, kind: str, rating: int = 4) -> dict[int, int]:
    return {item.pk: rating for item in evaluation_services.form_items(placement, kind)}


def submit(
    placement: Placement, kind: str, by, ratings: dict[int, int] | None = None, comments: str = ""
) -> Evaluation:
    return evaluation_services.submit_evaluation(
        placement=placement, kind=kind, evaluator=by, ratings=ratings or all_rated(placement, kind), comments=comments
    )


class TestSubmitting:
    def test_the_program_starts_with_the_reference_forms(self, program):
        sections = set(
            EvaluationItem.objects.filter(program=program, kind=Kind.MIDPOINT).values_list("section", flat=True)
        )
        assert sections == {"Professionalism", "Clinical skills", "Administrative skills", "Communication"}
        assert EvaluationItem.objects.filter(program=program, kind=Kind.SITE).exists()

    def test_the_preceptor_submits_and_signs_the_midpoint(self, active, paula, alice):
        evaluation = submit(active, Kind.MIDPOINT, paula)
        assert (
            evaluation.answers.count()
            == EvaluationItem.objects.filter(program=active.site.program, kind=Kind.MIDPOINT).count()
        )
        assert evaluation.is_intact()
        assert AccessLog.objects.filter(student=alice, actor=paula, action=AccessLog.Action.EVALUATE).exists()

    def test_every_item_must_be_rated(self, active, paula):
        ratings = all_rated(active, Kind.MIDPOINT)
        missing = next(iter(ratings))
        ratings[missing] = 0
        with pytest.raises(ValidationError) as refused:
            submit(active, Kind.MIDPOINT, paula, ratings)
        assert list(refused.value.message_dict) == [f"item_{missing}"]
        assert not Evaluation.objects.exists()

    def test_low_ratings_need_a_comment(self, active, paula):
        with pytest.raises(ValidationError) as refused:
            submit(active, Kind.MIDPOINT, paula, all_rated(active, Kind.MIDPOINT, 2))
        assert "comments" in refused.value.message_dict
        submit(active, Kind.MIDPOINT, paula, all_rated(active, Kind.MIDPOINT, 2), "Needs practice with injections")

    def test_the_final_follows_the_midpoint(self, active, paula):
        with pytest.raises(ValidationError):
            submit(active, Kind.FINAL, paula)
        submit(active, Kind.MIDPOINT, paula)
        submit(active, Kind.FINAL, paula)

    def test_once_per_kind(self, active, paula):
        submit(active, Kind.MIDPOINT, paula)
        with pytest.raises(ValidationError):
            submit(active, Kind.MIDPOINT, paula)

    def test_who_evaluates_what(self, active, paula, alice, carlos):
        with pytest.raises(ValidationError):
            submit(active, Kind.MIDPOINT, alice)
        with pytest.raises(ValidationError):
            submit(active, Kind.SITE, paula)
        with pytest.raises(ValidationError):
            submit(active, Kind.MIDPOINT, carlos)
        submit(active, Kind.SITE, alice)

    def test_a_planned_placement_takes_no_evaluation(self, placement, paula):
        with pytest.raises(ValidationError):
            submit(placement, Kind.MIDPOINT, paula)

    def test_editing_the_form_later_changes_no_submitted_evaluation(self, active, paula):
        evaluation = submit(active, Kind.MIDPOINT, paula)
        EvaluationItem.objects.filter(program=active.site.program).update(text="Changed")
        assert "Changed" not in evaluation.answers.values_list("text", flat=True)
        assert evaluation.is_intact()


class TestImmutable:
    def test_the_database_refuses_changes(self, active, paula):
        evaluation = submit(active, Kind.MIDPOINT, paula)
        answer = evaluation.answers.first()
        statements = [
            ("UPDATE externships_evaluation SET comments = 'x' WHERE id = %s", evaluation.pk),
            ("DELETE FROM externships_evaluation WHERE id = %s", evaluation.pk),
            ("UPDATE externships_evaluationanswer SET rating = 1 WHERE id = %s", answer.pk),
            ("DELETE FROM externships_evaluationanswer WHERE id = %s", answer.pk),
        ]
        for sql, pk in statements:
            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [pk])

    @pytest.mark.parametrize(
        "table", ["externships_evaluation", "externships_evaluationanswer", "externships_hoursentry"]
    )
    def test_it_refuses_to_truncate_signed_and_approved_records(self, active, paula, table):
        evaluation = submit(active, Kind.MIDPOINT, paula)
        with pytest.raises(IntegrityError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending foreign-key checks first
            cursor.execute(f"TRUNCATE {table} CASCADE")
        assert Evaluation.objects.filter(pk=evaluation.pk).exists()

    def test_no_answer_can_be_added_later(self, active, paula):
        evaluation = submit(active, Kind.MIDPOINT, paula)
        with pytest.raises(IntegrityError), transaction.atomic():
            EvaluationAnswer.objects.create(evaluation=evaluation, order=99, section="x", text="extra", rating=5)

    def test_a_changed_row_breaks_the_digest(self, active, paula):
        evaluation = submit(active, Kind.MIDPOINT, paula)
        evaluation.comments = "forged"
        assert not evaluation.is_intact()


class TestVerifyCommand:
    def test_intact_evaluations_pass(self, active, paula):
        from io import StringIO

        from django.core.management import call_command

        submit(active, Kind.MIDPOINT, paula)
        out = StringIO()
        call_command("verify_evaluations", stdout=out)
        assert "1 evaluations checked, 0 mismatches" in out.getvalue()

    def test_a_forged_rating_is_listed_and_fails(self, active, paula):
        from io import StringIO

        from django.core.management import call_command
        from django.core.management.base import CommandError

        evaluation = submit(active, Kind.MIDPOINT, paula)
        with connection.cursor() as cursor:  # as someone with the power to disable triggers would
            cursor.execute("SET session_replication_role = replica")  # triggers off for this session
            cursor.execute(
                "UPDATE externships_evaluationanswer SET rating = 5 WHERE evaluation_id = %s", [evaluation.pk]
            )
            cursor.execute("SET session_replication_role = DEFAULT")
        out = StringIO()
        with pytest.raises(CommandError):
            call_command("verify_evaluations", stdout=out)
        assert f"evaluation {evaluation.pk}:" in out.getvalue()
