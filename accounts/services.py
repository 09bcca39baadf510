from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import tasks, tokens
from accounts.models import Invitation, User
from config import bulk

logger = logging.getLogger(__name__)

INVITATION_BATCH = 200


@transaction.atomic
def invite_users(*, users: Iterable[User], invited_by: User | None) -> list[Invitation]:
    """Create an invitation per person and send them after commit, in batches."""
    users = list(users)
    # Ids rather than instances: a roster import invites thousands at once, and assigning related
    # instances costs a check per row.
    invited_by_id = invited_by.pk if invited_by else None
    now = timezone.now()
    # One array a column (config.bulk): bulk_create's preparation of every cell cost more than the
    # database's work when a roster import invites thousands.
    bulk.insert_from_arrays(
        [EmailAddress(user_id=user.pk, email=user.email, primary=True, verified=False) for user in users],
        now,
        ignore_conflicts=True,
    )
    invitations = [Invitation(user_id=user.pk, invited_by_id=invited_by_id, created_at=now) for user in users]
    bulk.insert_from_arrays(invitations, now)
    ids = [invitation.pk for invitation in invitations]
    for start in range(0, len(ids), INVITATION_BATCH):
        batch = ids[start : start + INVITATION_BATCH]
        transaction.on_commit(lambda batch=batch: tasks.enqueue_invitations(batch))  # type: ignore[misc]
    return invitations


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("accounts:accept-invitation", args=[tokens.make_token(invitation.pk)])


def send_invitation(*, invitation_id: int) -> bool:
    """Send one invitation email unless it was sent already; safe to run twice or concurrently."""
    now = timezone.now()
    if Invitation.objects.claimable(now).filter(pk=invitation_id).update(claimed_at=now) != 1:
        return False
    invitation = Invitation.objects.select_related("user", "invited_by").get(pk=invitation_id)
    user = invitation.user
    context = {
        "invitation": invitation,
        "user": user,
        "url": invitation_url(invitation),
        "invitation_days": settings.INVITATION_VALID_DAYS,
    }
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        text = render_to_string("emails/invitation.txt", context)
        html = render_to_string("emails/invitation.html", context)
    message = EmailMultiAlternatives(subject, text, to=[user.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        Invitation.objects.filter(pk=invitation_id).update(claimed_at=None)
        raise
    Invitation.objects.filter(pk=invitation_id).update(sent_at=timezone.now())
    return True


def pending_invitation_ids(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Invitations whose email has not left: lost tasks, Redis outages, a worker killed mid-send."""
    now = timezone.now()
    return list(
        Invitation.objects.claimable(now).filter(created_at__lt=now - older_than).values_list("pk", flat=True)[:5000]
    )


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str) -> User:
    """Set the person's password; the invitation proved they own the address, so it is verified."""
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    Invitation.objects.filter(user=user, accepted_at__isnull=True).update(accepted_at=timezone.now())
    return user
