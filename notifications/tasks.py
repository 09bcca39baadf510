"""Thin Celery wrappers: each takes ids or nothing, calls a service, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task
def plan_reminders() -> int:
    from notifications import planner

    return planner.plan().planned


@shared_task
def send_outbox() -> int:
    """The one sender: beat starts it every few seconds, `notify` after commit. Several at once each
    take their own rows."""
    from notifications import services

    return services.send_due()
