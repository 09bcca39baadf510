from __future__ import annotations

from django.conf import settings


def can_read_demo_mailbox() -> bool:
    """The demo mailbox exists only with DEBUG on, and is public then: a demo student must read
    their invitation before they can sign in. With DEBUG off no mail is kept at all."""
    return bool(settings.DEBUG)
