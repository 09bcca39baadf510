"""manage.py export_outcomes: the outcomes export for one program or every program."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certifications.exports import EXPORT_ACCREDITORS, outcomes_csv, outcomes_xlsx
from curriculum.models import Program


class Command(BaseCommand):
    help = (
        "Write the outcomes export (one row per measure per year: program, program_name, accreditor, measure, "
        "year, numerator, denominator, rate, threshold, meets_threshold, final, enrolled) for one program or "
        "every program, for each program's own accreditor unless --accreditor says otherwise. CSV goes to "
        "standard output unless --output names a file; XLSX only to a file named with --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", help="The program's code (default: every program, by code).")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="csv (default) or xlsx.")
        parser.add_argument(
            "--accreditor",
            choices=EXPORT_ACCREDITORS,
            help="maerb, abhes, or both (MAERB's rows, then ABHES's); default: each program's own accreditor.",
        )
        parser.add_argument("--output", type=Path, help="Write to this file instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        programs = Program.objects.order_by("code")
        if options["program"]:
            programs = programs.filter(code=options["program"])
            if not programs.exists():
                raise CommandError(f"No program with code {options['program']!r}.")
        output: Path | None = options["output"]
        accreditor: str | None = options["accreditor"]
        if options["format"] == "xlsx":
            if output is None:
                raise CommandError("XLSX is written to a file only: name one with --output.")
            output.write_bytes(outcomes_xlsx(programs, accreditor))
        elif output is not None:
            output.write_text(outcomes_csv(programs, accreditor), encoding="utf-8", newline="")
        else:
            self.stdout.write(outcomes_csv(programs, accreditor), ending="")
        if output is not None:
            self.stderr.write(f"Wrote {output}.")
