"""Logs: one line per event, each with the id of the request that caused it (config/request_id.py)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse

from config import request_id

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    """The records the app's console handler would write, formatted by it, in order."""
    configured = logging.getLogger().handlers[0]
    kept: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(self.format(record))

    handler = Keep()
    handler.setFormatter(configured.formatter)
    for log_filter in configured.filters:
        handler.addFilter(log_filter)
    logging.getLogger().addHandler(handler)
    yield kept
    logging.getLogger().removeHandler(handler)


def test_a_requests_log_lines_carry_the_id_it_answers_with(client, lines, settings):
    # /healthz with Redis down logs a warning while it answers.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get(reverse("healthz"))
    given = response["X-Request-ID"]
    assert len(given) == 32
    warnings = [line for line in lines if "Redis did not answer" in line]
    assert warnings
    assert all(f"[{given}]" in line for line in warnings)


def test_a_sane_id_from_the_proxy_is_kept(client):
    response = client.get(reverse("healthz"), headers={"X-Request-ID": "0f3c9a7e5b1d4c2a8e6f0a1b2c3d4e5f"})
    assert response["X-Request-ID"] == "0f3c9a7e5b1d4c2a8e6f0a1b2c3d4e5f"


@pytest.mark.parametrize("sent", ["short", "has spaces in it", "x" * 65, "new\nline-forged", "<script>alert</script>"])
def test_anything_else_is_replaced_by_a_fresh_id(client, sent):
    answered = client.get(reverse("healthz"), headers={"X-Request-ID": sent})["X-Request-ID"]
    assert answered != sent
    assert request_id.SANE.fullmatch(answered)


def test_outside_a_request_the_id_is_a_dash(lines):
    logging.getLogger("checkoff.test").warning("no request here")
    assert lines[-1].endswith("WARNING checkoff.test [-] no request here")


def test_a_multi_line_event_stays_on_one_line(lines):
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        logging.getLogger("checkoff.test").exception("failed\nforged line")
    assert len(lines[-1].splitlines()) == 1
    assert "failed\\nforged line" in lines[-1]
    assert "Traceback" in lines[-1]
    assert "ValueError: first\\nsecond" in lines[-1]


def test_a_task_queued_during_a_request_carries_its_id():
    """The publish signal writes the id into the message headers the worker reads back."""
    headers: dict[str, str] = {}
    token = request_id.current.set("abcdef0123456789")
    try:
        request_id._headers_with_request_id(headers=headers)
    finally:
        request_id.current.reset(token)
    assert headers == {"request_id": "abcdef0123456789"}

    task = SimpleNamespace(request=SimpleNamespace(request_id="abcdef0123456789"))
    request_id._task_starts(task=task)
    assert request_id.current.get() == "abcdef0123456789"
    request_id.current.set(request_id.NONE)


def test_a_dsn_without_the_tracker_library_stops_startup_with_a_clear_message():
    """SENTRY_DSN set while sentry-sdk cannot be imported: settings refuse to load, and say why."""
    program = "import sys; sys.modules['sentry_sdk'] = None; import django; django.setup()"
    environment = {**os.environ, "SENTRY_DSN": "https://key@errors.example.org/1"}
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SENTRY_DSN is set but sentry-sdk is not installed" in result.stderr
