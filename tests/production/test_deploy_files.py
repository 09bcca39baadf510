"""deploy/'s files say what the app reads and run what is installed: quick checks, no servers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.production.stack import DEPLOY, ROOT, environment_file, unit_command

UNITS = ["checkoff-web.service", "checkoff-worker.service", "checkoff-beat.service"]


def variables_read_by_settings() -> set[str]:
    """Every environment variable config/ reads, however it asks (os.environ, env_bool, env_list, or a
    function given the environment as `environ`, as config/single_sign_on.py is)."""
    names: set[str] = set()
    for path in (ROOT / "config").glob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"(?:environ\.get|env_bool|env_list|os\.getenv)\(\s*\"([A-Z][A-Z0-9_]*)\"", text))
        names |= set(re.findall(r"environ\[\"([A-Z][A-Z0-9_]*)\"\]", text))
    return names


def test_the_environment_file_lists_every_setting_the_app_reads():
    text = (DEPLOY / "checkoff.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    read = variables_read_by_settings()
    assert {"SECRET_KEY", "DATABASE_URL", "PROXY_HOPS", "SENTRY_DSN", "SSO_SAML_ENTITY_ID"} <= read  # found
    assert read - listed == set()


def test_each_setting_has_its_line_of_explanation():
    lines = (DEPLOY / "checkoff.env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^#? ?[A-Z][A-Z0-9_]*=", line):
            assert lines[number - 1].startswith("# ") and not re.match(r"^# ?[A-Z][A-Z0-9_]*=", lines[number - 1]), line


def test_a_shell_reads_the_environment_file_as_systemd_does():
    """`set -a; . file` (the README's commands) and EnvironmentFile= give the same values."""
    program = "set -a; . deploy/checkoff.env.example; set +a; env -0"
    result = subprocess.run(["sh", "-c", program], cwd=ROOT, env={}, capture_output=True, check=True, timeout=30)
    from_shell = dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    for key, value in environment_file().items():
        assert from_shell[key] == value, key


def test_production_values_are_the_secure_ones():
    settings = environment_file()
    assert settings["DEBUG"] == "0"
    assert settings["SECRET_KEY"] == settings["SIGNATURE_KEY"] == "CHANGE-ME"  # nothing usable ships
    assert settings["PROXY_HOPS"] == "1"
    assert settings["CONN_MAX_AGE"] == "60"
    assert settings["SITE_URL"].startswith("https://")


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_runs_an_installed_program_from_the_virtualenv_as_the_app_user(unit):
    command, directory = unit_command(unit)
    assert directory == "/srv/checkoff"
    assert command[0].startswith("/srv/checkoff/.venv/bin/")
    assert (Path(sys.executable).parent / Path(command[0]).name).exists(), f"{command[0]} is not installed"
    text = (DEPLOY / unit).read_text()
    assert "\nUser=checkoff\n" in text
    assert "\nEnvironmentFile=/etc/checkoff/checkoff.env\n" in text


def test_the_nginx_body_cap_is_above_every_upload_the_app_accepts():
    cap = re.search(r"client_max_body_size (\d+)m;", (DEPLOY / "nginx" / "checkoff.conf").read_text())
    assert cap
    settings = environment_file()
    largest = max(int(settings["COMPLIANCE_UPLOAD_MAX_BYTES"]), int(settings["ROSTER_UPLOAD_MAX_BYTES"]))
    assert int(cap.group(1)) * 1024 * 1024 > largest


def test_the_procfile_starts_the_units_programs():
    processes = dict(
        line.split(": ", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line and ":" in line
    )
    assert set(processes) == {"web", "worker", "beat"}
    for name, unit in zip(("web", "worker", "beat"), UNITS, strict=True):
        program = Path(unit_command(unit)[0][0]).name
        assert processes[name].split()[0] == program
