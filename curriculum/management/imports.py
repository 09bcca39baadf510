"""What the import commands share: the import pages' upload, preview and apply in one step, for a file
named on the command line.

Each command takes the file, --program and --dry-run; finds the program and reads the file (a wrong
code, a missing or unreadable file stops it with the reason); plans, or writes through the services,
as its `plan` says; prints every row error to standard error by row and column; prints what it did as
its `report` says, the summary alone on standard output; and fails a dry run with errors, since the
real import would write nothing. With any bad row nothing is written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum import spreadsheets
from curriculum.models import Program


class ImportCommand(BaseCommand, ABC):
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
        dry_run: bool = options["dry_run"]
        try:
            plan = self.plan(
                program=program, content=spreadsheets.read_file(path), file_name=path.name, dry_run=dry_run
            )
        except spreadsheets.UnreadableFile as error:
            raise CommandError(str(error)) from error
        for row_error in plan.errors:
            self.stderr.write(str(row_error))
        self.report(plan, dry_run=dry_run)
        if dry_run and plan.errors:
            raise CommandError(f"{self.errors(len(plan.errors))}; a real import would write nothing.")

    @abstractmethod
    def plan(self, *, program: Program, content: bytes, file_name: str, dry_run: bool) -> Any:
        """The file's plan, written unless `dry_run`; a refusal of the services is a CommandError, or the
        plan with its errors when `report` tells of it."""

    @abstractmethod
    def report(self, plan: Any, *, dry_run: bool) -> None:
        """What was done or would be: the summary on standard output, diagnostics on standard error."""

    def errors(self, count: int) -> str:
        return f"{count} errors"
