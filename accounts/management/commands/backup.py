"""`manage.py backup PATH`: the database and the documents in one archive, with a manifest to check
a restore against (the archive's layout: accounts/backups.py; how to use it: the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounts import backups


class Command(BaseCommand):
    help = (
        "Write one archive holding a pg_dump of the database, the compliance documents and a manifest "
        "(versions, row counts, the digest of every file). Refuses to replace an existing file unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The archive file to write (e.g. checkoff-2026-09-01.tar).")
        parser.add_argument("--force", action="store_true", help="Replace the file if it exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backups.write_backup(options["path"], force=options["force"], say=self.stdout.write)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Wrote %(path)s (%(megabytes)s MB) in %(seconds).1f s: the database (%(tables)s tables, "
                    "%(rows)s rows) and %(documents)s documents."
                )
                % {
                    "path": result.path,
                    "megabytes": backups.megabytes(result.size),
                    "seconds": result.seconds,
                    "tables": result.tables,
                    "rows": result.rows,
                    "documents": result.documents,
                }
            )
        )
