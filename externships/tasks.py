"""Externship background work: thin Celery wrappers that take ids and call a service."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(SMTPException, ConnectionError), retry_backoff=True, max_retries=10)
def send_preceptor_welcome(preceptor_id: int) -> None:
    from externships.services import sites

    sites.send_preceptor_welcome(preceptor_id=preceptor_id)


@shared_task
def send_owed_welcomes() -> None:
    """Beat's sweep: a welcome an enqueue lost (Redis down, worker killed) is sent now."""
    from externships.services import sites

    for preceptor_id in sites.owed_welcome_ids():
        send_preceptor_welcome.delay(preceptor_id)


def enqueue_preceptor_welcome(preceptor_id: int) -> None:
    """Queue the welcome after commit. With the broker down the page goes on and the row stays owed:
    the sweeper sends it."""
    try:
        send_preceptor_welcome.delay(preceptor_id)
    except Exception:
        logger.warning("Could not queue the welcome for preceptor %s; the sweeper will", preceptor_id, exc_info=True)
