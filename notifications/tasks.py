"""Thin Celery wrappers: each takes ids or nothing, calls a service, and is safe to run twice."""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

MAX_RETRIES = 8


@shared_task
def plan_reminders() -> int:
    from notifications import planner

    return planner.plan().planned


@shared_task
def dispatch_reminders() -> int:
    """Beat's dispatcher: claim what is due and queue it on the mail queue, batch by batch."""
    from notifications import services

    return services.dispatch_due()


@shared_task
def sweep_reminders() -> int:
    from notifications import services

    return services.sweep()


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def send_reminders(self: Task, reminder_ids: list[int]) -> int:
    """Send a claimed batch. A mail failure retries the batch with backoff (what was sent is skipped);
    the last try marks what still fails as failed, with the reason."""
    from notifications import services

    final_try = self.request.retries >= MAX_RETRIES
    try:
        return services.send_reminders(reminder_ids, final_try=final_try)
    except (SMTPException, OSError) as error:
        raise self.retry(exc=error, countdown=min(600, 5 * 2**self.request.retries)) from error


@worker_shutdown.connect
@worker_process_shutdown.connect
def close_marking_connection(**kwargs: Any) -> None:
    """The sender's marking thread keeps a connection for the life of the worker: closed with it."""
    from notifications import services

    services.stop_marking()
