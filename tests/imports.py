"""Pressing Import in a test: the apply is queued after commit, and a test's transaction never
commits, so the queued task (eager in tests) runs when the request's callbacks are executed here."""

from __future__ import annotations

from typing import Any

from django.test import Client, TestCase


def post_applying(
    client: Client, url: str, data: dict[str, Any] | None = None, *, follow: bool = False, **extra: Any
) -> Any:
    """POST to an import's apply URL and run what it queued, as a worker would after the commit; with
    `follow`, then open the page it redirects to, as the browser does once the task has run."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, data or {}, **extra)
    if follow and response.status_code == 302:
        return client.get(response.url, follow=True)
    return response
