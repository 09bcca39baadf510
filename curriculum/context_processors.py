from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from curriculum.permissions import is_staff_member
from notifications.permissions import can_read_demo_mailbox


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar offers: one query, for signed-in people only."""
    user = getattr(request, "user", None)
    # In development the footer links the demo mailbox, where an invited student finds their link.
    shown: dict[str, Any] = {"nav_demo_mailbox": can_read_demo_mailbox()}
    if user is None or not user.is_authenticated:
        return shown
    return {**shown, "nav_is_staff": is_staff_member(user)}
