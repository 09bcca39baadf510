from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from curriculum import services, setup_imports, spreadsheets
from curriculum.models import Program


class Command(BaseCommand):
    help = "Create and update a program's cohorts from a file (CSV or XLSX). With any bad row nothing is written."
    records = "cohorts"

    def planner(self) -> Callable[..., setup_imports.SetupPlan]:
        return setup_imports.plan_cohorts

    def writer(self) -> Callable[..., setup_imports.SetupPlan]:
        return services.apply_cohorts

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--program", required=True, help="The program's code.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"No program with code {options['program']!r}.")
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        run = self.planner() if options["dry_run"] else self.writer()
        try:
            plan = run(program=program, content=spreadsheets.read_file(path), file_name=path.name)
        except spreadsheets.UnreadableFile as error:
            raise CommandError(str(error)) from error
        except ValidationError as refusal:
            for message in refusal.messages:
                self.stderr.write(message)
            raise CommandError(f"Nothing was imported: {len(refusal.messages)} errors.") from refusal
        except IntegrityError as error:
            # Someone added the same code between the check and the write.
            raise CommandError(f"Nothing was imported: the {self.records} changed meanwhile. Run it again.") from error
        for row_error in plan.errors:
            self.stderr.write(str(row_error))
        summary = plan.summary
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{verb} {summary['rows']} rows: {summary['new']} new {self.records}, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['errors']} with errors."
        )
        if plan.errors:
            raise CommandError(f"{len(plan.errors)} errors; a real import would write nothing.")
