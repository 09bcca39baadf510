"""Real identity providers for the single sign-on tests, each run as a process of its own on 127.0.0.1.

`OidcProvider` runs panva's oidc-provider (tests/sso/oidc_provider/server.mjs, on node) and
`SamlIdentityProvider` runs pysaml2's IdP (tests/sso/saml_idp.py). Both are started with the relying
party they serve, read their people from a JSON file that `add_account` rewrites (so people can be added
while they run), and stop their process on `stop()` or when their `with` block ends:

    with OidcProvider(redirect_uris=[f"{live_server.url}/accounts/oidc/idp/login/callback/"]) as idp:
        idp.add_account("ada@example.test", given_name="Ada")
        ...  # point Checkoff's SocialApp at idp.discovery_url with idp.client_id / idp.client_secret
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

ROOT = Path(__file__).resolve().parents[2]
OIDC_PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"

DEFAULT_PASSWORD = "idp-pass-1234"
READY_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 5.0


def free_port() -> int:
    """A port nobody listens on now. The providers need theirs before they start (it is in their issuer
    and entity id), and node cannot pick one and report it in time, so one is picked here."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def install_oidc_provider() -> None:
    """oidc-provider's packages, from package-lock.json, when they are not installed yet.

    `make test` and CI install them first (scripts/sso-providers); this is for a test run by hand."""
    if (OIDC_PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(
            f"The OpenID Connect provider of the single sign-on tests runs on Node.js: {' and '.join(missing)} "
            "missing from PATH (Debian's nodejs package, version 20.19 or newer)"
        )
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=OIDC_PROVIDER_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm ci failed in {OIDC_PROVIDER_DIR}:\n{result.stdout}\n{result.stderr}")


class _ProviderProcess:
    """What both providers share: a scratch folder, the accounts file, and the process's life."""

    name = "identity provider"

    def __init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._scratch = Path(tempfile.mkdtemp(prefix="checkoff-sso-"))
        self.accounts_file = self._scratch / "accounts.json"
        self._log_file = self._scratch / "output.log"
        self._accounts: dict[str, dict[str, Any]] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._write_accounts()

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _cwd(self) -> Path:
        return ROOT

    def _put_account(self, email: str, account: dict[str, Any]) -> None:
        self._accounts[email.lower()] = {"email": email, **account}
        self._write_accounts()

    def _write_accounts(self) -> None:
        """Replaced whole, never written in place: the provider may be reading it at this moment."""
        partial = self.accounts_file.with_suffix(".partial")
        partial.write_text(json.dumps(self._accounts, indent=2))
        os.replace(partial, self.accounts_file)

    def output(self) -> str:
        """What the process has printed so far, stdout and stderr together."""
        return self._log_file.read_text(errors="replace") if self._log_file.exists() else ""

    def start(self) -> Self:
        """Start the process and return once it listens; fail with its output if it does not within 20 s."""
        if self._process is not None:
            return self
        with self._log_file.open("wb") as log:
            self._process = subprocess.Popen(
                self._command(), cwd=self._cwd(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if any(line.startswith(f"READY {self.base_url}") for line in self.output().splitlines()):
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        code = self._process.poll()
        output = self.output()
        self.stop()
        state = f"exited with {code}" if code is not None else f"was not ready within {READY_TIMEOUT_SECONDS:.0f} s"
        raise RuntimeError(f"The {self.name} ({' '.join(self._command())}) {state}. Its output:\n{output}")

    def stop(self) -> None:
        """Terminate the process, wait for it, kill it if it lingers; then remove the scratch folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class OidcProvider(_ProviderProcess):
    """panva's oidc-provider, holding one confidential client (Checkoff) with these redirect URIs.

    Its login page has the fields Email and Password and the button Sign in; a wrong password shows
    "Incorrect email or password." there. Consent is given without a page. Claims: sub (the sha256 hex
    of the lower-case email), email, email_verified, given_name, family_name, name; in the ID token too.
    Discovery advertises only `token_auth_method`, the one the client is registered with."""

    name = "OpenID Connect provider"

    def __init__(
        self,
        redirect_uris: list[str],
        *,
        client_id: str = "checkoff",
        client_secret: str | None = None,
        token_auth_method: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post",  # noqa: S107
    ) -> None:
        super().__init__()
        self.redirect_uris = list(redirect_uris)
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.token_auth_method = token_auth_method
        self.issuer = self.base_url
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"

    def _command(self) -> list[str]:
        # Each value joined to its option with "=": a random secret may begin with "-", which node's
        # argument parser would otherwise take for an option of its own.
        options = {
            "port": str(self.port),
            "client-id": self.client_id,
            "client-secret": self.client_secret,
            "accounts": str(self.accounts_file),
            "token-auth-method": self.token_auth_method,
        }
        command = ["node", "server.mjs", *(f"--{name}={value}" for name, value in options.items())]
        command += [f"--redirect-uri={uri}" for uri in self.redirect_uris]
        return command

    def _cwd(self) -> Path:
        return OIDC_PROVIDER_DIR

    def start(self) -> Self:
        install_oidc_provider()
        return super().start()

    def add_account(
        self,
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        email_verified: bool = True,
        given_name: str = "",
        family_name: str = "",
    ) -> None:
        """A person who can sign in here from now on (or, for a known email, their new details)."""
        self._put_account(
            email,
            {
                "password": password,
                "email_verified": email_verified,
                "given_name": given_name,
                "family_name": family_name,
            },
        )


class SamlIdentityProvider(_ProviderProcess):
    """pysaml2's IdP, knowing one service provider (Checkoff) by its entity id and its ACS URL (HTTP-POST).

    Its login page has the fields Email and Password and the button Sign in; a wrong password shows
    "Incorrect email or password." there. Responses and assertions are signed with a key made for this
    provider, whose certificate is `certificate_pem` (`x509cert` is its body on one line, as python3-saml
    and allauth's `x509cert` take it). Attributes by URI: mail, givenName, sn and subject-id."""

    name = "SAML identity provider"

    def __init__(self, sp_entity_id: str, acs_url: str) -> None:
        super().__init__()
        from tests.sso.saml_idp import make_key_and_certificate

        self.sp_entity_id = sp_entity_id
        self.acs_url = acs_url
        self.entity_id = f"{self.base_url}/metadata"
        self.metadata_url = self.entity_id
        self.sso_url = f"{self.base_url}/sso/redirect"
        self.sso_post_url = f"{self.base_url}/sso/post"
        self.key_file, self.cert_file = make_key_and_certificate(self._scratch)
        self.certificate_pem = self.cert_file.read_text()
        self.x509cert = "".join(line for line in self.certificate_pem.splitlines() if "-----" not in line)

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "tests.sso.saml_idp",
            "--port",
            str(self.port),
            "--sp-entity-id",
            self.sp_entity_id,
            "--acs-url",
            self.acs_url,
            "--accounts",
            str(self.accounts_file),
            "--key",
            str(self.key_file),
            "--cert",
            str(self.cert_file),
        ]

    def add_account(
        self,
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        given_name: str = "",
        family_name: str = "",
        clock_skew_minutes: int = 0,
    ) -> None:
        """A person who can sign in here from now on. With `clock_skew_minutes` (e.g. -30) their
        assertions are dated as by a clock that far off: already expired, which Checkoff must refuse."""
        self._put_account(
            email,
            {
                "password": password,
                "given_name": given_name,
                "family_name": family_name,
                "clock_skew_minutes": clock_skew_minutes,
            },
        )
