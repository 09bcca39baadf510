from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(SMTPException, ConnectionError), retry_backoff=True, max_retries=10)
def send_invitations(invitation_ids: list[int]) -> None:
    from accounts import services

    for invitation_id in invitation_ids:
        services.send_invitation(invitation_id=invitation_id)


@shared_task
def send_pending_invitations() -> None:
    """Beat's sweep: anything an enqueue lost (Redis down, worker killed) is sent now."""
    from accounts import services

    ids = services.pending_invitation_ids()
    for start in range(0, len(ids), services.INVITATION_BATCH):
        send_invitations.delay(ids[start : start + services.INVITATION_BATCH])


def enqueue_invitations(invitation_ids: list[int]) -> None:
    """Queue sending after commit. If the broker is down the rows wait for the sweeper; the page goes on."""
    try:
        send_invitations.delay(invitation_ids)
    except Exception:
        logger.warning("Could not queue %d invitations; the sweeper will send them", len(invitation_ids), exc_info=True)
