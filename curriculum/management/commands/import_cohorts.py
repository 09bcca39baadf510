from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import IntegrityError

from curriculum import services, setup_imports
from curriculum.management.imports import ImportCommand
from curriculum.models import Program


class Command(ImportCommand):
    help = "Create and update a program's cohorts from a file (CSV or XLSX). With any bad row nothing is written."
    records = "cohorts"

    def planner(self) -> Callable[..., setup_imports.SetupPlan]:
        return setup_imports.plan_cohorts

    def writer(self) -> Callable[..., setup_imports.SetupPlan]:
        return services.apply_cohorts

    def plan(self, *, program: Program, content: bytes, file_name: str, dry_run: bool) -> Any:
        run = self.planner() if dry_run else self.writer()
        try:
            return run(program=program, content=content, file_name=file_name)
        except ValidationError as refusal:
            for message in refusal.messages:
                self.stderr.write(message)
            raise CommandError(f"Nothing was imported: {len(refusal.messages)} errors.") from refusal
        except IntegrityError as error:
            # Someone added the same code between the check and the write.
            raise CommandError(f"Nothing was imported: the {self.records} changed meanwhile. Run it again.") from error

    def report(self, plan: setup_imports.SetupPlan, *, dry_run: bool) -> None:
        summary = plan.summary
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {summary['rows']} rows: {summary['new']} new {self.records}, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['errors']} with errors."
        )
