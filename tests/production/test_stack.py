"""The production stack of deploy/, started on this machine from its own files, used as people would.

An administrator's steps, in order: deploy/postgres-roles.sql creates a database and the owner and
app roles (with names of this run's own); `migrate` runs as the owner; the demo program is seeded
(as the owner: seed_demo runs only with DEBUG on, and the stack itself never runs with it); static
files are collected. Then gunicorn, the Celery worker and beat start with the ExecStart of their
deploy/*.service, as the app role, with deploy/checkoff.env.example's every setting filled in (DEBUG
off, real keys, PROXY_HOPS=1), and Debian's nginx serves deploy/nginx/checkoff.conf over TLS with
a self-signed certificate, in front of them. Only ports and paths are changed, each one checked.

Through nginx over HTTPS: a student, an instructor and a preceptor sign in; the instructor records
and signs a check-off, the preceptor approves a shift, the student uploads a compliance document and
gets it back; due reminders reach a local SMTP server through the worker, and so does one the
director sends again from the outbox; pages carry HSTS
and the CSP; the failed sign-in limit counts per real client address behind the proxy.

Slow parts run side by side (the seed with the servers' start); the test takes about a minute.
Run it alone with `pytest -m stack`.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings as django_settings

from notifications.mail_sink import MailSink
from tests.production.stack import (
    DEPLOY,
    Browser,
    Processes,
    binary,
    environment,
    environment_file,
    free_port,
    substituted,
    unit_command,
    wait_for,
)

pytestmark = pytest.mark.stack

DEMO_PASSWORD = "checkoff-demo"  # seed_demo's published password
STUDENT = "student@demo.checkoff.test"
INSTRUCTOR = "instructor@demo.checkoff.test"
PRECEPTOR = "preceptor@demo.checkoff.test"
DIRECTOR = "director@demo.checkoff.test"
TOO_MANY = "Too many failed login attempts"


def _admin_url(database: str = "postgres") -> str:
    """The test run's own role (a superuser, as the administrator who runs postgres-roles.sql), at
    first on the server's maintenance database."""
    given = django_settings.DATABASES["default"]
    password = f":{given['PASSWORD']}" if given.get("PASSWORD") else ""
    return f"postgresql://{given['USER']}{password}@{given['HOST']}:{given['PORT']}/{database}"


def _role_url(role: str, password: str, database: str) -> str:
    given = django_settings.DATABASES["default"]
    return f"postgresql://{role}:{password}@{given['HOST']}:{given['PORT']}/{database}"


class Database:
    """A database and its two roles, made by deploy/postgres-roles.sql and dropped again."""

    def __init__(self) -> None:
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
        command = [binary("psql"), _admin_url(), "--quiet", "-f", str(DEPLOY / "postgres-roles.sql")]
        for name, value in variables.items():
            command += ["-v", f"{name}={value}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr

    @property
    def owner_url(self) -> str:
        return _role_url(self.owner, self.owner_password, self.name)

    @property
    def app_url(self) -> str:
        return _role_url(self.app, self.app_password, self.name)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(_admin_url(self.name), autocommit=True)

    def drop(self) -> None:
        with psycopg.connect(_admin_url(), autocommit=True) as connection:
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

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as `openssl req` makes one (README: Run it in production)."""
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return certificate, key


def _start_nginx(processes: Processes, *, web_port: int, http_port: int, https_port: int, static_root: Path) -> None:
    """deploy/nginx/checkoff.conf inside a main configuration of the test's own (its pid file, logs and
    temporary folders in the test's folder), so nginx runs beside any system nginx, as this user."""
    folder = processes.folder / "nginx"
    folder.mkdir()
    certificate, key = _certificate(folder)
    site = substituted(
        (DEPLOY / "nginx" / "checkoff.conf").read_text(),
        {
            "listen [::]:80;\n": "",
            "listen [::]:443 ssl http2;\n": "",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "server 127.0.0.1:8000": f"server 127.0.0.1:{web_port}",
            "server_name checkoff.example.edu;": "server_name 127.0.0.1;",
            "/etc/letsencrypt/live/checkoff.example.edu/fullchain.pem": str(certificate),
            "/etc/letsencrypt/live/checkoff.example.edu/privkey.pem": str(key),
            "/var/log/nginx/": f"{folder}/",
            "/srv/checkoff/staticfiles/": f"{static_root}/",
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
    nginx = binary("nginx")
    command = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stderr
    processes.start("nginx", [*command, "-g", "daemon off;"], env=environment({}))


def _from_unit(unit: str, replacements: dict[str, str]) -> list[str]:
    """The unit's ExecStart with this machine's paths: its virtualenv, its folders, its port."""
    command, directory = unit_command(unit)
    assert directory == "/srv/checkoff", f"{unit}: WorkingDirectory moved; update this test"
    replacements = {"/srv/checkoff/.venv/bin/": f"{Path(sys.executable).parent}/", **replacements}
    return [substituted(argument, {k: v for k, v in replacements.items() if k in argument}) for argument in command]


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    content = io.BytesIO()
    page = canvas.Canvas(content)
    page.drawString(72, 720, "Measles, mumps and rubella: immune (titer), for the stack test.")
    page.save()
    return content.getvalue()


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def database() -> Iterator[Database]:
    made = Database()
    made.create()
    try:
        yield made
    finally:
        made.drop()


def test_the_deployed_stack_serves_people_over_https(processes, database, tmp_path):
    began = time.monotonic()

    def lap(what: str) -> None:
        print(f"{time.monotonic() - began:6.1f}s {what}")  # with -s: where the minute goes

    binary("nginx")  # fails now, with the package to install, rather than after a minute of setup
    web_port, http_port, https_port = free_port(), free_port(), free_port()
    broker = PrivateRedis(processes)
    static_root, private_root = tmp_path / "staticfiles", tmp_path / "private"

    with MailSink() as sink:
        # --- The environment file, filled in as an administrator fills it in.
        settings = environment_file()
        filled = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SIGNATURE_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"https://127.0.0.1:{https_port}",
            "DATABASE_URL": database.app_url,
            "REDIS_URL": broker.url,
            "CELERY_BROKER_URL": broker.url,
            "CACHE_KEY_PREFIX": "stack",
            "STATIC_ROOT": str(static_root),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "PRIVATE_MEDIA_ROOT": str(private_root),
            "EMAIL_HOST": sink.host,
            "EMAIL_PORT": str(sink.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "0",
            # Three failed sign-ins a minute per address, so the limit shows within the test.
            "RATE_LIMIT_LOGIN_FAILED": "3/m/ip,5/5m/key",
        }
        assert set(filled) <= set(settings), "the test fills in a setting the example file does not list"
        settings.update(filled)
        assert not [key for key, value in settings.items() if "CHANGE-ME" in value]
        assert settings["DEBUG"] == "0"
        assert settings["PROXY_HOPS"] == "1", "nginx alone appends one X-Forwarded-For hop"
        app = environment(settings)
        owner = environment({**settings, "DATABASE_URL": database.owner_url})
        manage = [sys.executable, "manage.py"]

        # --- An administrator's steps. collectstatic needs no database: it runs beside migrate.
        processes.start("collectstatic", [*manage, "collectstatic", "--noinput"], env=app)
        processes.run("migrate", [*manage, "migrate", "--noinput"], env=owner)
        lap("migrated")
        processes.start(
            "seed", ["bash", "-c", f"{shlex.quote(sys.executable)} manage.py load_framework && "
                             f"{shlex.quote(sys.executable)} manage.py seed_demo"],
            env={**owner, "DEBUG": "1"},
        )  # fmt: skip
        processes.start("check-deploy", [*manage, "check", "--deploy", "--fail-level", "WARNING"], env=app)

        # --- The least-privilege role: it cannot switch the triggers off.
        with psycopg.connect(database.app_url) as connection:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute("SET session_replication_role = replica")
            connection.rollback()
            role = connection.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
            assert role.fetchone() == (False, False, False)

        # --- The services, from the units' own commands, as the app role.
        var = tmp_path / "var"
        var.mkdir()
        processes.start(
            "gunicorn", _from_unit("checkoff-web.service", {"127.0.0.1:8000": f"127.0.0.1:{web_port}"}), env=app
        )
        processes.start("worker", _from_unit("checkoff-worker.service", {}), env=app)
        processes.start("beat", _from_unit("checkoff-beat.service", {"/var/lib/checkoff": str(var)}), env=app)
        processes.finish("collectstatic")
        _start_nginx(processes, web_port=web_port, http_port=http_port, https_port=https_port, static_root=static_root)

        certificate = tmp_path / "nginx" / "fullchain.pem"
        probe = Browser(https_port, certificate)

        def healthy() -> bool:
            try:
                return probe.get("/healthz").status == 200
            except OSError:
                return False

        assert wait_for(healthy, 30), processes.output("gunicorn") + processes.output("nginx")
        health = probe.get("/healthz")
        assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}
        lap("stack up")

        # Plain HTTP is sent to HTTPS by nginx.
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/my/compliance/")
        redirect = plain.getresponse()
        plain.close()
        assert redirect.status == 301
        assert redirect.headers["Location"] == "https://127.0.0.1/my/compliance/"

        # Static files come from nginx, hashed names, with HSTS like the app's pages.
        sign_in_page = probe.get("/accounts/login/")
        assert sign_in_page.status == 200
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', sign_in_page.text)
        assert stylesheet, "the sign-in page links no stylesheet"
        static = probe.get(stylesheet.group(1))
        assert static.status == 200
        assert "max-age=31536000" in static.headers["Strict-Transport-Security"]

        check = processes.finish("check-deploy")
        assert "System check identified no issues" in check, check
        processes.finish("seed", timeout=150)
        lap("seeded")

        # --- A student's home: HSTS, the CSP, a request id that is in gunicorn's and nginx's logs.
        student = Browser(https_port, certificate, source="127.0.0.2")
        student.sign_in(STUDENT, DEMO_PASSWORD)
        home = student.get("/")
        assert home.status == 200
        assert "max-age=31536000" in home.headers["Strict-Transport-Security"]
        policy = home.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        request_id = home.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id), "nginx's $request_id reaches the app"
        assert wait_for(lambda: request_id in processes.output("gunicorn"), 10)
        assert wait_for(lambda: request_id in (tmp_path / "nginx" / "checkoff.access.log").read_text(), 10)

        with database.admin() as admin:
            enrollment_id, competency_id, steps = admin.execute(
                """
                SELECT enrollment.id, step.competency_id, array_agg(step.id ORDER BY step."order")
                FROM curriculum_enrollment AS enrollment
                JOIN accounts_user AS person ON person.id = enrollment.student_id
                JOIN curriculum_cohort AS cohort ON cohort.id = enrollment.cohort_id
                JOIN curriculum_checkliststep AS step ON step.program_id = cohort.program_id
                JOIN curriculum_competency AS competency ON competency.id = step.competency_id
                WHERE person.email = %s AND competency.is_tracked AND competency.domain IN ('P', 'A')
                GROUP BY enrollment.id, step.competency_id ORDER BY step.competency_id LIMIT 1
                """,
                [STUDENT],
            ).fetchone()
            requirement_id = admin.execute(
                """
                SELECT requirement.id FROM externships_compliancerequirement AS requirement
                JOIN curriculum_enrollment AS enrollment ON enrollment.id = %s
                JOIN curriculum_cohort AS cohort ON cohort.id = enrollment.cohort_id
                WHERE requirement.program_id = cohort.program_id ORDER BY requirement.id LIMIT 1
                """,
                [enrollment_id],
            ).fetchone()[0]
            shift_id = admin.execute(
                """
                SELECT entry.id FROM externships_hoursentry AS entry
                JOIN accounts_user AS person ON person.id = entry.student_id
                WHERE person.email = %s AND entry.state = 'submitted' ORDER BY entry.id LIMIT 1
                """,
                [STUDENT],
            ).fetchone()[0]

        # --- The instructor records a check-off and signs it.
        instructor = Browser(https_port, certificate, source="127.0.0.3")
        instructor.sign_in(INSTRUCTOR, DEMO_PASSWORD)
        recorded = instructor.post(
            f"/enrollments/{enrollment_id}/competencies/{competency_id}/checkoff/",
            {"steps": [str(step) for step in steps], "setting": "lab", "performed_at": "", "comment": ""},
            follow=False,
        )
        assert recorded.status == 302, recorded.problems
        attempt_path = recorded.headers["Location"]
        attempt_id = int(re.fullmatch(r"/attempts/(\d+)/", attempt_path).group(1))
        signed = instructor.post(f"{attempt_path}sign/", {})
        # Signing asks for the password again (allauth's re-authentication), then goes on with the signing.
        assert signed.url.startswith("/accounts/reauthenticate/"), signed.url
        signed = instructor.post(signed.url, {"password": DEMO_PASSWORD})
        assert signed.status == 200
        assert "Signed." in signed.text, signed.problems
        with database.admin() as admin:
            signature = admin.execute(
                "SELECT signer.email FROM curriculum_signature AS signature "
                "JOIN accounts_user AS signer ON signer.id = signature.signer_id WHERE signature.attempt_id = %s",
                [attempt_id],
            ).fetchone()
            assert signature == (INSTRUCTOR,)
            # The access log recorded the instructor's own address, as nginx saw it: not nginx's.
            addresses = admin.execute(
                "SELECT DISTINCT host(ip_address) FROM accounts_accesslog AS log "
                "JOIN accounts_user AS actor ON actor.id = log.actor_id WHERE actor.email = %s AND log.action = 'sign'",
                [INSTRUCTOR],
            ).fetchall()
            assert ("127.0.0.3",) in addresses
        lap("check-off signed")

        # --- The preceptor approves a shift.
        preceptor = Browser(https_port, certificate, source="127.0.0.4")
        preceptor.sign_in(PRECEPTOR, DEMO_PASSWORD)
        approved = preceptor.post(f"/hours/{shift_id}/approve/", {})
        assert approved.status == 200
        assert "Shift approved." in approved.text, approved.problems
        with database.admin() as admin:
            assert admin.execute("SELECT state FROM externships_hoursentry WHERE id = %s", [shift_id]).fetchone() == (
                "approved",
            )

        # --- The student uploads a compliance document and gets the same bytes back.
        document = _pdf()
        uploaded = student.post(
            "/my/compliance/",
            # A week ago: "today" is the program's, whose time zone may still be on yesterday.
            {"requirement": str(requirement_id), "completed_on": (date.today() - timedelta(days=7)).isoformat()},
            files={"document": ("mmr-titer.pdf", "application/pdf", document)},
        )
        assert uploaded.status == 200
        assert "your document is uploaded and waits for review" in uploaded.text, uploaded.problems
        with database.admin() as admin:
            record_id = admin.execute(
                "SELECT record.id FROM externships_compliancerecord AS record "
                "JOIN accounts_user AS person ON person.id = record.student_id "
                "WHERE person.email = %s AND record.requirement_id = %s ORDER BY record.id DESC LIMIT 1",
                [STUDENT, requirement_id],
            ).fetchone()[0]
        served = student.get(f"/compliance/records/{record_id}/document/")
        assert served.status == 200
        assert served.body == document
        assert served.headers["Content-Type"] == "application/pdf"
        assert served.headers["Cache-Control"] == "private, no-store"
        assert any(path.is_file() for path in private_root.rglob("*")), "the document is under PRIVATE_MEDIA_ROOT"
        # Someone else's session cannot fetch it.
        assert preceptor.get(f"/compliance/records/{record_id}/document/").status == 404
        lap("document served")

        # --- Reminders: planned and dispatched by the administrator's commands, sent by the worker to
        # the SMTP server; then the director sends one again from the program's outbox.
        processes.run("plan", [*manage, "plan_reminders"], env=app)
        processes.run("dispatch", [*manage, "send_reminders", "--queue"], env=app)

        def delivered() -> list[int]:
            """Reminders the SMTP server received and the database marks sent."""
            received = sink.reminder_ids()
            with database.admin() as admin:
                sent = admin.execute(
                    "SELECT id FROM notifications_reminder WHERE state = 'sent' ORDER BY id"
                ).fetchall()
            return [reminder_id for (reminder_id,) in sent if reminder_id in received]

        assert wait_for(lambda: bool(delivered()), 30), processes.output("worker")[-3000:]
        first = delivered()[0]
        director = Browser(https_port, certificate, source="127.0.0.7")
        director.sign_in(DIRECTOR, DEMO_PASSWORD)
        with database.admin() as admin:
            (code,) = admin.execute(
                "SELECT program.code FROM curriculum_program AS program "
                "JOIN notifications_reminder AS reminder ON reminder.program_id = program.id WHERE reminder.id = %s",
                [first],
            ).fetchone()
        again = director.post(f"/programs/{code}/reminders/{first}/resend/", {})
        assert again.status == 200
        assert "The reminder is on its way again" in again.text, again.problems
        with database.admin() as admin:
            (copy,) = admin.execute(
                "SELECT id FROM notifications_reminder WHERE resent_from_id = %s", [first]
            ).fetchone()
        assert wait_for(lambda: copy in delivered(), 30), processes.output("worker")[-3000:]
        lap("reminder delivered")
        # Beat runs its schedule: the dispatcher every 30 seconds, from the start.
        assert wait_for(lambda: "dispatch-reminders" in processes.output("beat"), 35), processes.output("beat")

        # --- Failed sign-ins are limited per client address, as nginx saw it.
        def failed_sign_in(browser: Browser, number: int, **headers: str) -> str:
            browser.get("/accounts/login/")
            answer = browser.post(
                "/accounts/login/",
                {"login": f"nobody{number}@school.test", "password": "a wrong guess"},
                headers=headers,
            )
            assert answer.status in (200, 429)
            return answer.text

        guesser = Browser(https_port, certificate, source="127.0.0.5")
        for number in range(3):
            assert TOO_MANY not in failed_sign_in(guesser, number)
        assert TOO_MANY in failed_sign_in(guesser, 3)
        # Writing its own X-Forwarded-For does not make it someone else.
        assert TOO_MANY in failed_sign_in(guesser, 4, **{"X-Forwarded-For": "198.51.100.77"})
        # Another client, through the same nginx, is not limited by the first one's failures.
        assert TOO_MANY not in failed_sign_in(Browser(https_port, certificate, source="127.0.0.6"), 5)

        for name in ("gunicorn", "worker", "beat", "nginx", "redis"):
            assert processes.alive(name), f"{name} stopped:\n{processes.output(name)[-3000:]}"
        assert "Traceback" not in processes.output("gunicorn"), processes.output("gunicorn")[-5000:]
