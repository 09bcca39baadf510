"""`manage.py restore PATH`: a backup back into an empty database and empty media folders, then the
records verification. The whole archive is checked before anything is touched (accounts/backups.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounts import backups


class Command(BaseCommand):
    help = (
        "Restore an archive written by `backup` into an empty database and empty media folders. A damaged "
        "archive is refused before anything is changed; the restore ends with the records verification."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The archive written by `manage.py backup`.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backups.restore(options["path"], say=self.stdout.write)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("Row counts match the manifest: %(tables)s tables, %(rows)s rows.")
            % {"tables": result.tables, "rows": result.rows}
        )
        # The chains prove that what was signed is what came back; their report is shown either way.
        report = StringIO()
        try:
            call_command("verify_records", stdout=report, stderr=report)
        except CommandError as error:
            self.stdout.write(report.getvalue())
            raise CommandError(
                _(
                    "The archive was restored, but the records verification failed: %(error)s Do not use this "
                    "database until the program office has looked at the records listed above."
                )
                % {"error": error}
            ) from error
        self.stdout.write(report.getvalue())
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored the backup of %(created)s (Checkoff %(version)s) in %(seconds).1f s: %(documents)s "
                    "documents, every signed record verified."
                )
                % {
                    "created": result.manifest.get("created_at"),
                    "version": result.manifest.get("checkoff_version"),
                    "seconds": result.seconds,
                    "documents": result.documents,
                }
            )
        )
