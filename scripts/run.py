"""`make run`: private services, migrations, the demo program, then web, worker and beat together.

`make run` sets DEBUG=1 (the demo program exists only in development) and EMBEDDED_SERVICES=1, which
starts private PostgreSQL and Redis under .data/ for whichever of DATABASE_URL / REDIS_URL is unset.

Ctrl-C (or SIGTERM) stops the web server, worker and beat, and the private servers this run started.
Running it again reuses the data under .data/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from config import embedded

    port = os.environ.get("PORT", "8000")
    environment = dict(os.environ)
    environment.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    environment.setdefault("PYTHONUNBUFFERED", "1")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not environment.get(name) and not embedded.asked(environment):
            print(embedded.not_asked_message(name), file=sys.stderr)
            return 2
    before = embedded.running()
    started: list[str] = []
    if not environment.get("DATABASE_URL"):
        environment["DATABASE_URL"] = embedded.postgres_url()
        started += [] if before["postgres"] else ["postgres"]
        print(f"PostgreSQL (private, under .data/postgres): {environment['DATABASE_URL']}", flush=True)
    if not environment.get("REDIS_URL"):
        environment["REDIS_URL"] = embedded.redis_url()
        started += [] if before["redis"] else ["redis"]
        print(f"Redis (private Valkey, under .data/redis): {environment['REDIS_URL']}", flush=True)

    def manage(*arguments: str) -> None:
        subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment, check=True)

    children: list[subprocess.Popen[bytes]] = []

    def stop(*_arguments: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        # Be quick: whoever stops us may not wait long (a terminal's second Ctrl-C, a supervisor's KILL),
        # and the private servers must still be stopped after the processes that use them.
        deadline = time.monotonic() + 3
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if "redis" in started:
            embedded.stop_redis()
        if "postgres" in started:
            embedded.stop_postgres()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        manage("migrate", "--noinput")
        manage("load_framework")
        manage("seed_demo", "--if-empty")
        manage("plan_reminders")  # beat plans every 15 minutes; the first plan should not wait for it
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        children.append(
            subprocess.Popen(
                [*celery, "worker", "--queues", "celery,mail", "--concurrency", "2", "--loglevel", "INFO"],
                cwd=ROOT,
                env=environment,
            )
        )
        children.append(
            subprocess.Popen(
                [*celery, "beat", "--loglevel", "INFO", "--schedule", str(ROOT / ".data" / "celerybeat-schedule")],
                cwd=ROOT,
                env=environment,
            )
        )
        children.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=environment
            )
        )
        print(
            f"\nCheckoff is up on http://127.0.0.1:{port}/ — sign in as director@, coordinator@, instructor@, "
            "student@ or preceptor@demo.checkoff.test, password checkoff-demo. Emails (invitations, reminders): "
            "/dev/mailbox/. "
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A process stopped; stopping the rest.", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
