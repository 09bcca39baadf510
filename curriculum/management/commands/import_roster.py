from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum import roster, services, spreadsheets
from curriculum.models import Program
from curriculum.services.coursework import INTAKE_CREATED_MEANWHILE


class Command(BaseCommand):
    help = "Import a roster file (CSV or XLSX) into a program. With any bad row nothing is written."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--program", required=True, help="The program's code.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")
        parser.add_argument("--skip-bad-rows", action="store_true", help="Import the good rows even if some are bad.")
        parser.add_argument(
            "--create-cohorts",
            action="store_true",
            help="Create the intakes the file names that the program lacks, with dates taken from the file.",
        )
        parser.add_argument(
            "--invite",
            action="store_true",
            help="Email an invitation to every current student not invited yet (never to withdrawn or graduated).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"No program with code {options['program']!r}.")
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        # Row errors planned inside name this command's options (--create-cohorts), not the page's boxes.
        with roster.on_command_line():
            try:
                content = spreadsheets.read_file(path)
                if options["dry_run"]:
                    plan = roster.plan_roster(
                        program=program, content=content, file_name=path.name, create_cohorts=options["create_cohorts"]
                    )
                else:
                    plan = services.apply_roster(
                        program=program,
                        content=content,
                        file_name=path.name,
                        imported_by=None,
                        skip_bad_rows=options["skip_bad_rows"],
                        create_cohorts=options["create_cohorts"],
                        invite=options["invite"],
                    )
            except spreadsheets.UnreadableFile as error:
                raise CommandError(str(error)) from error
            except ValidationError as refusal:
                if any(error.code == INTAKE_CREATED_MEANWHILE for error in refusal.error_list):
                    # Not the file's fault: running the command again succeeds.
                    raise CommandError(f"Nothing was imported: {refusal.messages[0]}") from refusal
                for message in refusal.messages:
                    self.stderr.write(message)
                raise CommandError(
                    f"Nothing was imported: {len(refusal.messages)} errors. Fix them, or pass --skip-bad-rows."
                ) from refusal
        for row_error in plan.errors:
            self.stderr.write(str(row_error))
        if plan.new_cohorts:
            if not options["create_cohorts"]:
                heading = "Intakes the program lacks (pass --create-cohorts to create them)"
            elif options["dry_run"]:
                heading = "Intakes that would be created"
            else:
                heading = "Intakes created"
            self.stdout.write(heading + ":")
            for new in plan.new_cohorts:
                self.stdout.write(
                    f"  {new.code} {new.name!r}: {new.start_on} to {new.expected_graduation_on}, {new.rows} rows"
                )
        summary = plan.summary
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{verb} {summary['rows']} rows: {summary['new_students']} new students, "
            f"{summary['new_enrollments']} new enrollments, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['errors']} with errors"
            + (" (skipped)" if summary["errors"] and not options["dry_run"] else "")
            + "."
        )
        if options["dry_run"] and plan.errors:
            raise CommandError(f"{len(plan.errors)} errors; a real import would write nothing.")
