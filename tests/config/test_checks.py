"""The deployment check of the database role, and the least-privilege roles of README.md, on the real
PostgreSQL: README's own SQL makes an owner and an app role for a throwaway database; the owner
creates the signed-records tables and their triggers as migrate would; the app role can do what the
app does and nothing that would switch the triggers off or fool them."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from psycopg import errors

from config.checks import check_database_role, role_messages

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "a-throwaway-role-secret"
SIGNED_RECORDS_TABLES = """
CREATE TABLE curriculum_attempt (id bigserial PRIMARY KEY, comment text NOT NULL DEFAULT '');
CREATE TABLE curriculum_stepresult (
    id bigserial PRIMARY KEY, attempt_id bigint NOT NULL REFERENCES curriculum_attempt, performed boolean NOT NULL
);
CREATE TABLE curriculum_signature (
    id bigserial PRIMARY KEY, attempt_id bigint NOT NULL UNIQUE REFERENCES curriculum_attempt, digest text NOT NULL
);
CREATE TABLE curriculum_revocation (
    id bigserial PRIMARY KEY, signature_id bigint NOT NULL REFERENCES curriculum_signature, reason text NOT NULL
);
"""


@dataclass
class Roles:
    database: str
    owner: str
    app: str

    def address(self, role: str) -> dict[str, Any]:
        settings = connection.settings_dict
        return {"host": settings["HOST"], "port": settings["PORT"] or 5432, "dbname": self.database, "user": role}

    def connect(self, role: str) -> psycopg.Connection[Any]:
        return psycopg.connect(**self.address(role), password=PASSWORD, autocommit=True)

    def django_connection(self, role: str) -> Any:
        """A Django connection as this role, for the check to look at."""
        settings = {**connection.settings_dict, "NAME": self.database, "USER": role, "PASSWORD": PASSWORD}
        return type(connections["default"])(settings, alias=f"as_{role}")

    def url(self, role: str) -> str:
        address = self.address(role)
        return f"postgresql://{role}:{PASSWORD}@{address['host']}:{address['port']}/{self.database}"


def readme_role_sql(owner: str, app: str, database: str) -> tuple[list[str], list[str]]:
    """README's "Database roles" SQL with these names: what runs before `\\connect`, and after it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Database roles", 1)[1]
    script = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert script, "README.md's Database roles section has no SQL"
    sql = script.group(1).replace("checkoff_owner", owner).replace("checkoff_app", app)
    sql = re.sub(r"\bDATABASE checkoff\b", f"DATABASE {database}", sql).replace("'owner-secret'", f"'{PASSWORD}'")
    sql = sql.replace("'app-secret'", f"'{PASSWORD}'")
    before, after = sql.split("\\connect checkoff", 1)

    def statements(text: str) -> list[str]:
        lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
        return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]

    return statements(before), statements(after)


@pytest.fixture
def roles(db) -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:10]
    made = Roles(database=f"checkoff_roles_{suffix}", owner=f"checkoff_owner_{suffix}", app=f"checkoff_app_{suffix}")
    settings = connection.settings_dict
    superuser = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )
    before, after = readme_role_sql(made.owner, made.app, made.database)
    try:
        for statement in before:
            superuser.execute(statement)
        with psycopg.connect(**{**made.address(settings["USER"]), "password": settings["PASSWORD"] or None}) as new:
            new.autocommit = True
            for statement in after:
                new.execute(statement)
        # What migrate does, as the owner: the signed-records tables and the triggers of the real migration.
        signed_records = importlib.import_module("curriculum.migrations.0003_signed_records_are_immutable")
        with made.connect(made.owner) as owner:
            owner.execute(SIGNED_RECORDS_TABLES)
            owner.execute(signed_records.REFUSE)
        yield made
    finally:
        superuser.execute(f"DROP DATABASE IF EXISTS {made.database} WITH (FORCE)")
        superuser.execute(f"DROP ROLE IF EXISTS {made.app}")
        superuser.execute(f"DROP ROLE IF EXISTS {made.owner}")
        superuser.close()


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_the_check_warns_when_the_app_connects_as_a_superuser(db):
    assert ids(check_database_role()) == ["checkoff.W001"]


def test_the_check_says_nothing_of_the_app_role(roles):
    as_app = roles.django_connection(roles.app)
    try:
        assert role_messages(as_app) == []
    finally:
        as_app.close()


def test_the_check_warns_when_the_app_connects_as_the_owner(roles):
    as_owner = roles.django_connection(roles.owner)
    try:
        assert "checkoff.W002" in ids(role_messages(as_owner))
    finally:
        as_owner.close()


def test_the_check_warns_and_does_not_fail_when_the_database_is_unreachable(db):
    settings = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": "9"}
    unreachable = type(connections["default"])(settings, alias="unreachable")
    assert ids(role_messages(unreachable)) == ["checkoff.W005"]


def test_the_app_role_reads_and_writes_rows(roles):
    with roles.connect(roles.app) as app:
        attempt = app.execute("INSERT INTO curriculum_attempt (comment) VALUES ('steady') RETURNING id").fetchone()[0]
        app.execute("INSERT INTO curriculum_stepresult (attempt_id, performed) VALUES (%s, true)", [attempt])
        app.execute("UPDATE curriculum_attempt SET comment = 'steady hands' WHERE id = %s", [attempt])
        app.execute("INSERT INTO curriculum_signature (attempt_id, digest) VALUES (%s, 'digest')", [attempt])
        assert app.execute("SELECT comment FROM curriculum_attempt").fetchall() == [("steady hands",)]


def test_the_app_role_cannot_switch_off_or_fool_the_triggers_on_signed_records(roles):
    with roles.connect(roles.app) as app:
        attempt = app.execute("INSERT INTO curriculum_attempt DEFAULT VALUES RETURNING id").fetchone()[0]
        app.execute("INSERT INTO curriculum_signature (attempt_id, digest) VALUES (%s, 'digest')", [attempt])
        with pytest.raises(errors.RestrictViolation):
            app.execute("UPDATE curriculum_attempt SET comment = 'changed' WHERE id = %s", [attempt])
        for way_around in (
            "SET session_replication_role = replica",
            "ALTER TABLE curriculum_signature DISABLE TRIGGER ALL",
            "ALTER TABLE curriculum_attempt DISABLE TRIGGER attempt_signed_is_immutable",
            "DROP TRIGGER signature_is_immutable ON curriculum_signature",
            "CREATE OR REPLACE FUNCTION checkoff_refuse_change() RETURNS trigger AS 'BEGIN RETURN NEW; END' "
            "LANGUAGE plpgsql",
            # A table named like the one the attempt's trigger reads, found before it: refused too.
            "CREATE TEMPORARY TABLE curriculum_signature (attempt_id bigint)",
            "CREATE TABLE public.curriculum_signature_copy (attempt_id bigint)",
            "CREATE SCHEMA shadow",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(way_around)
        with pytest.raises(errors.RestrictViolation):
            app.execute("DELETE FROM curriculum_signature WHERE attempt_id = %s", [attempt])


def test_the_deploy_check_reports_no_issues_with_production_settings_and_the_app_role(roles):
    environment = dict(os.environ)
    environment.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x7#kq2!vZp9@Lr4$Wm8^Tn3&Yb6*Hc1(Jd5)Fg0-Se7+Ua2=Qi",
            "SIGNATURE_KEY": "m3!Rt8@Vx1#Kp6$Zq9^Lw2&Hn5*Bd7(Cf4)Gj0-Sy3+Ue8=Pa",
            "ALLOWED_HOSTS": "checkoff.school.example",
            "DATABASE_URL": roles.url(roles.app),
        }
    )
    environment["REDIS_URL"] = environment.get("REDIS_URL") or django_settings.REDIS_URL
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
