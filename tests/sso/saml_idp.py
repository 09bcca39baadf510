"""A real SAML 2.0 identity provider for the single sign-on tests, on pysaml2's own IdP (`saml2.server.Server`).

    python -m tests.sso.saml_idp --port N --sp-entity-id ID --acs-url URL --accounts FILE [--key KEY --cert CERT]

It knows one service provider, Checkoff, from metadata written here out of its entity id and its
assertion consumer service (HTTP-POST). Its own entity id is http://127.0.0.1:N/metadata, where its
metadata is served; single sign-on takes the HTTP-Redirect binding at /sso/redirect and HTTP-POST at
/sso/post. A person signs in on a form of its own (Email, Password, Sign in) checked against the accounts
file, a JSON object keyed by lower-case email as the OpenID provider's (read again on each request, so a
test may add people while it runs):

    {"ada@example.test": {"email": ..., "password": ..., "given_name": ..., "family_name": ...,
                          "id": optional stable id, "clock_skew_minutes": optional, e.g. -30}}

The response and its assertion are both signed (RSA-SHA256, SHA-256 digests); the attributes go by their
URIs (mail, givenName, sn, subject-id). An account with `clock_skew_minutes` is answered as if this
server's clock were that far off: see `_clock_shifted_by`. Without --key/--cert a key and a self-signed
certificate are made for the run. Prints `READY <base url>` once it listens. It is a test program: plain
HTTP on 127.0.0.1, one thread per request.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import hashlib
import hmac
import html
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

with warnings.catch_warnings():
    # pysaml2 7.5 names a cipher mode where cryptography no longer keeps it, and says so on import.
    warnings.filterwarnings("ignore", message="CFB has been moved")
    import saml2.time_util
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT
    from saml2.server import Server
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

# How long an assertion is good for, as a real IdP's short window: far shorter than any skew a test sets.
ASSERTION_LIFETIME_MINUTES = 5
# Where the stable subject-id is scoped (the attribute's value is `unique@scope`).
SUBJECT_ID_SCOPE = "idp.test"

# pysaml2 keeps no per-response clock: the shift of `_clock_shifted_by` is process-wide, so every response
# is built under this lock, and one person's skew never reaches another's response built alongside.
_RESPONSE_LOCK = threading.Lock()


def stable_id(account: dict[str, Any]) -> str:
    """The person's id at this IdP, the same across runs: their own `id`, else their email's digest."""
    return str(account.get("id") or hashlib.sha256(account["email"].lower().encode()).hexdigest())


def sp_metadata(sp_entity_id: str, acs_url: str) -> str:
    """Checkoff as this IdP knows it: only its entity id and where assertions are posted."""
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID={quoteattr(sp_entity_id)}>
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"
                      AuthnRequestsSigned="false" WantAssertionsSigned="true">
    <md:NameIDFormat>{NAMEID_FORMAT_EMAILADDRESS}</md:NameIDFormat>
    <md:NameIDFormat>{NAMEID_FORMAT_PERSISTENT}</md:NameIDFormat>
    <md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location={quoteattr(acs_url)} index="1"
                                 isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


def idp_config(base_url: str, *, sp_entity_id: str, acs_url: str, key_file: Path, cert_file: Path) -> IdPConfig:
    """pysaml2's configuration, built here rather than read from a file: everything in it is per run."""
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise SystemExit("The SAML identity provider signs with the xmlsec1 program: apt-get install xmlsec1")
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base_url}/metadata",
            "name": "Checkoff test identity provider",
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT),
                            (f"{base_url}/sso/post", BINDING_HTTP_POST),
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT],
                    "want_authn_requests_signed": False,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": ASSERTION_LIFETIME_MINUTES},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        },
                    },
                },
            },
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "xmlsec_binary": xmlsec,
            "metadata": {"inline": [sp_metadata(sp_entity_id, acs_url)]},
        }
    )
    return config


def make_key_and_certificate(
    directory: Path,
    *,
    valid_from: datetime.timedelta = datetime.timedelta(hours=-1),
    valid_until: datetime.timedelta = datetime.timedelta(days=1),
) -> tuple[Path, Path]:
    """An RSA key and a self-signed certificate for one run; by default valid for a day, from an hour
    ago (`valid_from` and `valid_until` count from now: negative is in the past)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Checkoff test SAML identity provider")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid_from)
        .not_valid_after(now + valid_until)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "idp.key", directory / "idp.crt"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@contextlib.contextmanager
def _clock_shifted_by(minutes: float) -> Iterator[None]:
    """While open, pysaml2 reads a clock that is `minutes` off (behind when negative).

    Every instant pysaml2 writes into a response (IssueInstant of the response and the assertion,
    AuthnInstant, NotBefore, NotOnOrAfter of the conditions and the subject confirmation) comes from
    `saml2.time_util`: `instant()` through `time.gmtime()` and `in_a_while()` through `datetime.now()`,
    each looked up as a global of that module when called. Swapping those two globals shifts them all,
    wherever pysaml2 imported the functions by name, and nothing outside pysaml2 sees it. The caller holds
    `_RESPONSE_LOCK`, since the swap is process-wide."""
    if not minutes:
        yield
        return
    offset = datetime.timedelta(minutes=minutes)

    class ShiftedTime:
        """The `time` module, but for `gmtime()` with no argument."""

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def gmtime(seconds: float | None = None) -> time.struct_time:
            return time.gmtime(time.time() + offset.total_seconds() if seconds is None else seconds)

    class ShiftedDatetime(datetime.datetime):
        """`datetime`, but for `now()`."""

        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            return datetime.datetime.now(tz) + offset

    module: Any = saml2.time_util
    real_time, real_datetime = module.time, module.datetime
    module.time, module.datetime = ShiftedTime(), ShiftedDatetime
    try:
        yield
    finally:
        module.time, module.datetime = real_time, real_datetime


class IdentityProvider:
    """The IdP's state for a run: pysaml2's server, its metadata, and where accounts are read from."""

    def __init__(self, config: IdPConfig, accounts_file: Path) -> None:
        self.server = Server(config=config)
        self.metadata: bytes = create_metadata_string(None, config=config)
        self.accounts_file = accounts_file

    def authenticate(self, email: str, password: str) -> dict[str, Any] | None:
        """The account these credentials open, or None; the file is read now, so new accounts count."""
        accounts: dict[str, dict[str, Any]] = json.loads(self.accounts_file.read_text())
        account = accounts.get(email.strip().lower())
        if account is None or not hmac.compare_digest(
            hashlib.sha256(password.encode()).digest(), hashlib.sha256(str(account["password"]).encode()).digest()
        ):
            return None
        return account

    def parse(self, saml_request: str, binding: str) -> Any:
        """The AuthnRequest, checked by pysaml2: known SP, its own ACS URL, well formed and recent."""
        return self.server.parse_authn_request(saml_request, binding).message

    def respond(self, authn_request: Any, account: dict[str, Any]) -> tuple[str, str]:
        """The signed Response for this person to this request, base64-encoded, and where it goes."""
        args = self.server.response_args(authn_request, [BINDING_HTTP_POST])
        args.pop("binding", None)
        policy = args.get("name_id_policy")
        person_id = stable_id(account)
        if policy is not None and policy.format == NAMEID_FORMAT_PERSISTENT:
            name_id = saml.NameID(format=NAMEID_FORMAT_PERSISTENT, text=person_id)
        else:
            name_id = saml.NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=account["email"])
        identity = {
            "mail": [account["email"]],
            "givenName": [account.get("given_name", "")],
            "sn": [account.get("family_name", "")],
            "subject-id": [f"{person_id}@{SUBJECT_ID_SCOPE}"],
        }
        with _RESPONSE_LOCK, _clock_shifted_by(float(account.get("clock_skew_minutes") or 0)):
            response = self.server.create_authn_response(
                identity,
                name_id=name_id,
                authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED},
                sign_response=True,
                sign_assertion=True,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
                **args,
            )
        return base64.b64encode(str(response).encode()).decode(), args["destination"]


def _page(title: str, body: str) -> bytes:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 24rem; margin: 3rem auto; padding: 0 1rem; }}
label {{ display: block; margin-top: 1rem; }}
input[type=email], input[type=password] {{ display: block; width: 100%; padding: .4rem; box-sizing: border-box; }}
button {{ margin-top: 1.2rem; padding: .5rem 1.2rem; }}
.error {{ color: #a00; border: 1px solid #a00; padding: .5rem; }}
</style>
</head>
<body>
{body}
</body>
</html>
""".encode()


def login_page(saml_request: str, relay_state: str, binding: str, *, email: str = "", error: str = "") -> bytes:
    """The sign-in form; it carries the SP's request along in hidden fields, so the IdP keeps no session."""
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return _page(
        "Sign in — Test SAML identity provider",
        f"""<h1>Test SAML identity provider</h1>
<p>Sign in to continue to Checkoff.</p>
{alert}
<form method="post" action="/login" autocomplete="off">
<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">
<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">
<input type="hidden" name="binding" value="{html.escape(binding)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="{html.escape(email)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>""",
    )


def post_to_sp_page(acs_url: str, saml_response: str, relay_state: str) -> bytes:
    """The HTTP-POST binding's page: submits itself to Checkoff, with a button should scripts be off."""
    return _page(
        "Signing in — Test SAML identity provider",
        f"""<p>Returning to Checkoff…</p>
<form id="saml-post" method="post" action="{html.escape(acs_url)}">
<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">
<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">
<button type="submit">Continue</button>
</form>
<script>document.getElementById("saml-post").submit();</script>""",
    )


class Handler(BaseHTTPRequestHandler):
    """The IdP's four addresses: /metadata, /sso/redirect, /sso/post and /login."""

    idp: IdentityProvider
    server_version = "CheckoffTestSamlIdP"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        if url.path == "/metadata":
            self._send(HTTPStatus.OK, self.idp.metadata, "application/samlmetadata+xml")
        elif url.path == "/sso/redirect":
            self._start(query, BINDING_HTTP_REDIRECT)
        else:
            self._send(HTTPStatus.NOT_FOUND, _page("Not found", "<h1>Not found</h1>"))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
        if url.path == "/sso/post":
            self._start(form, BINDING_HTTP_POST)
        elif url.path == "/login":
            self._login(form)
        else:
            self._send(HTTPStatus.NOT_FOUND, _page("Not found", "<h1>Not found</h1>"))

    def _start(self, params: dict[str, str], binding: str) -> None:
        """The SP's request arrives: checked now, so a bad one never reaches the sign-in form."""
        saml_request = params.get("SAMLRequest", "")
        try:
            self.idp.parse(saml_request, binding)
        except Exception as error:
            self._refuse(error)
            return
        self._send(HTTPStatus.OK, login_page(saml_request, params.get("RelayState", ""), binding))

    def _login(self, form: dict[str, str]) -> None:
        saml_request, relay_state = form.get("SAMLRequest", ""), form.get("RelayState", "")
        binding = BINDING_HTTP_POST if form.get("binding") == BINDING_HTTP_POST else BINDING_HTTP_REDIRECT
        try:
            authn_request = self.idp.parse(saml_request, binding)
        except Exception as error:
            self._refuse(error)
            return
        email = form.get("email", "")
        account = self.idp.authenticate(email, form.get("password", ""))
        if account is None:
            page = login_page(saml_request, relay_state, binding, email=email, error="Incorrect email or password.")
            self._send(HTTPStatus.OK, page)
            return
        saml_response, acs_url = self.idp.respond(authn_request, account)
        self._send(HTTPStatus.OK, post_to_sp_page(acs_url, saml_response, relay_state))

    def _refuse(self, error: Exception) -> None:
        self.log_error("refused a SAML request: %r", error)
        body = f"<h1>This sign-in request was refused</h1><p>{html.escape(str(error))}</p>"
        self._send(HTTPStatus.BAD_REQUEST, _page("Refused", body))

    def _send(self, status: HTTPStatus, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """To stderr, as the base class does, which the tests keep to show when a start fails."""
        sys.stderr.write(f"saml_idp: {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--acs-url", required=True, help="the SP's assertion consumer service (HTTP-POST)")
    parser.add_argument("--accounts", type=Path, required=True, help="JSON file of accounts, keyed by email")
    parser.add_argument("--key", type=Path, help="PEM private key (made for the run when absent)")
    parser.add_argument("--cert", type=Path, help="PEM certificate of that key")
    args = parser.parse_args(argv)
    if (args.key is None) != (args.cert is None):
        parser.error("--key and --cert go together")

    # A stop (SIGTERM) unwinds as an exit does, so the made key's folder is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="checkoff-saml-idp-") as scratch:
        key_file, cert_file = (args.key, args.cert) if args.key else make_key_and_certificate(Path(scratch))
        base_url = f"http://127.0.0.1:{args.port}"
        config = idp_config(
            base_url, sp_entity_id=args.sp_entity_id, acs_url=args.acs_url, key_file=key_file, cert_file=cert_file
        )
        Handler.idp = IdentityProvider(config, args.accounts)
        httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
        httpd.daemon_threads = True
        print(f"READY {base_url}", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
