"""What the tests through a real Celery worker share: pointing this process's Celery elsewhere, and
waiting for a condition with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from config.celery import app as celery_app


@contextmanager
def celery_setting(name: str, value: object) -> Iterator[None]:
    before = celery_app.conf[name]
    celery_app.conf[name] = value
    try:
        yield
    finally:
        celery_app.conf[name] = before


def _forget_broker_connections() -> None:
    """Drop this app's references to its pools (kombu keeps one per broker URL, shared, still open)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery at another broker, with no connection kept from before."""
    with celery_setting("broker_url", url):
        _forget_broker_connections()
        try:
            yield
        finally:
            _forget_broker_connections()


def wait_for(condition: Callable[[], bool], seconds: float = 30, interval: float = 0.05) -> bool:
    """Poll until the condition holds or the deadline passes; the last look decides."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
