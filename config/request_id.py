"""One id per request, on every log line the request causes, and in its response's X-Request-ID.

nginx passes its own `$request_id` (deploy/nginx/checkoff.conf) and logs it too, so one id finds a
request in nginx's log, gunicorn's access log and the app's lines. A header that does not look like
an id (too long, odd characters: a client may send anything) is replaced by a fresh one rather than
written into the logs. Celery tasks queued while a request is handled carry its id to the worker, so
a reminder sent because of a click is found under that click's id.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")
NONE = "-"

current: ContextVar[str] = ContextVar("request_id", default=NONE)


def sane_or_new(value: str | None) -> str:
    """The id a client or proxy sent when it is a plain token; a new random one otherwise."""
    if value and SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE: every later middleware's and the view's log lines carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = sane_or_new(request.headers.get(HEADER))
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or "-" outside any request) on each record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current.get()
        return True


class SingleLineFormatter(logging.Formatter):
    """One event, one line: a traceback or a message with newlines is folded onto its line (newlines
    escaped), so a log shipper that splits on lines never cuts an event in two or lets a user-supplied
    newline forge a second event."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


# --- Celery: a task queued during a request runs under that request's id --------------------------


def _headers_with_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = current.get()
    if headers is not None and request_id != NONE:
        headers.setdefault("request_id", request_id)


def _task_starts(task: Any = None, **_: Any) -> None:
    request_id = getattr(getattr(task, "request", None), "request_id", None)
    current.set(sane_or_new(request_id) if request_id else NONE)


def connect_celery_signals() -> None:
    """Called by config/celery.py: publishing adds the id as a message header, the worker reads it back."""
    from celery.signals import before_task_publish, task_prerun

    before_task_publish.connect(_headers_with_request_id, weak=False)
    task_prerun.connect(_task_starts, weak=False)
