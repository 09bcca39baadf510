"""Send what is due in the outbox now, in this process, as the worker's sender does: for a machine
without a worker, or to see at once what a stuck outbox does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = "Send the outbox's due messages now, in this process, as the worker's sender does."

    def handle(self, *args: Any, **options: Any) -> None:
        settled = services.send_due(seconds=float("inf"))
        self.stdout.write(f"{settled} messages settled (sent, failed, cancelled or put off).")
