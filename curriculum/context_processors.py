from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from curriculum.models import StaffRole


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar offers: one query, for signed-in people only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_is_staff": StaffRole.objects.filter(user=user).exists()}
