"""A new program starts with its own copy of the reference certification tracks."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from certifications import defaults
from curriculum.models import Program


@receiver(post_save, sender=Program, dispatch_uid="certifications-program-tracks")
def program_tracks(sender: type[Program], instance: Program, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        defaults.install_tracks(instance)
