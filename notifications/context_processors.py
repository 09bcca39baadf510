from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications import services


def unread(request: HttpRequest) -> dict[str, Any]:
    """The unread count in the navigation: lazy, and cached (no query on most pages)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_unread_notifications": SimpleLazyObject(lambda: services.unread_count(user))}
