"""The curriculum's background work: applying an import of any kind (see curriculum/imports.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(time_limit=settings.IMPORT_APPLY_TIME_LIMIT, acks_late=True)
def apply_import(kind: str, pk: int) -> None:
    """Apply a queued upload. Safe to run twice or at once: see imports.run_apply."""
    from curriculum import imports

    imports.run_apply(kind, pk)
