"""Safe by default: what a school's server gets when its administrator sets only what the README asks.

Each test starts a process with an environment built from nothing, as a fresh server's would be, so
no variable of the developer's or of this test run leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION_KEY = "p9!Vr2@Kx7#Lm4$Qz8^Wn1&Tb5*Hd3(Jf6)Gs0-Ya9+Uc2=Ei"
UNUSED_DATABASE = "postgresql://checkoff@127.0.0.1:9/checkoff"
UNUSED_REDIS = "redis://127.0.0.1:9/0"


def clean_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """Only what a shell needs, plus `variables`; private servers, if any started, would land in tmp_path."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "CHECKOFF_DATA_DIR": str(tmp_path / "data"),
        **variables,
    }


def run(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def settings_value(name: str, environment: dict[str, str]) -> str:
    result = run(
        ["-c", f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"],
        {**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_migrate_without_database_url_stops_with_the_message_and_starts_nothing(tmp_path):
    result = run(["manage.py", "migrate"], clean_environment(tmp_path))

    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert "REDIS_URL is not set" in result.stderr
    assert "make run" in result.stderr  # how a developer gets the private servers instead
    assert "Traceback" not in result.stderr
    # No private PostgreSQL or Redis was started, nor their folder made.
    assert not (tmp_path / "data").exists()


def test_a_missing_redis_url_alone_is_named(tmp_path):
    environment = clean_environment(tmp_path, DATABASE_URL=UNUSED_DATABASE, SECRET_KEY=PRODUCTION_KEY)
    result = run(["manage.py", "check"], environment)

    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr
    assert "DATABASE_URL" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_debug_is_off_unless_set(tmp_path):
    environment = clean_environment(
        tmp_path, DATABASE_URL=UNUSED_DATABASE, REDIS_URL=UNUSED_REDIS, SECRET_KEY=PRODUCTION_KEY
    )
    assert settings_value("DEBUG", environment) == "False"
    # With it off, what production needs follows: no local hosts allowed, HTTPS only, SMTP mail.
    assert settings_value("ALLOWED_HOSTS", environment) == "[]"
    assert settings_value("SECURE_SSL_REDIRECT", environment) == "True"
    assert settings_value("EMAIL_BACKEND", environment) == repr("django.core.mail.backends.smtp.EmailBackend")
    assert settings_value("DEBUG", {**environment, "DEBUG": "1"}) == "True"


def test_debug_off_refuses_to_start_without_a_secret_key(tmp_path):
    environment = clean_environment(tmp_path, DATABASE_URL=UNUSED_DATABASE, REDIS_URL=UNUSED_REDIS)
    result = run(["manage.py", "check"], environment)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "SIGNATURE_KEY"])
def test_the_published_development_key_is_refused_with_debug_off(tmp_path, name):
    from config.settings import DEVELOPMENT_SECRET_KEY

    keys = {"SECRET_KEY": PRODUCTION_KEY, name: DEVELOPMENT_SECRET_KEY}
    environment = clean_environment(tmp_path, DATABASE_URL=UNUSED_DATABASE, REDIS_URL=UNUSED_REDIS, **keys)
    result = run(["manage.py", "check"], environment)

    assert result.returncode != 0
    assert f"{name} is the development key" in result.stderr


def test_the_development_key_serves_only_with_debug_on(tmp_path):
    from config.settings import DEVELOPMENT_SECRET_KEY

    environment = clean_environment(tmp_path, DATABASE_URL=UNUSED_DATABASE, REDIS_URL=UNUSED_REDIS, DEBUG="1")
    assert settings_value("SECRET_KEY", environment) == repr(DEVELOPMENT_SECRET_KEY)


@pytest.mark.parametrize("script", ["scripts/test.py", "scripts/run.py"])
def test_the_make_scripts_start_no_private_server_unless_asked(tmp_path, script):
    result = run([script], clean_environment(tmp_path))

    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr
    assert "EMBEDDED_SERVICES=1" in result.stderr
    assert not (tmp_path / "data").exists()


def test_make_run_test_and_bench_ask_for_the_private_servers_and_run_sets_debug():
    """The flag is set where the Makefile runs them: development, never an installed server."""
    makefile = (ROOT / "Makefile").read_text()
    recipes = {target: makefile.split(f"\n{target}: ", 1)[1].split("\n\n", 1)[0] for target in ("run", "test", "bench")}
    assert "DEBUG=1 EMBEDDED_SERVICES=1" in recipes["run"]
    assert "EMBEDDED_SERVICES=1" in recipes["test"]
    assert "EMBEDDED_SERVICES=1" in recipes["bench"]
    assert "DEBUG=1" not in recipes["test"]  # tests/environment.py decides how the suite loads settings


PRODUCTION_IMPORTS = """
import sys

import config.wsgi  # the web server's application: django.setup(), every app's ready()
import config.urls  # loaded on the first request
from config.celery import app

app.loader.import_default_modules()  # what a worker or beat imports as it starts: every tasks.py

project = ("accounts", "curriculum", "externships", "certifications", "notifications", "config")
loaded = [name for name in sys.modules if name.split(".")[0] in project]
print("\\n".join(loaded))
"""


def test_a_production_process_loads_no_demo_or_seed_code(tmp_path):
    environment = clean_environment(
        tmp_path, DATABASE_URL=UNUSED_DATABASE, REDIS_URL=UNUSED_REDIS, SECRET_KEY=PRODUCTION_KEY, DEBUG="0"
    )
    result = run(["-c", PRODUCTION_IMPORTS], environment)

    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert "config.wsgi" in loaded and "notifications.tasks" in loaded  # it loaded what a server loads
    assert [name for name in loaded if "demo" in name.split(".")[-1] or "seed" in name] == []
