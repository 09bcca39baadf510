"""Pages: each role's home served as a school would serve it, beside the sign-in page.

The demo program is seeded into the bench's database, beside the outcomes bench's program of 10,000
students over eight years (so every table the homes read is large). gunicorn then serves the app
with production settings (DEBUG off, 4 workers, as deploy/checkoff-web.service starts it) on plain
HTTP: TLS and nginx cost every page the same and belong to the proxy. wrk, a load generator from
Debian's packages, asks for each page at 4 concurrent connections, signed in as its person.

Targets, from the figures of one run:
- each home serves at least half the requests per second of the sign-in page (a page with no data,
  the floor), with p99 no more than 4× its p50;
- each home costs at most 10 queries (counted in this process, through Django's test Client, on the
  same database), both as kept in the cache and when computed afresh after a write.

A home is kept in the cache until the records change (config/data_version.py), so wrk mostly meets kept
pages, as 300 students opening Checkoff at 8:00 would. The cost of computing one afresh, after any write,
is printed beside it: its queries and its time in this process (the median of RECOMPUTED_RUNS).
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import User
from bench import Figure, Run, median, register, test_client_host
from config import data_version

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = 10_000
CONNECTIONS = 4
SECONDS = 10
WARM_UP_SECONDS = 2
WORKERS = 4
DEMO_DOMAIN = "demo.checkoff.test"
ROLES = ("student", "instructor", "preceptor", "coordinator", "director")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
RECOMPUTED_RUNS = 15


@dataclass
class Load:
    """wrk's figures for one page."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    """DATABASE_URL, naming the bench's database rather than the one it was created beside."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + connection.settings_dict["NAME"], parts.query, ""))


def _server_environment(port: int, static_root: Path) -> dict[str, str]:
    """Production settings, as deploy/checkoff.env.example has them, on plain HTTP and this machine's paths."""
    return {
        **os.environ,
        "DEBUG": "0",
        "EMBEDDED_SERVICES": "0",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions signed in below are valid for the server
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(static_root),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }


def _get(port: int, path: str, cookie: str = "") -> int:
    """The status of one GET, redirects not followed."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        return client.getresponse().status
    finally:
        client.close()


class Server:
    """gunicorn with production settings on a free port, stopped on leaving."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.environment = _server_environment(self.port, folder / "static")
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=self.environment,
            check=True,
        )
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(WORKERS), "--timeout", "60"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(self.port, "/healthz") == 200:
                    return self
            except OSError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                break
        self.__exit__()
        raise RuntimeError("gunicorn did not start:\n" + self.log.read_text()[-3000:])

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def wrk(url: str, cookie: str, seconds: int) -> Load:
    """wrk at CONNECTIONS connections (two threads); every answer must be a 2xx page."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{url}: some answers were not pages:\n{output}")
    percentile = {
        name: float(value) * UNITS_MS[unit]
        for name, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    }
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not (rate and total and set(percentile) == {"50", "99"}):
        raise RuntimeError(f"wrk's output was not understood:\n{output}")
    return Load(float(rate.group(1)), percentile["50"], percentile["99"], int(total.group(1)))


def _seed() -> None:
    """The demo program, and the outcomes bench's 10,000 students beside it."""
    from bench.outcomes import _program

    with (
        tempfile.TemporaryDirectory(prefix="bench-demo-mail-") as mailbox,
        override_settings(DEBUG=True, DEMO_MAILBOX_DIR=mailbox),
    ):
        call_command("seed_demo", verbosity=0)
    _program(STUDENTS, random.Random(18))


def _signed_in(role: str) -> tuple[Client, str]:
    """A test Client signed in as the demo's person of this role, and the session cookie it holds:
    sessions live in the database, so the server accepts it too."""
    client = Client()
    client.force_login(User.objects.get(email=f"{role}@{DEMO_DOMAIN}"))
    return client, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _queries(client: Client, path: str, *, afresh: bool = False) -> int:
    with test_client_host():
        client.get(path)  # warm: the first request fills caches a later one finds
        if afresh:
            data_version.move()  # as any write does
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code} in the bench's own client")
    return len(captured)


def _recomputed_ms(client: Client, path: str) -> float:
    """The median time of the page computed afresh, in this process."""
    times = []
    with test_client_host():
        for _ in range(RECOMPUTED_RUNS):
            data_version.move()
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
    return median(times)


@register("pages", "each role's home under wrk against gunicorn (production settings), beside the sign-in page")
def pages(run: Run) -> list[Figure]:
    if not shutil.which("wrk"):
        raise RuntimeError("The pages bench needs wrk (Debian: apt-get install wrk; scripts/system-packages).")
    started = time.perf_counter()
    _seed()
    run.notes.append(f"demo and {STUDENTS:,} students seeded in {time.perf_counter() - started:.0f} s")
    people = {role: _signed_in(role) for role in ROLES}
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder, Server(Path(folder)) as server:
        for role, (_, cookie) in people.items():
            status = _get(server.port, "/", cookie)
            if status != 200:
                raise RuntimeError(f"the {role}'s home answered {status} from gunicorn")
        sign_in_url = server.url("/accounts/login/")
        wrk(sign_in_url, "", WARM_UP_SECONDS)
        floor = wrk(sign_in_url, "", SECONDS)
        figures += [
            Figure("sign-in page: requests/s", floor.requests_per_second, "req/s", note="the floor: no data"),
            Figure("sign-in page: p50", floor.p50_ms, "ms", note=f"p99 {floor.p99_ms:.0f} ms"),
        ]
        for role, (client, cookie) in people.items():
            wrk(server.url("/"), cookie, WARM_UP_SECONDS)
            load = wrk(server.url("/"), cookie, SECONDS)
            share = load.requests_per_second / floor.requests_per_second
            figures += [
                Figure(
                    f"{role} home: requests/s",
                    load.requests_per_second,
                    "req/s",
                    (">=", round(floor.requests_per_second / 2, 1)),
                    note=f"{share:.0%} of the sign-in page's; p50 {load.p50_ms:.0f} ms",
                ),
                Figure(
                    f"{role} home: p99 / p50",
                    round(load.p99_ms / load.p50_ms, 2),
                    "×",
                    ("<=", 4),
                    note=f"p99 {load.p99_ms:.0f} ms",
                ),
                Figure(f"{role} home: queries, kept", _queries(client, "/"), "", ("<=", 10)),
                Figure(
                    f"{role} home: queries, computed",
                    _queries(client, "/", afresh=True),
                    "",
                    ("<=", 10),
                    note=f"{_recomputed_ms(client, '/'):.0f} ms in this process, after a write",
                ),
            ]
    run.notes.append(
        f"wrk: {CONNECTIONS} connections, {SECONDS} s a page after {WARM_UP_SECONDS} s of warm-up; "
        f"gunicorn: {WORKERS} workers; {os.cpu_count()} CPUs"
    )
    return figures
