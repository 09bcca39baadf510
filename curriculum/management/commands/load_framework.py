from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum import frameworks


class Command(BaseCommand):
    help = "Load the reference competency frameworks (MAERB 2022 and 2015). Re-running changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="*", help=f"Frameworks to load: {', '.join(frameworks.FRAMEWORK_FILES)}.")

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = sorted(set(options["codes"]) - set(frameworks.FRAMEWORK_FILES))
        if unknown:
            known = ", ".join(frameworks.FRAMEWORK_FILES)
            raise CommandError(f"Unknown frameworks: {', '.join(unknown)}. Known: {known}.")
        for code in options["codes"] or list(frameworks.FRAMEWORK_FILES):
            self.stdout.write(str(frameworks.load_framework(code)))
