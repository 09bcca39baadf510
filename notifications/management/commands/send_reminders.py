"""Send what is due: `manage.py send_reminders` claims due reminders and sends them in this process
(no worker needed), or with --queue hands them to the Celery mail queue as beat does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications import services


class Command(BaseCommand):
    help = "Claim the due reminders and send them now (or queue them for the worker with --queue)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="store_true", help="Queue them for the Celery worker instead.")
        parser.add_argument("--sweep", action="store_true", help="First re-queue rows stuck mid-send.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sweep"]:
            self.stdout.write(f"{services.sweep()} stuck reminders re-queued.")
        if options["queue"]:
            self.stdout.write(f"{services.dispatch_due()} reminders queued for the worker.")
            return
        sent = claimed = 0
        while batch := services.claim_due(enqueue_after_commit=False):
            claimed += len(batch)
            sent += services.send_reminders(batch, final_try=True)
        self.stdout.write(f"{claimed} reminders claimed, {sent} sent.")
