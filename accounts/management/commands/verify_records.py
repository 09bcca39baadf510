"""Check every record chain end to end: signatures, revocations, evaluations, approved hours, access log.

Read-only and streaming (rows in chunks, one chain's lookahead at a time), so memory stays flat
whatever the tables' size. For each chain it names the first broken link (table, student, position,
row, and what broke: edited, missing, inserted or head mismatch); for signatures and evaluations it
also recomputes each row's own digest over what it signed (the attempt and its steps, the answers).
Exits 1 when anything is broken, and prints what it checked and how long it took.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import chains


class Command(BaseCommand):
    help = (
        "Check every chained record (signatures, revocations, evaluations, approved hours, the access log) "
        "end to end: names each chain's first broken link and exits 1 if there is any. "
        "(Every chain breaks if SIGNATURE_KEY has changed since the rows were written.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=2000, help="Rows read at a time (default 2000).")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = options["chunk_size"]
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        started = time.monotonic()
        tally = chains.Tally()
        broken = 0
        for model in chains.chained_models():
            before = (tally.chains, tally.rows)
            for problem in chains.check(model, tally, chunk_size=chunk_size):
                broken += 1
                self.stdout.write(str(problem))
            self.stdout.write(
                f"{model._meta.db_table}: {tally.chains - before[0]} chains, {tally.rows - before[1]} rows",
                style_func=self.style.HTTP_INFO,
            )
        elapsed = time.monotonic() - started
        rate = f", {tally.rows / elapsed:,.0f} rows/s" if elapsed > 0 and tally.rows else ""
        summary = f"{tally.chains} chains, {tally.rows} rows checked in {elapsed:.2f} s{rate}: {broken} broken"
        if broken:
            raise CommandError(f"{summary}. The records listed above were changed, removed or added outside the app.")
        self.stdout.write(self.style.SUCCESS(summary))
