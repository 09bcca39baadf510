from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest

from accounts.models import User
from curriculum.models import Enrollment, StaffRole
from notifications.permissions import can_read_demo_mailbox


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar offers: one query, for signed-in people only, once a request (a page built
    of two renders, as the home is, asks twice). Staff get their programs; a student gets their own
    pages (check-offs, externship, documents, certification), which they otherwise reached only from
    their home page."""
    user = getattr(request, "user", None)
    # In development the footer links the demo mailbox, where an invited student finds their link.
    shown: dict[str, Any] = {"nav_demo_mailbox": can_read_demo_mailbox()}
    if user is None or not user.is_authenticated:
        return shown
    roles = getattr(request, "navigation_roles", None)
    if roles is None:
        roles = request.navigation_roles = _roles(user)  # type: ignore[attr-defined]
    return {**shown, "nav_is_staff": roles[0], "nav_is_student": roles[1] and not roles[0]}


def _roles(user: Any) -> tuple[bool, bool]:
    """(staff, student): whether the person holds a staff role, and whether they were ever enrolled."""
    found = (
        User.objects.filter(pk=user.pk)
        .annotate(
            staff=Exists(StaffRole.objects.filter(user=OuterRef("pk"))),
            student=Exists(Enrollment.objects.filter(student=OuterRef("pk"))),
        )
        .values_list("staff", "student")
        .first()
    )
    return (bool(found[0]), bool(found[1])) if found else (False, False)
