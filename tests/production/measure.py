"""The student home's speed at 4 concurrent clients: through nginx over HTTPS on deploy/'s stack,
beside the same page from `make run`'s server, on one seeded database. Prints requests per second,
p50 and p99 (wrk's figures; Debian: apt-get install wrk).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m tests.production.measure

DATABASE_URL is a superuser's, on the maintenance database: the stack makes its own database and
roles from deploy/postgres-roles.sql and drops them at the end (tests/production/stack.py). The
stack serves as the app role with DEBUG off; `make run` (scripts/run.py: runserver, DEBUG on) is
started on the same database as the superuser, with its own Redis database, as it would run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.production.stack import ROOT, Browser, Stack, free_port, wait_for

STUDENT = "student@demo.checkoff.test"
PASSWORD = "checkoff-demo"  # seed_demo's published password
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    load: float = 0.0  # the machine's 1-minute load average when the run ended (others' work included)


def wrk(url: str, cookie: str, *, seconds: int, connections: int) -> Figures:
    """wrk's run at `connections` clients (two threads), every response checked to be a 2xx."""
    command = [shutil.which("wrk") or "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
               "-H", f"Cookie: {cookie}", url]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    assert "Non-2xx" not in output, f"some answers were not pages:\n{output}"
    percentile = {
        name: float(value) * UNITS_MS[unit]
        for name, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    }
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    assert rate and total and set(percentile) == {"50", "99"}, output
    return Figures(float(rate.group(1)), percentile["50"], percentile["99"], int(total.group(1)), os.getloadavg()[0])


def gunicorn_median_ms(log: str) -> float:
    """The median time gunicorn's access lines give for the student home (deploy's log format ends
    `<ms>ms [<request id>]`): the app's own share of the latency nginx and TLS add to."""
    times = sorted(int(ms) for ms in re.findall(r'"GET / HTTP/1\.[01]" 200 \d+ (\d+)ms', log))
    assert times, "no access lines for GET / in gunicorn's log"
    return float(times[len(times) // 2])


def signed_in_cookie(browser: Browser) -> str:
    browser.sign_in(STUDENT, PASSWORD)
    home = browser.get("/")
    assert (home.status, home.url) == (200, "/"), (home.status, home.url)
    return f"sessionid={browser.cookies['sessionid']}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.production.measure", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of each timed run (after a 3 s warm-up)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent clients")
    arguments = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url or not shutil.which("wrk"):
        parser.error("needs DATABASE_URL (a superuser's, see above) and wrk on PATH")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()  # the SMTP sink and the stack's helpers import the app's modules

    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="stack_measure_") as folder, Stack(Path(folder), admin_url) as stack:
        stack.start()
        stack.wait_seeded()
        assert "no issues" in stack.check_deploy()
        cookie = signed_in_cookie(stack.browser())
        stack_url = f"https://127.0.0.1:{stack.https_port}/"
        wrk(stack_url, cookie, seconds=3, connections=arguments.connections)
        results["stack: nginx + TLS + gunicorn (4 workers)"] = wrk(
            stack_url, cookie, seconds=arguments.seconds, connections=arguments.connections
        )
        app_ms = gunicorn_median_ms(stack.processes.output("gunicorn"))
        stack_cookie = cookie

        port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": stack.database.superuser_url,
            "REDIS_URL": stack.redis.url(1),
            "PORT": str(port),
        }
        stack.processes.start("make-run", [sys.executable, str(ROOT / "scripts" / "run.py")], env=environment)
        development = Browser(port, None)

        def serving() -> bool:
            try:
                return development.get("/accounts/login/").status == 200
            except OSError:
                return False

        assert wait_for(serving, 300), stack.processes.output("make-run")[-3000:]
        cookie = signed_in_cookie(development)
        url = f"http://127.0.0.1:{port}/"
        wrk(url, cookie, seconds=3, connections=arguments.connections)
        results["make run: runserver, DEBUG on"] = wrk(
            url, cookie, seconds=arguments.seconds, connections=arguments.connections
        )
        # The stack once more, with make run idle beside it: how much the machine's own load moved the figures.
        results["stack again"] = wrk(
            stack_url, stack_cookie, seconds=arguments.seconds, connections=arguments.connections
        )

    print(f"\nGET / as {STUDENT}, {arguments.connections} concurrent clients, {arguments.seconds} s each")
    print(f"{'server':45} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'load':>6}")
    for name, figures in results.items():
        print(
            f"{name:45} {figures.requests_per_second:8.1f} {figures.p50_ms:8.1f} {figures.p99_ms:8.1f} "
            f"{figures.requests:9d} {figures.load:6.1f}"
        )
    print(f"gunicorn's own median time for GET / in the first stack run: {app_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
