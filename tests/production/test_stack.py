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
director sends again from the outbox; pages carry HSTS and the CSP; the failed sign-in limit counts
per real client address behind the proxy. The setup itself is tests/production/stack.py's `Stack`.

Slow parts run side by side (the seed with the servers' start and `check --deploy`); what remains is
migrate then seed_demo (about 8 s and 35 s on an idle two-core machine), then under 20 s of use.
With other suites sharing the machine it took 2 to 2.5 minutes. Run it alone with `pytest -m stack`.
"""

from __future__ import annotations

import http.client
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest
from django.conf import settings as django_settings

from tests.production.stack import Browser, Stack, wait_for

pytestmark = pytest.mark.stack

DEMO_PASSWORD = "checkoff-demo"  # seed_demo's published password
STUDENT = "student@demo.checkoff.test"
INSTRUCTOR = "instructor@demo.checkoff.test"
PRECEPTOR = "preceptor@demo.checkoff.test"
DIRECTOR = "director@demo.checkoff.test"
TOO_MANY = "Too many failed login attempts"


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    content = io.BytesIO()
    page = canvas.Canvas(content)
    page.drawString(72, 720, "Measles, mumps and rubella: immune (titer), for the stack test.")
    page.save()
    return content.getvalue()


def _admin_url() -> str:
    """The test run's own role (a superuser: the administrator who runs postgres-roles.sql), on the
    server's maintenance database."""
    given = django_settings.DATABASES["default"]
    password = f":{given['PASSWORD']}" if given.get("PASSWORD") else ""
    return f"postgresql://{given['USER']}{password}@{given['HOST']}:{given['PORT']}/postgres"


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    # Three failed sign-ins a minute per address, so the limit shows within the test.
    with Stack(tmp_path, _admin_url(), settings={"RATE_LIMIT_LOGIN_FAILED": "3/m/ip,5/5m/key"}) as running:
        yield running


def test_the_deployed_stack_serves_people_over_https(stack):
    settings, processes, database, sink = stack.settings, stack.processes, stack.database, stack.sink
    lap = stack.lap
    assert settings["DEBUG"] == "0"
    assert settings["PROXY_HOPS"] == "1", "nginx alone appends one X-Forwarded-For hop"
    assert settings["RATE_LIMIT_LOGIN_FAILED"] == "3/m/ip,5/5m/key"
    stack.start()

    # --- The least-privilege role: it cannot switch the triggers off.
    with psycopg.connect(database.app_url) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("SET session_replication_role = replica")
        connection.rollback()
        role = connection.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert role.fetchone() == (False, False, False)

    probe = stack.browser()
    assert probe.get("/healthz").json() == {"status": "ok", "database": "ok", "redis": "ok"}

    # Plain HTTP is sent to HTTPS by nginx.
    plain = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
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

    check = stack.check_deploy()
    assert "System check identified no issues" in check, check
    stack.wait_seeded()

    # --- A student's home: HSTS, the CSP, a request id that is in gunicorn's and nginx's logs.
    student = stack.browser("127.0.0.2")
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
    assert wait_for(lambda: request_id in (stack.folder / "nginx" / "checkoff.access.log").read_text(), 10)

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
        # A shift waiting for the demo preceptor (the demo student is months from her externship).
        shift_id = admin.execute(
            """
            SELECT entry.id FROM externships_hoursentry AS entry
            JOIN externships_placement AS placement ON placement.id = entry.placement_id
            JOIN externships_preceptor AS preceptor ON preceptor.id = placement.preceptor_id
            JOIN accounts_user AS person ON person.id = preceptor.user_id
            WHERE person.email = %s AND entry.state = 'submitted' ORDER BY entry.id LIMIT 1
            """,
            [PRECEPTOR],
        ).fetchone()[0]

    # --- The instructor records a check-off and signs it.
    instructor = stack.browser("127.0.0.3")
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
    preceptor = stack.browser("127.0.0.4")
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
    assert any(path.is_file() for path in stack.private_root.rglob("*")), "the document is under PRIVATE_MEDIA_ROOT"
    # Someone else's session cannot fetch it.
    assert preceptor.get(f"/compliance/records/{record_id}/document/").status == 404
    lap("document served")

    # --- Reminders: planned by the administrator's command, sent by the worker (beat starts its sender
    # every few seconds) to the SMTP server; then the director sends one again from the program's outbox.
    stack.manage("plan", "plan_reminders")

    def delivered() -> list[int]:
        """Reminders the SMTP server received and the database marks sent."""
        received = sink.message_ids()
        with database.admin() as admin:
            sent = admin.execute("SELECT id FROM notifications_message WHERE state = 'sent' ORDER BY id").fetchall()
        return [reminder_id for (reminder_id,) in sent if reminder_id in received]

    assert wait_for(lambda: bool(delivered()), 30), processes.output("worker")[-3000:]
    first = delivered()[0]
    director = stack.browser("127.0.0.7")
    director.sign_in(DIRECTOR, DEMO_PASSWORD)
    with database.admin() as admin:
        (code,) = admin.execute(
            "SELECT program.code FROM curriculum_program AS program "
            "JOIN notifications_message AS message ON message.program_id = program.id WHERE message.id = %s",
            [first],
        ).fetchone()
    queued = director.post(f"/programs/{code}/reminders/{first}/resend/", {}, follow=False)
    assert queued.status == 302, queued.problems
    again = director.get(queued.headers["Location"])
    assert "The message is on its way again" in again.text, again.problems
    with database.admin() as admin:
        (copy,) = admin.execute("SELECT id FROM notifications_message WHERE resent_from_id = %s", [first]).fetchone()
    assert wait_for(lambda: copy in delivered(), 30), processes.output("worker")[-3000:]
    # The worker's lines for the task that request queued carry the request's id.
    assert wait_for(lambda: queued.headers["X-Request-ID"] in processes.output("worker"), 10)
    lap("reminder delivered")
    # Beat runs its schedule: the sender every few seconds, from the start.
    assert wait_for(lambda: "send-outbox" in processes.output("beat"), 35), processes.output("beat")

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

    guesser = stack.browser("127.0.0.5")
    for number in range(3):
        assert TOO_MANY not in failed_sign_in(guesser, number)
    assert TOO_MANY in failed_sign_in(guesser, 3)
    # Writing its own X-Forwarded-For does not make it someone else.
    assert TOO_MANY in failed_sign_in(guesser, 4, **{"X-Forwarded-For": "198.51.100.77"})
    # Another client, through the same nginx, is not limited by the first one's failures.
    assert TOO_MANY not in failed_sign_in(stack.browser("127.0.0.6"), 5)

    for name in ("gunicorn", "worker", "beat", "nginx", "redis"):
        assert processes.alive(name), f"{name} stopped:\n{processes.output(name)[-3000:]}"
    assert "Traceback" not in processes.output("gunicorn"), processes.output("gunicorn")[-5000:]
