"""Mail helpers: the development backend that keeps what it sends for the demo mailbox, and the
reminder's message written straight to MIME bytes for SMTP."""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import formatdate, make_msgid
from pathlib import Path
from smtplib import (
    SMTP,
    SMTPDataError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    quoteaddr,
)
from uuid import uuid4

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME


class DemoMailboxBackend(ConsoleBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(email_messages)
        folder = Path(settings.DEMO_MAILBOX_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            (folder / f"{stamp}-{uuid4().hex[:8]}.eml").write_bytes(message.message().as_bytes())
        return sent


@dataclass
class KeptMessage:
    key: str
    sent_at: datetime
    to: str
    subject: str
    text: str
    html: str


def _read(path: Path) -> KeptMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return KeptMessage(
        key=path.stem,
        sent_at=datetime.strptime(path.stem.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC),
        to=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else "",
    )


def kept_messages(limit: int = 100) -> list[KeptMessage]:
    folder = Path(settings.DEMO_MAILBOX_DIR)
    if not folder.exists():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def kept_message(key: str) -> KeptMessage | None:
    path = Path(settings.DEMO_MAILBOX_DIR) / f"{key}.eml"
    if "/" in key or not path.is_file():
        return None
    return _read(path)


# --- A reminder as MIME bytes --------------------------------------------------------------------
#
# Django's EmailMessage builds the same message through the email package: about 1.3 ms of a worker's
# CPU a message (headers encoded and folded one by one, the generator, addresses parsed each time),
# which capped one worker well below 500 reminders a second. A reminder's message has one shape (text
# and HTML alternatives, one recipient), so it is written here directly; tests/notifications/test_mail.py
# checks that it reads, parsed, exactly like Django's.


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str
    to: str
    headers: dict[str, str]


def _header_value(name: str, value: str) -> str:
    """A header's value: ASCII on one line as it is, anything else as RFC 2047 encoded words folded to
    fit 78 characters with the header's name."""
    value = " ".join(value.split())  # no line breaks can get in, whatever the context held
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _part(content_type: str, text: str, *, eight_bit: bool) -> bytes:
    """One alternative, in its canonical form (CRLF line ends, RFC 2046). As it is (8bit, as Django
    sends it) where the server takes 8-bit mail and no line passes SMTP's 998; otherwise base64."""
    # A lone CR is a line end too, as Django's generator reads it: SMTP forbids a bare CR in the data.
    canonical = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode("utf-8")
    if eight_bit and all(len(line) <= 998 for line in canonical.split(b"\r\n")):
        # The line end before the next boundary is the boundary's, not the text's (RFC 2046 5.1.1).
        encoding, body = "8bit", canonical + b"\r\n"
    else:
        encoding, body = "base64", base64.encodebytes(canonical).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode("ascii") + body


def envelope_address(address: str) -> str:
    """An address as SMTP wants it: ASCII ones as they are (after a check), others through Django."""
    if address.isascii() and not any(character in address for character in ' \r\n\t<>,;"()'):
        return address
    return sanitize_address(address, "utf-8")


def letter_bytes(letter: Letter, *, from_email: str, to: str, eight_bit: bool = False) -> bytes:
    """The letter as the bytes SMTP carries, CRLF line ends, text then HTML as alternatives; with
    `eight_bit` (the server said 8BITMIME) the text goes as it is, else in base64."""
    boundary = f"==checkoff-{uuid4().hex}=="
    headers = {
        "Content-Type": f'multipart/alternative; boundary="{boundary}"',
        "MIME-Version": "1.0",
        "Subject": _header_value("Subject", letter.subject),
        "From": from_email,
        "To": to,
        "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        "Message-ID": make_msgid(domain=str(DNS_NAME)),
        **{name: _header_value(name, value) for name, value in letter.headers.items()},
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("utf-8")
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        [
            head,
            b"\r\n",
            delimiter,
            _part("text/plain", letter.text, eight_bit=eight_bit),
            delimiter,
            _part("text/html", letter.html, eight_bit=eight_bit),
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )


def letter_message(letter: Letter) -> EmailMultiAlternatives:
    """The same letter as Django's EmailMessage, for the backends that take one."""
    message = EmailMultiAlternatives(letter.subject, letter.text, to=[letter.to], headers=dict(letter.headers))
    message.attach_alternative(letter.html, "text/html")
    return message


Prepared = tuple[str, bytes] | EmailMultiAlternatives  # (recipient, bytes) for SMTP; else the message


class LetterSender:
    """Sends letters through one open backend. Over SMTP a letter is prepared as bytes written here
    (`prepare` is thread-safe and does no I/O, so it can run ahead in another thread); through any other
    backend (the console, the demo mailbox, the tests' outbox) as the EmailMessage Django builds."""

    def __init__(self, backend: BaseEmailBackend) -> None:
        self.backend = backend
        self.smtp = isinstance(backend, SMTPBackend)
        self.from_email = sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8") if self.smtp else ""
        self.eight_bit = False
        self.pipelining = False
        if self.smtp:
            connection = self._smtp()
            connection.ehlo_or_helo_if_needed()
            self.eight_bit = bool(connection.has_extn("8bitmime"))
            self.pipelining = bool(connection.has_extn("pipelining"))

    def prepare(self, letter: Letter) -> Prepared:
        if self.smtp:
            to = envelope_address(letter.to)
            return to, letter_bytes(letter, from_email=self.from_email, to=to, eight_bit=self.eight_bit)
        return letter_message(letter)

    def _smtp(self) -> SMTP:
        connection = getattr(self.backend, "connection", None)
        if connection is None:
            raise SMTPServerDisconnected("The SMTP connection is not open.")
        return connection

    def begin(self, prepared: Prepared) -> None:
        """Over SMTP, the envelope (MAIL, RCPT, DATA): nothing is delivered until `finish`. Raises what
        SMTP raises; after a refusal the transaction is reset, as smtplib's sendmail does."""
        if not isinstance(prepared, tuple):
            return
        connection, (to, _data) = self._smtp(), prepared
        body = " BODY=8BITMIME" if self.eight_bit else ""
        try:
            if self.pipelining:
                # The three commands in one write, their replies read in order (RFC 2920): one round
                # trip where there were three.
                connection.send(f"MAIL FROM:{quoteaddr(self.from_email)}{body}\r\nRCPT TO:{quoteaddr(to)}\r\nDATA\r\n")
                replies = [connection.getreply() for _command in range(3)]
            else:
                replies = [connection.mail(self.from_email, [body.strip()] if body else [])]
                if replies[0][0] == 250:
                    replies.append(connection.rcpt(to))
                if replies[-1][0] in (250, 251) and len(replies) == 2:
                    connection.putcmd("data")
                    replies.append(connection.getreply())
            _check_envelope(connection, replies, from_email=self.from_email, to=to)
        except SMTPException:
            _reset(connection)
            raise

    def finish(self, prepared: Prepared) -> None:
        """The content, and the server's acceptance of it: the moment the mail has left."""
        if not isinstance(prepared, tuple):
            self.backend.send_messages([prepared])
            return
        connection, (_to, data) = self._smtp(), prepared
        connection.send(DOT_AT_LINE_START.sub(b"..", data) + b".\r\n")
        code, reply = connection.getreply()
        if code != 250:
            _reset(connection)
            raise SMTPDataError(code, reply)

    def send(self, prepared: Prepared) -> None:
        """Both at once. Raises what the backend raises (SMTPException, OSError)."""
        self.begin(prepared)
        self.finish(prepared)


DOT_AT_LINE_START = re.compile(rb"(?m)^\.")  # SMTP's dot-stuffing (RFC 5321 4.5.2)


def _check_envelope(connection: SMTP, replies: list[tuple[int, bytes]], *, from_email: str, to: str) -> None:
    """Raise for the first refusal among MAIL, RCPT and DATA. A server that said 354 to DATA after
    refusing the recipient is owed an empty message's end before the reset."""
    codes = [code for code, _reply in replies] + [0] * (3 - len(replies))
    if codes == [250, codes[1], 354] and codes[1] in (250, 251):
        return
    if codes[2] == 354:
        connection.send(".\r\n")
        connection.getreply()
    if codes[0] != 250:
        raise SMTPSenderRefused(codes[0], replies[0][1], from_email)
    if codes[1] not in (250, 251):
        raise SMTPRecipientsRefused({to: replies[1] if len(replies) > 1 else (codes[1], b"")})
    raise SMTPDataError(codes[2], replies[2][1] if len(replies) > 2 else b"")


def _reset(connection: SMTP) -> None:
    with contextlib.suppress(SMTPServerDisconnected):
        connection.rset()
