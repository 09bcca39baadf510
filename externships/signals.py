"""A new program starts with the reference compliance requirements and evaluation forms."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from curriculum.models import Program
from externships import defaults


@receiver(post_save, sender=Program, dispatch_uid="externships-program-defaults")
def program_defaults(sender: type[Program], instance: Program, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        defaults.install(instance)
