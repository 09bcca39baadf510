"""Invitation links: a signed, expiring token naming one invitation."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SALT = "accounts.invitation"


def make_token(invitation_id: int) -> str:
    return signing.dumps(invitation_id, salt=SALT, compress=True)


def read_token(token: str) -> int | None:
    """The invitation id, or None for a forged, mangled or expired token."""
    try:
        value = signing.loads(token, salt=SALT, max_age=settings.INVITATION_VALID_DAYS * 24 * 3600)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None
