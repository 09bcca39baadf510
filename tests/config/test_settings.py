"""Settings that only show in real processes: how many database connections a server keeps open."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection
from django.test import Client

from tests import factories

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_connections(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name])
        return cursor.fetchone()[0]


def connections_after_page_views(views: int, **environment: str) -> int:
    """Start `manage.py runserver` as `make run` does (threaded, no reloader) on the test database, view a
    page that reads the database `views` times, each over its own TCP connection as browsers do, and
    return the most database connections the server held at once (counted every 10 views)."""
    user = factories.UserFactory()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    application_name = f"checkoff-runserver-{uuid.uuid4().hex[:12]}"
    address = urlsplit(settings.DATABASE_URL)
    query = urlencode([*parse_qsl(address.query), ("application_name", application_name)])
    database_url = urlunsplit((address.scheme, address.netloc, f"/{connection.settings_dict['NAME']}", query, ""))
    port = free_port()
    server_environment = {key: value for key, value in os.environ.items() if key != "CONN_MAX_AGE"}
    server_environment.update(DATABASE_URL=database_url, **environment)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=server_environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.1)
        # A signed-in request reads its session and user before anything else; a missing page is the
        # cheapest one that does.
        page = urllib.request.Request(
            f"http://127.0.0.1:{port}/no-such-page/",
            headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
        )
        most = 0
        for view in range(1, views + 1):
            try:
                urllib.request.urlopen(page, timeout=10)  # noqa: S310 (our own server)
            except urllib.error.HTTPError as error:
                assert error.code == 404
            if view % 10 == 0:
                most = max(most, server_connections(application_name))
        return most
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_development_server_keeps_no_database_connection_per_page_view(transactional_db):
    assert connections_after_page_views(300) <= 2


def test_persistent_connections_under_the_development_server_would_pile_up(transactional_db):
    """What the test above guards against: each request thread of runserver opens its own connection."""
    assert connections_after_page_views(60, CONN_MAX_AGE="60") >= 6
