"""Recompute every submitted evaluation's digest: a changed rating, comment or signer is listed.

The externship counterpart of `verify_signatures`: read-only, chunked (each chunk two queries),
cheap to run from cron. Exits 1 when anything does not match.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from externships.models import Evaluation


class Command(BaseCommand):
    help = (
        "Check that every submitted externship evaluation still matches its digest. Lists each mismatch and "
        "exits 1 if there is any. (Every evaluation mismatches if SIGNATURE_KEY has changed since signing.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=500, help="Evaluations read at a time (default 500).")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = options["chunk_size"]
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        checked = mismatches = 0
        last_pk = 0
        while True:
            chunk = list(
                Evaluation.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .select_related("evaluator")
                .prefetch_related("answers")[:chunk_size]
            )
            if not chunk:
                break
            last_pk = chunk[-1].pk
            for evaluation in chunk:
                answers = list(evaluation.answers.all())
                if len(answers) != evaluation.answer_count or not evaluation.is_intact():
                    mismatches += 1
                    self.stdout.write(
                        f"evaluation {evaluation.pk}: {evaluation.kind} of placement {evaluation.placement_id}, "
                        f"signed by {evaluation.evaluator.email} at {evaluation.submitted_at.isoformat()}: "
                        "digest does not match"
                    )
            checked += len(chunk)
        summary = f"{checked} evaluations checked, {mismatches} mismatches"
        if mismatches:
            raise CommandError(f"{summary}: the evaluations listed above changed after they were signed.")
        self.stdout.write(self.style.SUCCESS(summary))
