"""The failed sign-in limit counts per client address: behind PROXY_HOPS proxies, the address the
nearest proxy saw, the same one the access log records (accounts.models.client_address)."""

from __future__ import annotations

import pytest
from django.urls import reverse

TOO_MANY = "Too many failed login attempts"


@pytest.fixture
def three_failures_a_minute(settings, db):
    settings.PROXY_HOPS = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}


def fail(client, number: int, **meta: str) -> str:
    """A failed sign-in, each as a different unknown person (so only the address limit applies)."""
    response = client.post(
        reverse("account_login"), {"login": f"nobody{number}@school.test", "password": "wrong guess"}, **meta
    )
    assert response.status_code in (200, 429)
    return response.content.decode()


def test_each_client_behind_the_proxy_has_its_own_limit(client, three_failures_a_minute):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for number in range(3):
        assert TOO_MANY not in fail(client, number, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert TOO_MANY in fail(client, 3, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    # Another client through the same proxy is not limited by the first one's failures.
    assert TOO_MANY not in fail(client, 4, HTTP_X_FORWARDED_FOR="198.51.100.20", **proxy)


def test_a_forged_forwarded_for_does_not_escape_the_limit(client, three_failures_a_minute):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for number in range(3):
        fail(client, number, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    # The client wrote its own X-Forwarded-For; the proxy appended the address it really came from.
    assert TOO_MANY in fail(client, 3, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7", **proxy)


def test_without_proxies_the_socket_address_counts(client, settings, db):
    settings.PROXY_HOPS = 0
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}
    for number in range(3):
        fail(client, number, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    assert TOO_MANY in fail(client, 3, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.99")


def test_behind_a_proxy_a_request_without_its_header_is_refused(client, three_failures_a_minute):
    """With PROXY_HOPS set, a request that did not come through the proxy has no address to count."""
    response = client.post(
        reverse("account_login"), {"login": "nobody@school.test", "password": "wrong guess"}, REMOTE_ADDR="127.0.0.1"
    )
    assert response.status_code == 403
