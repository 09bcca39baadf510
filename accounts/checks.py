"""`manage.py check --deploy`: the key that seals signed records is set on purpose and is the one
that sealed them.

Every chain head and signed row is keyed with SIGNATURE_KEY. Left unset it falls back on SECRET_KEY,
which deployments rotate; with another key every existing record stops verifying, and nothing more
can be recorded for any student who has a chain (README.md, "Tamper evidence").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Error as CheckError
from django.core.checks import Warning as CheckWarning
from django.db import Error as DatabaseError

# The most recently moved heads: a key that seals none of them is not the key that sealed the records.
SAMPLE = 20


@register(Tags.security, deploy=True)
def check_signature_key(
    app_configs: Sequence[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when SIGNATURE_KEY falls back on SECRET_KEY; fail when it does not seal the stored records."""
    from accounts.models import ChainHead

    messages: list[CheckMessage] = []
    if settings.SIGNATURE_KEY == settings.SECRET_KEY:
        messages.append(
            CheckWarning(
                "SIGNATURE_KEY is not set, so signed records are sealed with SECRET_KEY: rotating SECRET_KEY "
                "would make every signed record unverifiable and stop new ones being recorded.",
                hint="Set SIGNATURE_KEY to the current SECRET_KEY's value once, and never change it.",
                id="checkoff.W010",
            )
        )
    try:
        heads = list(ChainHead.objects.order_by("-pk")[:SAMPLE])
    except DatabaseError:
        return messages  # the database role check says the database cannot be reached
    if heads and not any(head.is_sealed() for head in heads):
        messages.append(
            CheckError(
                f"SIGNATURE_KEY does not seal any of the {len(heads)} most recent record chains: it is not the key "
                "the signed records were sealed with, and nothing more can be recorded for their students.",
                hint="Restore the SIGNATURE_KEY (or SECRET_KEY, if it was unset) the records were sealed with, "
                "then run manage.py verify_records.",
                id="checkoff.E010",
            )
        )
    return messages
