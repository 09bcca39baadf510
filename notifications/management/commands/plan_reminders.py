"""Plan what is due into the outbox, as beat does every 15 minutes: `manage.py plan_reminders`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications import planner


class Command(BaseCommand):
    help = "Ask every domain app what is due and write it into the reminder outbox once."

    def handle(self, *args: Any, **options: Any) -> None:
        result = planner.plan()
        self.stdout.write(
            f"{result.due} due by the horizon: {result.planned} newly planned, {result.cancelled} cancelled "
            f"(no longer due), in {result.seconds:.2f} s."
        )
