from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from certifications import defaults
from curriculum.models import Program


class Command(BaseCommand):
    help = "Add the reference certification tracks each program lacks, and the outcome measures. Edits are kept."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        tracks = sum(defaults.install_tracks(program) for program in Program.objects.all())
        measures = defaults.install_measures()
        self.stdout.write(f"Added {tracks} certification tracks and {measures} outcome measures.")
