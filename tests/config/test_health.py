"""/healthz: what a load balancer sees when the database and Redis answer, and when one does not."""

from __future__ import annotations

import json
import socket

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_both_services_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "redis": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_redis_unreachable_is_503_naming_it(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable", "database": "ok", "redis": "unreachable"}


def test_post_is_not_allowed(client):
    assert client.post(reverse("healthz")).status_code == 405


def test_no_session_is_started_or_needed(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_answers_over_plain_http_where_other_pages_redirect_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code == 200
    redirected = client.get(reverse("account_login"))
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
