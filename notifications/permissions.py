from __future__ import annotations

from django.conf import settings

from accounts.models import User
from notifications.models import Notification, NotificationQuerySet


def can_read_demo_mailbox() -> bool:
    """The demo mailbox exists only with DEBUG on, and is public then: a demo student must read
    their invitation before they can sign in. With DEBUG off no mail is kept at all."""
    return bool(settings.DEBUG)


def visible_to(user: User) -> NotificationQuerySet:
    """A person sees their own notifications, and no one else's (staff included)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def can_choose_preferences(user: User) -> bool:
    """Anyone signed in chooses how they hear, for themselves only."""
    return bool(user.is_authenticated and user.is_active)
