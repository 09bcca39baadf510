from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from certifications import imports
from certifications.models import ResultImport
from curriculum.management.imports import ImportCommand
from curriculum.models import Program


class ResultImportCommand(ImportCommand):
    """Exam results or graduate outcomes (see curriculum/management/imports.py). A file the services
    refuse for its row errors is reported as checked, then nothing is imported."""

    kind: str = ResultImport.Kind.EXAM_RESULTS
    refused = False

    def plan(self, *, program: Program, content: bytes, file_name: str, dry_run: bool) -> Any:
        self.refused = False
        try:
            if dry_run:
                return imports.plan_import(kind=self.kind, program=program, content=content, file_name=file_name)
            return imports.apply_import(kind=self.kind, program=program, content=content, file_name=file_name, by=None)
        except imports.ImportRefused as refusal:
            self.refused = True
            return refusal.plan

    def report(self, plan: imports.ImportPlan, *, dry_run: bool) -> None:
        # Diagnostics go to standard error, the summary alone to standard output. A warning is not an
        # error: the row is written, and the reader learns what a booking rule would have said of it.
        for warning in plan.warnings:
            self.stderr.write(f"Warning: {warning}")
        summary = plan.summary
        verb = "Would import" if dry_run else "Checked" if self.refused else "Imported"
        self.stdout.write(
            f"{verb} {summary['rows']} rows: {summary['new']} new, {summary['changed']} changed, "
            f"{summary['unchanged']} unchanged, {summary['errors']} with errors."
        )
        if self.refused:
            raise CommandError(f"Nothing was imported: {self.errors(len(plan.errors))}.")

    def errors(self, count: int) -> str:
        return f"{count} error" + ("" if count == 1 else "s")


class Command(ResultImportCommand):
    help = "Import exam results (CSV or XLSX) into a program. With any bad row nothing is written."
    kind = ResultImport.Kind.EXAM_RESULTS
