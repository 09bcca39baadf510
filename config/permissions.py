"""Who may ask the project-wide views in config/. Every view asks here, as in each app."""

from __future__ import annotations

from django.http import HttpRequest


def can_probe_health(request: HttpRequest) -> bool:
    """Public: a load balancer or a monitor probes /healthz without an account or a session. The
    answer says only whether the database and Redis answer, nothing about the data or the setup."""
    return True
