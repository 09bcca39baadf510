from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certifications import imports
from certifications.models import ResultImport
from curriculum import spreadsheets
from curriculum.models import Program


class ResultImportCommand(BaseCommand):
    """The import pages' upload, preview and apply in one step: every row is checked first, errors go to
    standard error by row and column, and with any error nothing is written."""

    kind: str = ResultImport.Kind.EXAM_RESULTS

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
        refused = False
        try:
            content = spreadsheets.read_file(path)
            if options["dry_run"]:
                plan = imports.plan_import(kind=self.kind, program=program, content=content, file_name=path.name)
            else:
                plan = imports.apply_import(
                    kind=self.kind, program=program, content=content, file_name=path.name, by=None
                )
        except imports.ImportFileError as error:
            raise CommandError(str(error)) from error
        except imports.ImportRefused as refusal:
            plan, refused = refusal.plan, True
        for row_error in plan.errors:
            self.stderr.write(str(row_error))
        # Diagnostics go to standard error, the summary alone to standard output. A warning is not an
        # error: the row is written, and the reader learns what a booking rule would have said of it.
        for warning in plan.warnings:
            self.stderr.write(f"Warning: {warning}")
        summary = plan.summary
        verb = "Would import" if options["dry_run"] else "Checked" if refused else "Imported"
        self.stdout.write(
            f"{verb} {summary['rows']} rows: {summary['new']} new, {summary['changed']} changed, "
            f"{summary['unchanged']} unchanged, {summary['errors']} with errors."
        )
        errors = f"{len(plan.errors)} error" + ("" if len(plan.errors) == 1 else "s")
        if refused:
            raise CommandError(f"Nothing was imported: {errors}.")
        if options["dry_run"] and plan.errors:
            raise CommandError(f"{errors}; a real import would write nothing.")


class Command(ResultImportCommand):
    help = "Import exam results (CSV or XLSX) into a program. With any bad row nothing is written."
    kind = ResultImport.Kind.EXAM_RESULTS
