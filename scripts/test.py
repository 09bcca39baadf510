"""`make test`: the whole suite, against the given PostgreSQL and Redis or private ones under .data/.

The suite runs on as many processes as the machine has cores, up to four (pytest-xdist; TEST_PROCESSES
overrides, 0 runs it in this one): each process has a test database of its own (pytest-django adds the
worker's name to it) and its own cache prefix, and browsers and servers on ports of their own. Tests that
share a fixture wider than one test (a module's, a package's) carry `xdist_group` and run in one process.

Private servers start only when asked (EMBEDDED_SERVICES=1, which `make test` sets) for a URL that is
unset. Those started here are stopped again at the end; ones that were already running are left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from config import embedded

    environment = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not environment.get(name) and not embedded.asked(environment):
            print(embedded.not_asked_message(name), file=sys.stderr)
            return 2
    started: list[str] = []
    before = embedded.running()
    if not environment.get("DATABASE_URL"):
        environment["DATABASE_URL"] = embedded.postgres_url()
        if not before["postgres"]:
            started.append("postgres")
    if not environment.get("REDIS_URL"):
        environment["REDIS_URL"] = embedded.redis_url()
        if not before["redis"]:
            started.append("redis")
    processes = environment.get("TEST_PROCESSES") or str(min(len(os.sched_getaffinity(0)), 4))
    parallel = ["-n", processes, "--dist", "loadgroup"] if processes != "0" else []
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *parallel, *sys.argv[1:]], cwd=ROOT, env=environment)
    finally:
        if "redis" in started:
            embedded.stop_redis()
        if "postgres" in started:
            embedded.stop_postgres()


if __name__ == "__main__":
    sys.exit(main())
