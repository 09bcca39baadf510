"""Recompute every signature's digest: a changed attempt or step, or a moved signature, is listed.

Read-only, and cheap to run from cron: signatures are read in chunks of `--chunk-size`, each chunk
in a bounded number of queries (ids, signatures with their attempt, enrollment, student,
competency and signer, and the attempts' step results). Exits 1 when anything does not match.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum.models import Signature


class Command(BaseCommand):
    help = (
        "Check that every signed check-off still matches its signature's digest. Lists each mismatch and "
        "exits 1 if there is any. (Every signature mismatches if SIGNATURE_KEY has changed since signing.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=500, help="Signatures read at a time (default 500).")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = options["chunk_size"]
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        checked = mismatches = 0
        last_pk = 0
        while True:
            ids = list(
                Signature.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:chunk_size]
            )
            if not ids:
                break
            last_pk = ids[-1]
            for line in self.check_chunk(ids):
                mismatches += 1
                self.stdout.write(line)
            checked += len(ids)
        summary = f"{checked} signatures checked, {mismatches} mismatches"
        if mismatches:
            raise CommandError(f"{summary}: the records listed above changed after they were signed.")
        self.stdout.write(self.style.SUCCESS(summary))

    def check_chunk(self, ids: list[int]) -> list[str]:
        """A line for each signature of the chunk that does not match what it signed."""
        signatures = {
            signature.pk: signature
            for signature in Signature.objects.filter(pk__in=ids)
            .select_related("signer", "attempt__enrollment__student", "attempt__competency")
            .prefetch_related("attempt__step_results")
        }
        lines = [self.describe(signature) for signature in signatures.values() if not signature.is_intact()]
        # The joins above are inner joins: a signature whose attempt, enrollment, student, competency
        # or signer row is gone (possible only with triggers and foreign keys off) is missing from them.
        orphans = [pk for pk in ids if pk not in signatures]
        if orphans:
            lines += [
                f"signature {row['pk']}: attempt {row['attempt_id']}, signer {row['signer_id']}, "
                f"signed {row['signed_at'].isoformat()}: a row it refers to is missing"
                for row in Signature.objects.filter(pk__in=orphans).values("pk", "attempt_id", "signer_id", "signed_at")
            ]
        return lines

    @staticmethod
    def describe(signature: Signature) -> str:
        attempt = signature.attempt
        return (
            f"signature {signature.pk}: attempt {attempt.pk}, student {attempt.enrollment.student.email}, "
            f"competency {attempt.competency.code}, signed by {signature.signer.email} "
            f"at {signature.signed_at.isoformat()}: digest does not match"
        )
