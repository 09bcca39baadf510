"""Counting a page's queries, for the rule that a page costs the same at 1x and 5x the data."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_for(client, user, url) -> int:
    """The queries of one GET of the page as the person, after a first GET warmed the session."""
    client.force_login(user)
    client.get(url)  # warm the session's cached time zone, as every later request finds it
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)
