"""The account emails that leave through the outbox: the invitation to choose a password.

Listed in `settings.REMINDER_PROVIDERS` beside the domain apps' reminders; there is nothing to plan,
only a kind, sent when `services.invite` writes it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.kinds import Kind, NotWanted

INVITATION = "invitation"


def invitation_letter(context: dict[str, Any]) -> dict[str, Any]:
    """What the invitation's templates need, at the moment it is sent: its one-time link."""
    from accounts.models import Invitation
    from accounts.services import invitation_url

    invitation = Invitation.objects.filter(pk=context["invitation_id"]).first()
    if invitation is None:
        raise NotWanted("the invitation no longer exists")
    if invitation.accepted_at is not None:
        raise NotWanted("the invitation was accepted before it was sent")
    return {
        "invitation": invitation,
        "url": invitation_url(invitation),
        "invitation_days": settings.INVITATION_VALID_DAYS,
    }


KINDS = [
    Kind(
        key=INVITATION,
        audience=_("New accounts"),
        label=_("An invitation to choose a password"),
        title=_("You are invited to Checkoff"),
        body=_("Choose your password to sign in."),
        action=_("Choose your password"),
        offsets=(),
        offsets_mean=_("sent when it happens"),
        event=True,
        account=True,
        template="emails/invitation",
        letter_context=invitation_letter,
    ),
]
