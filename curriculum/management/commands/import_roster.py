from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from curriculum import roster, services
from curriculum.management.imports import ImportCommand
from curriculum.models import Program
from curriculum.services.coursework import INTAKE_CREATED_MEANWHILE


class Command(ImportCommand):
    help = "Import a roster file (CSV or XLSX) into a program. With any bad row nothing is written."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
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
        self.options = options
        # Row errors planned inside name this command's options (--create-cohorts), not the page's boxes.
        with roster.on_command_line():
            super().handle(*args, **options)

    def plan(self, *, program: Program, content: bytes, file_name: str, dry_run: bool) -> roster.RosterPlan:
        create_cohorts: bool = self.options["create_cohorts"]
        if dry_run:
            return roster.plan_roster(
                program=program, content=content, file_name=file_name, create_cohorts=create_cohorts
            )
        try:
            return services.apply_roster(
                program=program,
                content=content,
                file_name=file_name,
                imported_by=None,
                skip_bad_rows=self.options["skip_bad_rows"],
                create_cohorts=create_cohorts,
                invite=self.options["invite"],
            )
        except ValidationError as refusal:
            if any(error.code == INTAKE_CREATED_MEANWHILE for error in refusal.error_list):
                # Not the file's fault: running the command again succeeds.
                raise CommandError(f"Nothing was imported: {refusal.messages[0]}") from refusal
            for message in refusal.messages:
                self.stderr.write(message)
            raise CommandError(
                f"Nothing was imported: {len(refusal.messages)} errors. Fix them, or pass --skip-bad-rows."
            ) from refusal

    def report(self, plan: roster.RosterPlan, *, dry_run: bool) -> None:
        if plan.new_cohorts:
            if not self.options["create_cohorts"]:
                heading = "Intakes the program lacks (pass --create-cohorts to create them)"
            elif dry_run:
                heading = "Intakes that would be created"
            else:
                heading = "Intakes created"
            self.stdout.write(heading + ":")
            for new in plan.new_cohorts:
                self.stdout.write(
                    f"  {new.code} {new.name!r}: {new.start_on} to {new.expected_graduation_on}, {new.rows} rows"
                )
        summary = plan.summary
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {summary['rows']} rows: {summary['new_students']} new students, "
            f"{summary['new_enrollments']} new enrollments, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['errors']} with errors"
            + (" (skipped)" if summary["errors"] and not dry_run else "")
            + "."
        )
